"""Data-subject requests: opening one, its identity check, taking it on, extending its deadline.

Each change is one write transaction: the request's row (`dsr_requests`, ids and codes
only) and the ledger event on the person's contact point that records it, or neither.
What people wrote (the note, the reason of an extension, the outcome) is in the event.
Handling and closing are in `services/dsr_handling.py`, the mails in `dsr_mails.py`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from consentry.domain import limits
from consentry.domain.clock import MomentError, parse_moment
from consentry.domain.dsr import (
    CLOSED,
    DsrRequest,
    IdentityMethod,
    IdentityStatus,
    RequestKind,
    RequestState,
    ToldVia,
    Via,
    due_after,
    extended_due,
    last_day,
    period_end,
)
from consentry.domain.errors import FieldError
from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.state import ContactState, local_day
from consentry.domain.text import control_character
from consentry.domain.validation import validate_payload
from consentry.i18n import LANGS
from consentry.services import dsr_mails
from consentry.services.app import App
from consentry.services.contacts import resolve
from consentry.services.dsr_audit import audited
from consentry.services.errors import InputError, choice
from consentry.services.ports import Reading, Writing

#: Who records what the person does through a page or the API (not a user of the sender).
SYSTEM = "consentry"
#: A request may say it was received this much in the future (clocks drift), no more.
FUTURE_SLACK = timedelta(minutes=5)


class UnknownRequest(InputError):
    """No request has this id."""


class RequestClosed(InputError):
    """The request is done, refused or withdrawn: nothing changes it any more."""


def get(r: Reading, request_id: str) -> DsrRequest:
    """A request by id; UnknownRequest when there is none."""
    found = r.dsr(request_id.strip()) if request_id and len(request_id) <= 40 else None
    if found is None:
        raise UnknownRequest("request", f"no request with id {request_id[:40]!r}")
    return found


def still_open(req: DsrRequest) -> None:
    """RequestClosed unless the request is open or in progress."""
    if req.state in CLOSED:
        when = f" on {last_day(req.handled_at).isoformat()}" if req.handled_at else ""
        raise RequestClosed(
            "request", f"request {req.id} is already {req.state.value}{when}: it cannot change any more"
        )


def handler_name(by: str) -> str:
    """Who acts (a user of the sender: an e-mail address or a name), checked."""
    by = (by or "").strip()
    if not by:
        raise InputError("by", "say who handles it (a user of the sender)")
    if len(by) > 120:
        raise InputError("by", limits.too_long(120))
    if problem := control_character(by):
        raise InputError("by", problem)
    return by


def record(app: App, w: Writing, point_id: str, items: Sequence[tuple[str, dict[str, Any]]]) -> list[Event]:
    """Append events of the request services to a point's ledger (checked as any event is)."""
    now = app.clock.now()
    events = []
    for etype, payload in items:
        try:
            clean = validate_payload(etype, payload)
        except FieldError as exc:
            raise InputError(exc.field, exc.message) from None
        events.append(Event(app.ids("ev"), etype, point_id, now, now, clean))
    w.append(events)
    return events


def point_state(r: Reading, point_id: str) -> ContactState:
    """A point's state folded from its ledger."""
    return fold(point_id, r.events_for(point_id))


def live_points(r: Reading, req: DsrRequest) -> list[str]:
    """The person's points not erased, the request's own first: where its events are recorded."""
    _contact, points = r.person_points(req.contact_point_id)
    ordered = [req.contact_point_id, *(p for p in points if p != req.contact_point_id)]
    return [p for p in ordered if point_state(r, p).erased_at is None]


def anchor(r: Reading, req: DsrRequest) -> str:
    """The point a change of the request is recorded on; InputError when the person is erased."""
    live = live_points(r, req)
    if not live:
        raise InputError(
            "request",
            f"every contact point of the person of request {req.id} is erased: nothing more can be "
            f"recorded in their ledger; close it (consentry dsr close {req.id} --withdrawn --by ...)",
        )
    return live[0]


# -- opening -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Identity:
    """An identity already checked when the request comes in (a signed link, a login)."""

    status: IdentityStatus
    method: IdentityMethod


def _received(raw: str | datetime | None, now: datetime) -> datetime:
    if raw is None:
        return now
    if isinstance(raw, str):
        if len(raw) > 64:
            raise InputError("received_at", limits.too_long(64))
        try:
            raw = parse_moment(raw)
        except MomentError as exc:
            raise InputError("received_at", str(exc)) from None
    if raw > now + FUTURE_SLACK:
        raise InputError("received_at", f"{raw.isoformat()} is in the future")
    return raw


def open_request(
    app: App,
    contact: str,
    kind: str,
    *,
    via: str = Via.API,
    note: str | None = None,
    language: str | None = None,
    received_at: str | datetime | None = None,
    already_overdue: bool = False,
    identity: Identity | None = None,
    evidence: Mapping[str, str] | None = None,
) -> DsrRequest:
    """Record a request on the contact point a reference names; its due date follows from receipt."""
    kind_ = choice(RequestKind, "kind", kind)
    via_ = choice(Via, "via", via)
    if language is not None and language not in LANGS:
        raise InputError("language", "must be nl or en")
    now = app.clock.now()
    received = _received(received_at, now)
    due = due_after(received)
    if due <= now and not already_overdue:
        raise InputError(
            "received_at",
            f"a request received on {last_day(received + timedelta(microseconds=1)).isoformat()} was due "
            f"by the end of {last_day(due).isoformat()}, which is past; if that is so, record it as "
            "already overdue (--already-overdue, or already_overdue in the API) and answer it at once",
        )
    note = note.strip() if note and note.strip() else None
    with app.store.writer() as w:
        point_id, _kind = resolve(w, contact, app.settings.default_region)
        state = point_state(w, point_id)
        if state.erased_at is not None:
            raise InputError(
                "contact",
                f"contact point {point_id} was erased on {last_day(state.erased_at)}: only a "
                "suppression record remains, so there is nothing left to ask about",
            )
        contact_ref, _points = w.person_points(point_id)
        lang = language or dsr_mails.person_language(state)
        request_id = app.ids("dsr")
        payload: dict[str, Any] = {
            "request": kind_.value,
            "via": via_.value,
            "request_id": request_id,
            "due_at": due.isoformat(),
            **(evidence or {}),
        }
        if note:
            payload["note"] = note
        try:
            clean = validate_payload("request.received", payload)
        except FieldError as exc:
            raise InputError(exc.field, exc.message) from None
        event = Event(app.ids("ev"), "request.received", point_id, received, now, clean)
        req = DsrRequest(
            id=request_id,
            contact_point_id=point_id,
            contact_ref=contact_ref,
            kind=kind_,
            received_at=received,
            due_at=due,
            via=via_,
            language=lang,
            received_event=event.id,
            updated_at=now,
        )
        items = []
        if identity is not None:
            req = req.but(identity=identity.status, identity_method=identity.method, identity_checked_at=now)
            items.append(
                (
                    "request.identity_checked",
                    {
                        "request_id": request_id,
                        "identity": identity.status.value,
                        "method": identity.method.value,
                        "handler": SYSTEM,
                    },
                )
            )
        w.append([event])
        record(app, w, point_id, items)
        w.add_dsr(req)
    return req


# -- reading -------------------------------------------------------------------------------

#: The states of a request that still has to be answered.
OPEN_STATES = frozenset({RequestState.OPEN, RequestState.IN_PROGRESS})


def _filter(
    app: App, overdue: bool, due_within: int | None, include_closed: bool
) -> tuple[set[RequestState] | None, datetime | None]:
    """The states and the latest deadline (inclusive) of the requests a list shows."""
    if due_within is not None and not 0 <= due_within <= 3660:
        raise InputError("due_within", "must be a number of days from 0 to 3660")
    now = app.clock.now()
    if overdue:  # still open and now >= deadline
        return set(OPEN_STATES), now
    if due_within is not None:  # still open and deadline_day <= today + due_within
        return set(OPEN_STATES), period_end(local_day(now) + timedelta(days=due_within))
    return (None if include_closed else set(OPEN_STATES)), None


def list_requests(
    app: App,
    *,
    overdue: bool = False,
    due_within: int | None = None,
    include_closed: bool = False,
) -> list[DsrRequest]:
    """Requests by deadline, earliest first: the open ones, or only the overdue or those due soon."""
    states, until = _filter(app, overdue, due_within, include_closed)
    with app.store.reader() as r:
        return r.dsr_requests(states, deadline_until=until)


#: Overzicht counts the open requests due within this many days.
DUE_SOON_DAYS = 7


@dataclass(frozen=True, slots=True)
class DueCounts:
    """Open requests past their deadline, and due within `days` (the overdue ones included),
    counted as the request list filters them (`show=overdue`, `show=due&days=...`)."""

    overdue: int
    due: int
    days: int


def due_counts(app: App, r: Reading, days: int = DUE_SOON_DAYS) -> DueCounts:
    """Two indexed counts (`ix_dsr_requests_state_due`) in the caller's read."""
    states, now = _filter(app, True, None, False)
    overdue = r.count_dsr_requests(states, deadline_until=now)
    states, until = _filter(app, False, days, False)
    return DueCounts(overdue, r.count_dsr_requests(states, deadline_until=until), days)


@dataclass(frozen=True, slots=True)
class RequestPage:
    """One page of a list of requests, and how many the whole list has."""

    requests: list[DsrRequest]
    total: int
    start: int


def page_of_requests(
    app: App,
    *,
    overdue: bool = False,
    due_within: int | None = None,
    include_closed: bool = False,
    start: int = 0,
    size: int = 100,
) -> RequestPage:
    """`size` requests of the list `list_requests` gives, from place `start` (0 = the first), and
    the list's length; only that page is read (the admin list at thousands of open requests)."""
    if start < 0 or not 1 <= size <= 1000:
        raise InputError("start", "a page starts at 0 or later and has 1 to 1000 requests")
    states, until = _filter(app, overdue, due_within, include_closed)
    with app.store.reader() as r:
        total = r.count_dsr_requests(states, deadline_until=until)
        found = r.dsr_requests(states, deadline_until=until, limit=size, offset=start)
    return RequestPage(found, total, start)


@dataclass(frozen=True, slots=True)
class RequestView:
    """A request with the ledger events that record it (their texts included)."""

    request: DsrRequest
    events: list[Event]


def show(app: App, request_id: str) -> RequestView:
    """A request and its history from the ledger."""
    with app.store.reader() as r:
        req = get(r, request_id)
        _contact, points = r.person_points(req.contact_point_id)
        # A request recorded before requests were tracked names no request id in its event.
        found = r.events_for_many(points)  # one query for the person's points, not one per point
        events = [
            e
            for pid in points
            for e in found.get(pid, [])
            if e.payload.get("request_id") == req.id or e.id == req.received_event
        ]
    return RequestView(req, sorted(events, key=lambda e: (e.recorded_at, e.seq or 0)))


# -- identity, taking it on, extending -------------------------------------------------------


def verify_identity(
    app: App, request_id: str, method: str, by: str, failed: bool = False, actor: str | None = None
) -> DsrRequest:
    """Record that the person's identity was checked, and how: verified, or (`failed`) not."""
    method_ = choice(IdentityMethod, "method", method)
    by = handler_name(by)
    status = IdentityStatus.FAILED if failed else IdentityStatus.VERIFIED
    now = app.clock.now()
    with app.store.writer() as w:
        req = get(w, request_id)
        still_open(req)
        payload = {"request_id": req.id, "identity": status.value, "method": method_.value, "handler": by}
        record(app, w, anchor(w, req), [("request.identity_checked", payload)])
        req = req.but(identity=status, identity_method=method_, identity_checked_at=now, updated_at=now)
        w.put_dsr(req)
        audited(app, w, actor, req, "identity", identity=status.value, method=method_.value)
    return req


def start(app: App, request_id: str, by: str, actor: str | None = None) -> DsrRequest:
    """Someone takes the request on: it is in progress, and they are its handler."""
    by = handler_name(by)
    now = app.clock.now()
    with app.store.writer() as w:
        req = get(w, request_id)
        still_open(req)
        record(app, w, anchor(w, req), [("request.started", {"request_id": req.id, "handler": by})])
        req = req.but(state=RequestState.IN_PROGRESS, handler=by, updated_at=now)
        w.put_dsr(req)
        audited(app, w, actor, req, "started")
    return req


def extend(
    app: App, request_id: str, reason: str, by: str, told_via: str = ToldVia.EMAIL, actor: str | None = None
) -> DsrRequest:
    """Extend the deadline once by two months, within the first month, telling the person why.

    With `told_via` e-mail the person is mailed the reasons first, and the extension is
    recorded only once that mail went out; by letter or phone the handler says it was done.
    """
    by = handler_name(by)
    via = choice(ToldVia, "told_via", told_via)
    reason = (reason or "").strip()
    if not reason:
        raise InputError("reason", "give the reasons for the extension: they are told to the person")
    now = app.clock.now()
    to: str | None = None
    with app.store.reader() as r:
        req = _extendable(r, request_id, now)
        until = extended_due(req.due_at)
        if via is ToldVia.EMAIL:
            to = dsr_mails.address_of(r, req)
            if to is None:
                raise InputError(
                    "told_via",
                    "the person has no e-mail address here: tell them by letter or phone "
                    "and say so (--told-via letter|phone)",
                )
    if len(reason) > limits.TEXT:
        raise InputError("reason", limits.too_long(limits.TEXT))
    if problem := control_character(reason):
        raise InputError("reason", problem)
    if to is not None:
        dsr_mails.send_extension(app, req, to, until, reason)
    with app.store.writer() as w:
        req = _extendable(w, request_id, now)  # unchanged meanwhile, or refused now
        payload = {
            "request_id": req.id,
            "extended_until": last_day(until).isoformat(),
            "reason": reason,
            "told_via": via.value,
            "handler": by,
        }
        (event,) = record(app, w, anchor(w, req), [("request.extended", payload)])
        req = req.but(
            extended_until=until, extension_event=event.id, extension_notified_at=now, updated_at=now
        )
        w.put_dsr(req)
        audited(app, w, actor, req, "extended", until=last_day(until).isoformat(), told_via=via.value)
    return req


def _extendable(r: Reading, request_id: str, now: datetime) -> DsrRequest:
    req = get(r, request_id)
    still_open(req)
    if req.extended_until is not None:
        raise InputError(
            "request",
            f"request {req.id} was already extended, to {req.deadline_day.isoformat()}: "
            "the deadline can be extended only once (GDPR Art. 12(3))",
        )
    if now >= req.due_at:
        raise InputError(
            "request",
            f"the first month of request {req.id} ended on {last_day(req.due_at).isoformat()}: "
            "an extension must be told to the person within that month (GDPR Art. 12(3))",
        )
    return req
