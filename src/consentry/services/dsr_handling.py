"""Handling a data-subject request: doing what it asks, closing it, telling the person.

What each kind does when handled:
- access, portability: the injected `Hooks.export` produces the copy (services of the
  access export); the reference it returns is recorded in the outcome;
- erasure: the injected `Hooks.erase` erases every point of the person (storage v2's
  erasure) with the reason code `request`, inside the request's own transaction: nothing
  is recorded on an erased point afterwards, so `request.handled` and `request.told` come
  first and the mail to the person goes out before the commit (a failed mail undoes it
  all); the outcome note is not kept, as the person's data is gone;
- rectification: the corrected attributes (`attributes.set`) and details
  (`contact_point.updated`) are ledger events on the request's point;
- restriction: `processing.restricted` on every point of the person; rule EU-GDPR-18
  stops marketing and profiling until `lift_restriction`, which tells the person first;
- objection: `objection.recorded` (direct marketing), which binds the whole person.

The request's row, the kind's events and `request.handled` are one write transaction;
the export runs before it, so a failure there leaves the request open. The person's
e-mail address is read before anything is done (an erasure removes it); apart from an
erasure, the mail goes out after the commit and `request.told` records it. A mail that
fails leaves the request handled and untold: `tell` retries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from consentry.domain.dsr import (
    DsrRequest,
    IdentityStatus,
    Outcome,
    RequestKind,
    RequestState,
    ToldVia,
)
from consentry.domain.errors import FieldError
from consentry.domain.validation import validate_payload
from consentry.services import dsr_mails
from consentry.services.app import App
from consentry.services.dsr import (
    anchor,
    get,
    handler_name,
    live_points,
    point_state,
    record,
    show,
    still_open,
)
from consentry.services.dsr_audit import audited
from consentry.services.errors import InputError, MailError, choice
from consentry.services.ports import Writing


class Eraser(Protocol):
    """Erases contact points inside the caller's write transaction, keeping their suppression records."""

    def __call__(self, app: App, w: Writing, point_ids: Sequence[str], reason: str) -> None: ...


class Exporter(Protocol):
    """Produces the copy of an access or portability request; returns what to record (a reference)."""

    def __call__(self, app: App, request: DsrRequest, point_ids: Sequence[str]) -> str: ...


@dataclass(frozen=True, slots=True)
class Hooks:
    """The services other parts of consentry provide for handling (wired in entrypoints/dsr_hooks.py).

    `scrub` runs after an erasure committed (the store's files forget what it deleted).
    """

    erase: Eraser | None = None
    scrub: Callable[[App], None] | None = None
    export: Exporter | None = None


class HandlerMissing(InputError):
    """This installation cannot carry out this kind of request: its service is not wired."""


@dataclass(frozen=True, slots=True)
class Handled:
    """A handled or closed request, and whether the person was told."""

    request: DsrRequest
    told: bool
    problem: str | None = None
    exported: str | None = None
    events: list[str] = field(default_factory=list)


def _checked(etype: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return validate_payload(etype, payload)
    except FieldError as exc:
        raise InputError(exc.field, exc.message) from None


def handle(
    app: App,
    request_id: str,
    by: str,
    outcome: str | None,
    hooks: Hooks,
    *,
    attributes: Mapping[str, str] | None = None,
    details: Mapping[str, Any] | None = None,
    actor: str | None = None,
) -> Handled:
    """Do what the request asks, record it as done by `by`, and tell the person.

    With an `actor` (a user of the admin app) the audit log records it in the same transaction.
    """
    by = handler_name(by)
    note = outcome.strip() if outcome and outcome.strip() else None
    with app.store.reader() as r:
        req = get(r, request_id)
        still_open(req)
        anchor(r, req)  # a person erased meanwhile: say so before anything else
        if req.kind is not RequestKind.OBJECTION and req.identity is not IdentityStatus.VERIFIED:
            raise InputError(
                "identity",
                f"the person's identity is {req.identity.value}: verify it first (consentry dsr "
                f"verify-identity {req.id} --method ...), or refuse the request (consentry dsr close "
                f"{req.id} --refused --reason ...)",
            )
        live = live_points(r, req)
        to = dsr_mails.address_of(r, req)
    point = live[0]
    items = _kind_items(req, live, attributes, details)
    exported = None
    erasing = req.kind is RequestKind.ERASURE and bool(live)
    if erasing:
        if hooks.erase is None:
            raise HandlerMissing("kind", "erasure cannot be carried out here: no erasure service is wired")
        note = None  # the person's data is going; who erased and when is what stays
    elif req.kind in (RequestKind.ACCESS, RequestKind.PORTABILITY):
        if hooks.export is None:
            raise HandlerMissing("kind", f"{req.kind.value} cannot be carried out here: no export is wired")
        exported = hooks.export(app, req, live)
        note = "\n".join(x for x in (note, f"copy: {exported}" if exported else None) if x) or None
    now = app.clock.now()
    with app.store.writer() as w:
        req = get(w, request_id)
        still_open(req)  # closed by someone else meanwhile: nothing recorded
        events = [ev for pid, its in items for ev in record(app, w, pid, its)]
        handled = {"request_id": req.id, "request": req.kind.value, "outcome": Outcome.DONE.value}
        handled |= {"handler": by, "received_event": req.received_event, **({"note": note} if note else {})}
        (done,) = record(app, w, point, [("request.handled", handled)])
        req = req.but(
            state=RequestState.DONE, handler=by, handled_at=now, outcome_event=done.id, updated_at=now
        )
        if erasing:
            assert hooks.erase is not None
            req = _erase_and_tell(app, w, req, live, to, hooks.erase)
        w.put_dsr(req)
        audited(app, w, actor, req, "handled", erased=len(live) if erasing else None, copy=exported)
    if erasing:
        if hooks.scrub is not None:
            hooks.scrub(app)
        problem = None if to else "the person has no e-mail address here: tell them by letter or phone"
        return Handled(req, to is not None, problem, None, [done.id])
    req, told, problem = _tell(app, req, to, note)
    return Handled(req, told, problem, exported, [e.id for e in events] + [done.id])


def _erase_and_tell(
    app: App, w: Writing, req: DsrRequest, points: list[str], to: str | None, erase: Eraser
) -> DsrRequest:
    """Erase the person in the request's transaction, telling them before it commits.

    Nothing can be recorded on an erased point afterwards, so `request.told` is written
    before the erasure, and the mail goes out before the commit: a mail that fails
    undoes it all (nothing erased, nothing recorded), to be tried again.
    """
    if to is not None:
        told = {"request_id": req.id, "about": "outcome", "told_via": ToldVia.EMAIL.value}
        record(app, w, points[0], [("request.told", told)])
        req = req.but(person_told_at=req.handled_at)
    erase(app, w, points, "request")
    if to is not None:
        try:
            dsr_mails.send_outcome(app, req, to, None)
        except MailError as exc:
            raise InputError(
                "mail", f"the mail to the person failed ({exc}): nothing was erased or recorded; try again"
            ) from None
    return req


def _kind_items(
    req: DsrRequest,
    live: list[str],
    attributes: Mapping[str, str] | None,
    details: Mapping[str, Any] | None,
) -> list[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """The ledger events a kind adds, by point; checked before anything is done."""
    if (attributes or details) and req.kind is not RequestKind.RECTIFICATION:
        raise InputError("attributes", f"corrections belong to a rectification, not to {req.kind.value}")
    point = live[0]
    if req.kind is RequestKind.RECTIFICATION:
        if not attributes and not details:
            raise InputError(
                "attributes",
                "say what to correct (--attribute NAME=VALUE, --display-name), or refuse the request",
            )
        its: list[tuple[str, dict[str, Any]]] = []
        if attributes:
            its.append(("attributes.set", _checked("attributes.set", {"attributes": dict(attributes)})))
        if details:
            its.append(("contact_point.updated", _checked("contact_point.updated", dict(details))))
        return [(point, its)]
    if req.kind is RequestKind.RESTRICTION:
        return [(pid, [("processing.restricted", {"request_id": req.id})]) for pid in live]
    if req.kind is RequestKind.OBJECTION:
        return [(live[0], [("objection.recorded", {"scope": "direct_marketing", "via": "request"})])]
    return []


def close(
    app: App, request_id: str, outcome: str, by: str, reason: str | None, actor: str | None = None
) -> Handled:
    """Close a request without doing it: refused (the person is told why) or withdrawn by them."""
    result = choice(Outcome, "outcome", outcome)
    if result is Outcome.DONE:
        raise InputError("outcome", "a request is done by handling it (consentry dsr handle)")
    by = handler_name(by)
    reason = reason.strip() if reason and reason.strip() else None
    if result is Outcome.REFUSED and not reason:
        raise InputError("reason", "give the reasons for refusing: they are told to the person (Art. 12(4))")
    now = app.clock.now()
    with app.store.writer() as w:
        req = get(w, request_id)
        still_open(req)
        live = live_points(w, req)
        to = dsr_mails.address_of(w, req) if result is Outcome.REFUSED else None
        payload = {"request_id": req.id, "request": req.kind.value, "outcome": result.value, "handler": by}
        payload["received_event"] = req.received_event
        done = None
        if live:  # an erased point's ledger takes nothing more: then only the request's row says it
            (done,) = record(
                app, w, live[0], [("request.handled", {**payload, **({"note": reason} if reason else {})})]
            )
        req = req.but(
            state=RequestState(result.value),
            handler=by,
            handled_at=now,
            outcome_event=done.id if done else None,
            updated_at=now,
        )
        w.put_dsr(req)
        audited(app, w, actor, req, result.value)
    recorded = [done.id] if done else []
    if not live:
        return Handled(req, False, "the person is erased: the request's row alone records this", None, [])
    if result is Outcome.WITHDRAWN:
        return Handled(req, False, None, None, recorded)
    req, told, problem = _tell(app, req, to, reason)
    return Handled(req, told, problem, None, recorded)


def _tell(app: App, req: DsrRequest, to: str | None, note: str | None) -> tuple[DsrRequest, bool, str | None]:
    """Mail the person the outcome and record it; a problem is reported, not raised."""
    if to is None:
        return req, False, "the person has no e-mail address here: tell them by letter or phone"
    try:
        dsr_mails.send_outcome(app, req, to, note)
    except MailError as exc:
        return req, False, f"the mail to the person failed ({exc}); retry with consentry dsr tell {req.id}"
    now = app.clock.now()
    with app.store.writer() as w:
        current = get(w, req.id)
        payload = {"request_id": req.id, "about": "outcome", "told_via": ToldVia.EMAIL.value}
        record(app, w, (live_points(w, req) or [req.contact_point_id])[0], [("request.told", payload)])
        req = current.but(person_told_at=now, updated_at=now)
        w.put_dsr(req)
    return req, True, None


def tell(app: App, request_id: str) -> Handled:
    """Mail the person the outcome of a handled or refused request again (after a failed mail)."""
    view = show(app, request_id)
    req = view.request
    if req.state not in (RequestState.DONE, RequestState.REFUSED):
        raise InputError("request", f"request {req.id} is {req.state.value}: there is no outcome to tell yet")
    if req.person_told_at is not None:
        raise InputError("request", f"the person was told on {req.person_told_at.isoformat()} already")
    outcome = next((e for e in view.events if e.id == req.outcome_event), None)
    note = outcome.payload.get("note") if outcome is not None else None
    with app.store.reader() as r:
        to = dsr_mails.address_of(r, req)
    req, told, problem = _tell(app, req, to, note)
    if problem:
        raise InputError("request", problem)
    return Handled(req, told)


def lift_restriction(app: App, request_id: str, by: str) -> Handled:
    """Lift a restriction a handled request put on the person, telling them first (Art. 18(3))."""
    by = handler_name(by)
    with app.store.reader() as r:
        req = get(r, request_id)
        if req.kind is not RequestKind.RESTRICTION or req.state is not RequestState.DONE:
            raise InputError("request", f"request {req.id} is no handled restriction: nothing to lift")
        restricted = [p for p in live_points(r, req) if point_state(r, p).restricted_at is not None]
        to = dsr_mails.address_of(r, req)
    if not restricted:
        raise InputError("request", f"the restriction of request {req.id} was lifted already")
    if to is None:
        raise InputError("request", "the person has no e-mail address here to be told first: write to them")
    dsr_mails.send_lifted(app, req, to)
    with app.store.writer() as w:
        lifted = {"request_id": req.id, "handler": by}
        events = [
            ev
            for pid in restricted
            for ev in record(app, w, pid, [("processing.restriction_lifted", lifted)])
        ]
    return Handled(req, True, None, None, [e.id for e in events])
