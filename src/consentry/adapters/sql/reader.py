"""A read transaction's access: the ledger, the projection, the catalog and the registers."""

from __future__ import annotations

from consentry.adapters.sql.catalog import CatalogReads
from consentry.adapters.sql.ledger import LedgerReads
from consentry.adapters.sql.projection import ProjectionReads
from consentry.adapters.sql.registers import RegisterReads


class Reader(LedgerReads, ProjectionReads, CatalogReads, RegisterReads):
    """Read access within one consistent snapshot."""
