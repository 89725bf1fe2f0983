"""The campaign ports: stored campaigns, their send queue and the lock of a send worker.

Part of `services/ports.py`'s read and write transactions (`Reading`, `Writing`);
`adapters/sql/campaigns.py` and `campaign_queue.py` implement them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

from consentry.domain.campaigns import CampaignStatus, MessageStatus

if TYPE_CHECKING:
    from consentry.services.ports import Judging


#: A queued message a worker has claimed: its point's number (what the queue is keyed by), its id
#: (None when the point was erased since the queue was filled), how often it was tried, and
#: whether it carried the Art. 14 notice (0 or 1 as SQLite stores it; a bool from PostgreSQL).
#: A plain tuple, as the store's driver reads it: a claim hands out up to thousands of rows, and
#: a wrapper object per row cost as much as reading them (docs/performance.md).
Claim: TypeAlias = tuple[int, str | None, int, int]


class CampaignReader(Protocol):
    """Stored campaigns and where their messages stand."""

    def campaign(self, key: str, lock: bool = False) -> dict[str, Any] | None:
        """A campaign's row (key, definition, status, errors, note, created_at, updated_at)."""

    def campaign_rows(self) -> list[dict[str, Any]]:
        """Every campaign's row, newest first."""

    def message_counts(self, key: str) -> dict[str, int]:
        """A campaign's messages by status."""

    def skipped_by_rule(self, key: str) -> dict[str, int]:
        """A campaign's skipped messages by the rule that excluded them."""

    def campaign_messages(self, key: str, status: MessageStatus | None = None) -> list[dict[str, Any]]:
        """A campaign's message rows."""

    def unsubscribed_since(self, key: str) -> int:
        """How many people the campaign reached unsubscribed after their message was sent."""


class CampaignQueue(CampaignReader, Protocol):
    """Defining campaigns and working their send queue, in the ledger's transaction."""

    def insert_campaign(self, key: str, definition: dict[str, Any], now: datetime) -> None:
        """Store a new campaign as a draft; AlreadyExists when the key is taken."""

    def replace_campaign(self, key: str, definition: dict[str, Any], now: datetime) -> None:
        """Replace a draft's definition."""

    def set_campaign_status(
        self,
        key: str,
        status: CampaignStatus,
        now: datetime,
        note: str | None = None,
        reset_errors: bool = False,
    ) -> None:
        """Move a campaign to a status, with a note for the operator."""

    def add_campaign_errors(self, key: str, n: int, now: datetime) -> int:
        """Count more sending errors; the campaign's total."""

    def fill_queue(self, key: str, judging: Judging, now: datetime) -> int:
        """Queue the allowed points of a judged audience, the rest as skipped; how many rows."""

    def claim(self, key: str, worker: str, n: int, now: datetime) -> list[Claim]:
        """Claim up to n due messages."""

    def skip(self, key: str, rules: dict[int, str]) -> None:
        """Mark claimed messages skipped by a rule (by point number)."""

    def mark_sent(self, key: str, sent: Sequence[tuple[int, str, bool]], now: datetime) -> None:
        """Mark messages sent (point number, message key, with the Art. 14 notice)."""

    def retry(self, key: str, later: Sequence[tuple[int, str, datetime]]) -> None:
        """Queue messages again for later (point number, the error, when)."""

    def fail(self, key: str, failed: Sequence[tuple[int, str]]) -> None:
        """Mark messages failed (point number, the error)."""

    def release(self, key: str, points: Sequence[int], worker: str) -> None:
        """Give a worker's unsent claims (point numbers) back to the queue."""

    def claimants(self, key: str) -> list[str]:
        """The workers that hold claims."""

    def requeue_claims(self, key: str, workers: Sequence[str] | None = None) -> int:
        """Give claims (of these workers) back to the queue."""

    def next_due(self, key: str) -> datetime | None:
        """When the next queued message is due."""

    def dead_workers(self, workers: Sequence[str], me: str) -> list[str]:
        """Those of these workers that no longer run."""


class WorkerLock(Protocol):
    """Announces a live send worker while held."""

    def acquire(self) -> None:
        """Take the lock; WorkerBusy when the store admits no more workers."""

    def release(self) -> None:
        """Let go of the lock."""
