"""Writing to the ledger: events in bulk, and contact points one at a time."""

from __future__ import annotations

from fastapi import APIRouter

from consentry.entrypoints.api.deps import AppDep, WriteKey
from consentry.entrypoints.api.errors import ApiError, ApiRoute, ErrorItem, field_loc, responses
from consentry.entrypoints.api.schemas.events import AppendOut, ContactPointCreated, ContactPointIn, EventsIn
from consentry.services import ledger
from consentry.services.errors import FileRejected

router = APIRouter(route_class=ApiRoute, tags=["ledger"])


@router.post("/events", status_code=201, responses=responses(401, 403, 422, 503))
def append_events(app: AppDep, _key: WriteKey, body: EventsIn) -> AppendOut:
    """Append events to the ledger, all or nothing.

    Each event is the envelope (`type`, `contact`, `occurred_at`, `id`) plus the fields of
    its type, as in docs/events.md. If any event is wrong, nothing is written and the answer
    is 422 with one entry per problem, located as `["body", "events", <index>, <field>]`
    (the index counts from 0). Needs the `write` scope.
    """
    records = [(n, e.model_dump(exclude_unset=True)) for n, e in enumerate(body.events)]
    try:
        report = ledger.append_records(app, records)
    except FileRejected as exc:
        items = [
            ErrorItem(loc=["body", "events", p.line, *field_loc(p.field)], msg=p.message, type="invalid")
            for p in exc.problems
        ]
        if exc.truncated:
            items.append(ErrorItem(loc=["body", "events"], msg="more problems not shown", type="truncated"))
        raise ApiError(422, items) from None
    return AppendOut(
        appended=report.appended,
        registered=report.registered,
        first_seq=report.first_seq,
        last_seq=report.last_seq,
    )


@router.post("/contact-points", status_code=201, responses=responses(401, 403, 409, 422))
def register_contact_point(app: AppDep, _key: WriteKey, body: ContactPointIn) -> ContactPointCreated:
    """Register one contact point (a `contact_point.registered` event) and return its id.

    409 when the address or number is registered already. Needs the `write` scope.
    """
    point_id = ledger.register_point(app, body.model_dump(mode="json", exclude_none=True))
    return ContactPointCreated(id=point_id)
