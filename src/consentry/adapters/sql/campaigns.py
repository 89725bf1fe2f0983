"""Campaigns and their send queue as methods of a Reader and a Writer (`services.ports.CampaignQueue`).

The SQL is `campaign_queue`'s and `campaign_reports`'; these methods run it on the transaction's connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from consentry.adapters.sql import campaign_queue as q
from consentry.adapters.sql import campaign_reports as reports
from consentry.adapters.sql import send_workers
from consentry.adapters.sql.audience import AudienceQuery
from consentry.adapters.sql.connected import Connected
from consentry.domain.campaigns import CampaignStatus, MessageStatus
from consentry.services.ports import Claim, Judging


class CampaignReads(Connected):
    """Stored campaigns and where their messages stand."""

    def campaign(self, key: str, lock: bool = False) -> dict[str, Any] | None:
        """A campaign's row; with `lock`, locked for the transaction (PostgreSQL)."""
        return q.get(self.conn, key, lock=lock)

    def campaign_rows(self) -> list[dict[str, Any]]:
        """Every campaign's row, newest first."""
        return q.all_rows(self.conn)

    def message_counts(self, key: str) -> dict[str, int]:
        """A campaign's messages by status."""
        return reports.counts(self.conn, key)

    def skipped_by_rule(self, key: str) -> dict[str, int]:
        """A campaign's skipped messages by the rule that excluded them."""
        return reports.skipped_by_rule(self.conn, key)

    def campaign_messages(self, key: str, status: MessageStatus | None = None) -> list[dict[str, Any]]:
        """A campaign's message rows."""
        return reports.messages(self.conn, key, status)

    def unsubscribed_since(self, key: str) -> int:
        """How many people the campaign reached unsubscribed after their message."""
        return reports.unsubscribed_since(self.conn, key)


class CampaignWrites(CampaignReads):
    """Defining campaigns and working their send queue, in the write transaction."""

    def insert_campaign(self, key: str, definition: dict[str, Any], now: datetime) -> None:
        """Store a new campaign as a draft."""
        q.insert(self.conn, key, definition, now)

    def replace_campaign(self, key: str, definition: dict[str, Any], now: datetime) -> None:
        """Replace a draft's definition."""
        q.replace_definition(self.conn, key, definition, now)

    def set_campaign_status(
        self,
        key: str,
        status: CampaignStatus,
        now: datetime,
        note: str | None = None,
        reset_errors: bool = False,
    ) -> None:
        """Move a campaign to a status, with a note for the operator."""
        q.set_status(self.conn, key, status, now, note, reset_errors)

    def add_campaign_errors(self, key: str, n: int, now: datetime) -> int:
        """Count more sending errors; the campaign's total."""
        return q.add_errors(self.conn, key, n, now)

    def fill_queue(self, key: str, judging: Judging, now: datetime) -> int:
        """Queue the allowed points of a judged audience, the rest as skipped; how many rows."""
        assert isinstance(judging, AudienceQuery)  # compiled by this store
        return q.fill(self.conn, key, judging.keyed, judging.params, now)

    def claim(self, key: str, worker: str, n: int, now: datetime) -> list[Claim]:
        """Claim up to n due messages."""
        return q.claim(self.conn, key, worker, n, now)

    def skip(self, key: str, rules: dict[int, str]) -> None:
        """Mark claimed messages skipped by a rule."""
        q.skip(self.conn, key, rules)

    def mark_sent(self, key: str, sent: Sequence[tuple[int, str, bool]], now: datetime) -> None:
        """Mark messages sent."""
        q.mark_sent(self.conn, key, sent, now)

    def retry(self, key: str, later: Sequence[tuple[int, str, datetime]]) -> None:
        """Queue messages again for later, with the error."""
        q.retry(self.conn, key, later)

    def fail(self, key: str, failed: Sequence[tuple[int, str]]) -> None:
        """Mark messages failed, with the error."""
        q.fail(self.conn, key, failed)

    def release(self, key: str, points: Sequence[int], worker: str) -> None:
        """Give a worker's unsent claims back to the queue."""
        send_workers.release(self.conn, key, points, worker)

    def claimants(self, key: str) -> list[str]:
        """The workers that hold claims."""
        return send_workers.claimants(self.conn, key)

    def requeue_claims(self, key: str, workers: Sequence[str] | None = None) -> int:
        """Give claims (of these workers) back to the queue."""
        return send_workers.requeue_claims(self.conn, key, workers)

    def next_due(self, key: str) -> datetime | None:
        """When the next queued message is due."""
        return reports.next_due(self.conn, key)

    def dead_workers(self, workers: Sequence[str], me: str) -> list[str]:
        """Those of these workers that no longer run."""
        return send_workers.dead_workers(self.conn, workers, me)
