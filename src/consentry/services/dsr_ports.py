"""The request ports: stored data-subject requests, and the points of the person who made one.

Part of `services/ports.py`'s read and write transactions (`Reading`, `Writing`), so a
request's row changes in the same transaction as the ledger events that record the
change; `adapters/sql/requests.py` implements them, `tests/unit/fakes.py` in memory.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime
from typing import Protocol

from consentry.domain.dsr import DsrRequest, RequestState


class RequestReader(Protocol):
    """Stored requests, and the contact a point belongs to."""

    def dsr(self, request_id: str) -> DsrRequest | None:
        """A request by id."""

    def dsr_requests(
        self,
        states: Set[RequestState] | None = None,
        deadline_before: datetime | None = None,
        contact_point_id: str | None = None,
        *,
        deadline_until: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[DsrRequest]:
        """Requests in these states (all when None), with a deadline before a moment (or at the
        latest `deadline_until`), on a point; by deadline, earliest first (then received, id);
        `limit` of them from place `offset`."""

    def count_dsr_requests(
        self, states: Set[RequestState] | None = None, *, deadline_until: datetime | None = None
    ) -> int:
        """How many requests `dsr_requests` gives with the same filters (one count)."""

    def person_points(self, point_id: str) -> tuple[str | None, list[str]]:
        """The point's contact as the store keys it, and every point of that contact (the point
        alone when it has none); the point included even when its projection is gone."""


class RequestWriter(RequestReader, Protocol):
    """Storing requests, in the ledger's write transaction."""

    def add_dsr(self, request: DsrRequest) -> None:
        """Store a new request."""

    def put_dsr(self, request: DsrRequest) -> None:
        """Replace a stored request's row."""
