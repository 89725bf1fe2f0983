"""Overzicht: what the admin app's first page tells at a glance, from a handful of cheap reads.

The ledger's integrity is the quick look every decision takes (`ledger_guard`: the head,
the last event, the last exported checkpoint), and the same look at the admin audit log, not
a walk of the chains (`ledger verify`). Recent imports are the admin app's imports as its audit
log records them (`imported`: who, when, the file, its accounting and how it ended); imports
from the CLI or the API are not among them. The data-subject requests overdue and due within a
week are two counts on the requests' (state, deadline) index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consentry.domain.campaigns import CampaignStatus
from consentry.domain.users import AuditAction, AuditEntry
from consentry.domain.vocabulary import NOT_FROM_SUBJECT
from consentry.services import checkpoints, dsr, ledger_guard
from consentry.services.app import App
from consentry.services.errors import InputError, LedgerDamaged

#: Notices owed are counted up to this many ("more than").
NOTICES_CAP = 10_000
_RUNNING = frozenset({CampaignStatus.SENDING.value, CampaignStatus.PAUSED.value})
#: Recent imports shown.
RECENT_IMPORTS = 5


@dataclass(frozen=True, slots=True)
class Running:
    """A campaign being sent or paused."""

    key: str
    status: CampaignStatus
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RecentImport:
    """One import run from the admin app: rows in = imported + merged + rejected, and its state."""

    at: datetime
    by: str | None
    file: str
    #: `done` or `failed` (a failed run has no counts).
    state: str
    rows: int
    imported: int
    merged: int
    rejected: int

    @staticmethod
    def of(entry: AuditEntry) -> RecentImport:
        """The import an `imported` audit entry records (entries before `state` was kept were done)."""
        d = entry.detail

        def count(key: str) -> int:
            value = d.get(key, 0)
            return value if isinstance(value, int) else 0

        return RecentImport(
            at=entry.at,
            by=entry.actor,
            file=entry.subject or "",
            state=str(d.get("state", "done")),
            rows=count("rows"),
            imported=count("imported"),
            merged=count("merged"),
            rejected=count("rejected"),
        )


@dataclass(frozen=True, slots=True)
class Overview:
    """The overview's figures."""

    #: None when the quick look found nothing wrong, else what is wrong.
    damage: str | None
    events: int
    checkpoint_at: datetime | None
    checkpoint_size: int | None
    #: Art. 14 notices owed, counted up to NOTICES_CAP (`notices_capped` when there are more).
    notices_owed: int
    notices_capped: bool
    campaigns: list[Running]
    imports: list[RecentImport]
    #: Open requests overdue and due soon; None when not asked for (a role that does not see them).
    requests: dsr.DueCounts | None = None


def overview(app: App, *, requests: bool = False) -> Overview:
    """The ledger's quick integrity check, notices owed, campaigns running and recent imports;
    with `requests`, the data-subject requests overdue and due within a week (two indexed counts)."""
    damage: str | None = None
    with app.store.reader() as r:
        try:
            ledger_guard.check(app, r)
            ledger_guard.check_audit_log(app, r)
        except LedgerDamaged as exc:
            damage = str(exc)
        head, _ = r.head()
        owed = r.notices_owed([s.value for s in NOT_FROM_SUBJECT], NOTICES_CAP + 1)
        rows = [row for row in r.campaign_rows() if row["status"] in _RUNNING]
        imported = r.audit_entries(AuditAction.IMPORTED, RECENT_IMPORTS)
        due = dsr.due_counts(app, r) if requests else None
    try:
        cp = checkpoints.last_exported(app.settings)
    except InputError as exc:
        cp, damage = None, damage or f"{exc.field}: {exc.message}"
    return Overview(
        damage=damage,
        events=head,
        checkpoint_at=cp.time if cp is not None else None,
        checkpoint_size=cp.size if cp is not None else None,
        notices_owed=min(owed, NOTICES_CAP),
        notices_capped=owed > NOTICES_CAP,
        campaigns=[Running(row["key"], CampaignStatus(row["status"]), row["updated_at"]) for row in rows],
        imports=[RecentImport.of(e) for e in imported],
        requests=due,
    )
