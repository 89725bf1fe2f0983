"""A contact point as the admin app shows it: its person's points, what may be done with it
(a permission matrix of channel × purpose, now and as of a chosen moment), its ledger
timeline with the evidence; an objection taken by phone, a note, and the person's erasure.

An erased point still has its page: when and why it was erased, and what the ledger keeps
of it (its events' clear fields; its personal fields went with the data key).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consentry.domain.events import Event, EventError
from consentry.domain.purposes import Purpose
from consentry.domain.users import AuditAction, AuditEntry
from consentry.domain.validation import validate_payload
from consentry.domain.vocabulary import (
    CHANNELS_BY_POINT,
    Activity,
    Channel,
    MessageKind,
    ObjectionScope,
    PointKind,
)
from consentry.policy.facts import Question
from consentry.policy.rules import Decision, evaluate
from consentry.services import access, erasure
from consentry.services.access import EVIDENCE_FIELDS
from consentry.services.app import App
from consentry.services.contacts import UnknownContact
from consentry.services.errors import InputError, choice
from consentry.services.ledger import append_in
from consentry.services.ledger_guard import check_often
from consentry.services.ports import FoundPoint, Reading
from consentry.services.setup import controller

#: A person's points listed at most.
PERSON_POINTS = 100
NOTE = "note.recorded"
ERASED = "contact_point.erased"


@dataclass(frozen=True, slots=True)
class Matrix:
    """The verdicts for each purpose (rows) and channel (columns) at one moment."""

    at: datetime
    purposes: list[Purpose]
    channels: list[Channel]
    #: (purpose key, channel) → the decision; empty when the point was not registered yet.
    cells: dict[tuple[str, Channel], Decision]


@dataclass(frozen=True, slots=True)
class Happened:
    """One event of the timeline with the evidence it carries (where, how, which text)."""

    event: Event
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ContactView:
    """What the contact page shows."""

    point: FoundPoint
    person: list[FoundPoint]
    tags: list[str]
    now: Matrix
    then: Matrix | None
    timeline: list[Happened]


@dataclass(frozen=True, slots=True)
class ErasedView:
    """The page of an erased contact point: when and why, and the clear part of its timeline."""

    id: str
    kind: PointKind
    erased_at: datetime
    reason: str
    timeline: list[Happened]


def view(app: App, point_id: str, then: datetime | None = None) -> ContactView | ErasedView:
    """The contact page of `point_id` (an ErasedView once erased): UnknownContact when none is stored."""
    now = app.clock.now()
    with app.store.reader() as r:
        found = r.found_points([point_id])
        if not found:
            return _erased(r, point_id)
        check_often(app, r)
        point = found[0]
        person = r.found_points(r.person_point_ids(point_id, PERSON_POINTS))
        purposes = r.purposes()
        events = r.events_for(point_id)
        state = app.states.load_many(r, [point_id], as_of=now).get(point_id)
        current = _matrix(app, r, point, purposes, now)
        earlier = _matrix(app, r, point, purposes, then) if then is not None else None
    timeline = _timeline(events)
    return ContactView(
        point=point,
        person=[p for p in person if p.id != point_id],
        tags=sorted(state.tags) if state is not None else [],
        now=current,
        then=earlier,
        timeline=timeline,
    )


def _erased(r: Reading, point_id: str) -> ErasedView:
    kind = r.point_kind(point_id)
    events = r.events_for(point_id) if kind is not None else []
    gone = [e for e in events if e.type == ERASED]
    if kind is None or not gone:
        raise UnknownContact("contact", f"no contact point with id {point_id!r}")
    return ErasedView(
        point_id, kind, gone[-1].occurred_at, str(gone[-1].payload.get("reason", "")), _timeline(events)
    )


def _timeline(events: list[Event]) -> list[Happened]:
    return [
        Happened(e, {k: e.payload[k] for k in EVIDENCE_FIELDS if e.payload.get(k) not in (None, "")})
        for e in events
    ]


def _matrix(app: App, r: Reading, point: FoundPoint, purposes: list[Purpose], at: datetime) -> Matrix:
    channels = sorted(CHANNELS_BY_POINT[point.kind], key=lambda c: list(Channel).index(c))
    state = app.states.load_many(r, [point.id], as_of=at).get(point.id)
    cells: dict[tuple[str, Channel], Decision] = {}
    if state is not None and state.registered_at is not None:
        ctl = controller(r)
        for p in purposes:
            for ch in channels:
                question = Question(
                    channel=ch, purpose=p, at=at, kind=MessageKind.MARKETING, activity=Activity.CONTACT
                )
                cells[(p.key, ch)] = evaluate(app.pack, state, question, ctl)
    return Matrix(at, purposes, channels, cells)


def access_export(app: App, point_id: str, actor: str) -> dict[str, Any]:
    """The access export of the point's person (`access.person`), with who opened it in the audit log."""
    doc = access.person(app, point_id)
    entry = AuditEntry(app.clock.now(), actor, AuditAction.ACCESS_EXPORTED, point_id)
    with app.store.writer() as w:
        w.record_audit(entry)
    return doc


def record_objection(app: App, point_id: str, scope: str, actor: str) -> str:
    """Record an objection (GDPR Art. 21) the person made by phone, and who took it; the event's id.

    The event and the audit entry naming the user are written in one transaction.
    """
    chosen = choice(ObjectionScope, "scope", scope)
    record = {"type": "objection.recorded", "contact": point_id, "scope": chosen.value, "via": "phone"}
    event_id = app.ids("ev")
    with app.store.writer() as w:
        if not w.found_points([point_id]):
            raise UnknownContact("contact", f"no contact point with id {point_id!r}")
        append_in(app, w, [(1, {**record, "id": event_id})])
        detail = {"scope": chosen.value, "event": event_id}
        w.record_audit(AuditEntry(app.clock.now(), actor, AuditAction.OBJECTION_RECORDED, point_id, detail))
    return event_id


def record_note(app: App, point_id: str, note: str, actor: str) -> str:
    """Record a note on the point (`note.recorded`, sealed) and who wrote it; the event's id.

    The note is checked as any event field is (at most `limits.TEXT` characters, no control
    characters); the event and the audit entry naming the user are written in one transaction.
    """
    text = note.strip()
    if not text:
        raise InputError("note", "write the note first: it is empty")
    try:
        payload = validate_payload(NOTE, {"note": text, "author": actor})
    except EventError as exc:
        raise InputError(exc.field, exc.message) from None
    event_id = app.ids("ev")
    with app.store.writer() as w:
        if not w.found_points([point_id]):
            raise UnknownContact("contact", f"no contact point with id {point_id!r} (or it was erased)")
        append_in(app, w, [(1, {**payload, "type": NOTE, "contact": point_id, "id": event_id})])
        # The audit entry names the event, not the note: the note is personal data.
        detail = {"event": event_id, "characters": len(text)}
        w.record_audit(AuditEntry(app.clock.now(), actor, AuditAction.NOTE_RECORDED, point_id, detail))
    return event_id


#: The reasons the contact page offers for an erasure (codes; the page names them).
ERASURE_REASONS = ("request", "no_basis", "unlawful", "duplicate")


def erase_person(app: App, point_id: str, reason: str, actor: str) -> erasure.ErasureReport:
    """Erase every point of the point's person, keeping their suppression records, recorded in the
    audit log with the user (`erasure.erase`, whole contact)."""
    chosen = reason.strip()
    if chosen not in ERASURE_REASONS:
        raise InputError("reason", f"choose a reason: one of {', '.join(ERASURE_REASONS)}")
    return erasure.erase(app, point_id, reason=chosen, whole_contact=True, actor=actor)
