"""Data-subject requests as methods of a Reader and a Writer (`services.dsr_ports`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.connected import Connected
from consentry.domain.dsr import (
    CLOSED,
    DsrRequest,
    IdentityMethod,
    IdentityStatus,
    RequestKind,
    RequestState,
    Via,
)

_R = t.dsr_requests


def _request(row: Any) -> DsrRequest:
    return DsrRequest(
        id=row.id,
        contact_point_id=row.contact_point_id,
        contact_ref=row.contact_ref,
        kind=RequestKind(row.kind),
        state=RequestState(row.state),
        via=Via(row.via),
        language=row.language,
        received_at=row.received_at,
        received_event=row.received_event,
        due_at=row.due_at,
        extended_until=row.extended_until,
        extension_event=row.extension_event,
        extension_notified_at=row.extension_notified_at,
        identity=IdentityStatus(row.identity),
        identity_method=IdentityMethod(row.identity_method) if row.identity_method else None,
        identity_checked_at=row.identity_checked_at,
        handler=row.handler,
        handled_at=row.handled_at,
        outcome_event=row.outcome_event,
        person_told_at=row.person_told_at,
        reminded_on=row.reminded_on,
        updated_at=row.updated_at,
    )


def _values(r: DsrRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "contact_point_id": r.contact_point_id,
        "contact_ref": r.contact_ref,
        "kind": r.kind.value,
        "state": r.state.value,
        "via": r.via.value,
        "language": r.language,
        "received_at": r.received_at,
        "received_event": r.received_event,
        "due_at": r.due_at,
        "extended_until": r.extended_until,
        "extension_event": r.extension_event,
        "extension_notified_at": r.extension_notified_at,
        "identity": r.identity.value,
        "identity_method": r.identity_method.value if r.identity_method else None,
        "identity_checked_at": r.identity_checked_at,
        "handler": r.handler,
        "handled_at": r.handled_at,
        "outcome_event": r.outcome_event,
        "person_told_at": r.person_told_at,
        "reminded_on": r.reminded_on,
        "updated_at": r.updated_at,
    }


#: The deadline in force: the extended one once extended (`DsrRequest.deadline`).
_deadline = sa.func.coalesce(_R.c.extended_until, _R.c.due_at)


def _filtered(
    q: sa.Select[Any],
    states: Set[RequestState] | None,
    deadline_before: datetime | None,
    contact_point_id: str | None,
    deadline_until: datetime | None,
) -> sa.Select[Any]:
    if states is not None:
        q = q.where(_R.c.state.in_(sorted(s.value for s in states)))
    if deadline_before is not None:
        q = q.where(_deadline < deadline_before)
    if deadline_until is not None:
        q = q.where(_deadline <= deadline_until)
    if contact_point_id is not None:
        q = q.where(_R.c.contact_point_id == contact_point_id)
    return q


class RequestReads(Connected):
    """Stored requests, and the contact a point belongs to."""

    def dsr(self, request_id: str) -> DsrRequest | None:
        """A request by id."""
        row = self.conn.execute(sa.select(_R).where(_R.c.id == request_id)).first()
        return None if row is None else _request(row)

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
        """Requests by state, deadline and point; earliest deadline first; a page of them."""
        q = _filtered(sa.select(_R), states, deadline_before, contact_point_id, deadline_until)
        q = q.order_by(_deadline, _R.c.received_at, _R.c.id)
        if limit is not None:
            q = q.limit(limit).offset(offset)
        elif offset:
            q = q.offset(offset)
        return [_request(row) for row in self.conn.execute(q)]

    def open_requests_of(self, point_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """Per point, the kinds of the requests not closed yet made on it or on another point of its
        contact (`point_facts.contact_id`, which a request keeps as `contact_ref`); points without
        one are absent. Read by point and by contact: what a fold of the points is judged with."""
        ids = list(dict.fromkeys(point_ids))
        facts = "SELECT contact_point_id, contact_id FROM point_facts WHERE contact_point_id {set}"
        return open_request_kinds(self, dict(self._rows_of(facts, ids)), ids)

    def count_dsr_requests(
        self, states: Set[RequestState] | None = None, *, deadline_until: datetime | None = None
    ) -> int:
        """How many requests `dsr_requests` gives with these filters."""
        q = _filtered(sa.select(sa.func.count()).select_from(_R), states, None, None, deadline_until)
        return int(self.conn.execute(q).scalar_one())

    def person_points(self, point_id: str) -> tuple[str | None, list[str]]:
        """The point's contact (`point_facts.contact_id`) and every point of that contact."""
        f = t.point_facts
        contact = self.conn.execute(
            sa.select(f.c.contact_id).where(f.c.contact_point_id == point_id)
        ).scalar_one_or_none()
        if contact is None:
            return None, [point_id]
        ids = self.conn.execute(
            sa.select(f.c.contact_point_id).where(f.c.contact_id == contact).order_by(f.c.contact_point_id)
        ).scalars()
        return contact, sorted({point_id, *ids})


#: Built once: a statement made per call costs more than running it.
def open_request_kinds(
    store: Connected,
    contact_of: Mapping[str, str],
    point_ids: Sequence[str],
    span: tuple[str, str] | None = None,
) -> dict[str, frozenset[str]]:
    """Per point of `point_ids`, the kinds of the requests not closed yet made on it or on another
    point of its contact (`contact_of`: point -> `point_facts.contact_id`, which a request keeps as
    `contact_ref`); points without one are absent. Two queries, over the points and over their
    contacts. With a `span` (the first and last id of `point_ids`, sorted: a batch read in id
    order) the points' requests are read as that range of the point index, one probe instead of
    one per point; requests of points in the range but not in `point_ids` are dropped."""
    shut = ", ".join(f"'{s.value}'" for s in sorted(CLOSED))

    def ask(column: str, where: str = "{set}") -> str:
        return f"SELECT {column}, kind FROM dsr_requests WHERE state NOT IN ({shut}) AND {column} {where}"

    if span is None:
        on_points = store._rows_of(ask("contact_point_id"), point_ids)
    else:
        wanted = set(point_ids)
        ranged = store._plain(ask("contact_point_id", ">= ? AND contact_point_id <= ?"), span)
        on_points = [(pid, kind) for pid, kind in ranged if pid in wanted]
    found: dict[str, set[str]] = {}
    for pid, kind in on_points:
        found.setdefault(pid, set()).add(kind)
    by_contact: dict[str, set[str]] = {}
    for contact, kind in store._rows_of(ask("contact_ref"), sorted(set(contact_of.values()))):
        by_contact.setdefault(contact, set()).add(kind)
    for pid, contact in contact_of.items():
        if contact in by_contact:
            found.setdefault(pid, set()).update(by_contact[contact])
    return {pid: frozenset(kinds) for pid, kinds in found.items()}


_INSERT = _R.insert()
_UPDATE = _R.update().where(_R.c.id == sa.bindparam("request_id"))


class RequestWrites(RequestReads):
    """Storing requests in the write transaction."""

    def add_dsr(self, request: DsrRequest) -> None:
        """Insert a new request."""
        self.conn.execute(_INSERT, _values(request))

    def put_dsr(self, request: DsrRequest) -> None:
        """Replace the stored row of a request."""
        values = _values(request)
        del values["id"]
        done = self.conn.execute(_UPDATE, {**values, "request_id": request.id})
        if done.rowcount != 1:
            raise LookupError(f"no stored request {request.id}")
