"""A read transaction's access: the ledger, the projection, the catalog, the registers, the campaigns
and the audience (`services.ports.Reading`)."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from consentry.adapters.crypto.vault import Vault
from consentry.adapters.sql.audience import AudienceReads
from consentry.adapters.sql.audit import AuditReads
from consentry.adapters.sql.campaigns import CampaignReads
from consentry.adapters.sql.catalog import CatalogReads
from consentry.adapters.sql.connected import Pooled
from consentry.adapters.sql.deciding import DecisionReads
from consentry.adapters.sql.ledger import LedgerReads
from consentry.adapters.sql.requests import RequestReads
from consentry.adapters.sql.retention import RetentionReads
from consentry.adapters.sql.search import SearchReads
from consentry.adapters.sql.suppressions import SuppressionReads


class Reader(
    AudienceReads,
    SearchReads,
    DecisionReads,
    LedgerReads,
    CatalogReads,
    CampaignReads,
    AuditReads,
    SuppressionReads,
    RetentionReads,
    RequestReads,
):
    """Read access within one consistent snapshot."""

    def __init__(self, conn: Connection | Pooled, vault: Vault) -> None:
        super().__init__(conn)
        self.vault = vault
