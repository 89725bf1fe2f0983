"""Erasure (GDPR Art. 17) with a suppression record that survives it.

`erase` forgets a contact point, or every point of a contact, in ONE write transaction:
it appends `contact_point.erased` (a reason code, no personal data), keeps a suppression
record per point (the store keeps only the blind index of its address), removes the
points' lookups and projection rows and personal text in the send queue, and destroys
the data key that seals their personal fields in the ledger. Either all of that commits
or none of it. Then the store scrubs what the deletes leave in its files.

A later import, list, API registration or sign-up of the same address registers a new
point that carries the record (`ContactState.prior_suppression`), and rule
EU-GDPR-09.prior keeps it suppressed until the person gives a fresh consent confirmed by
double opt-in. Erasing what is already erased changes nothing and says so.

`ErasureRequest` / `handle_request` is the hook the handling of data-subject requests
(issue #17: a request received in the preference centre, a retention policy) calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from consentry.domain.erasure import ReasonError, SuppressionRecord, check_reason, suppression_of
from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.state import ContactState
from consentry.domain.users import AuditAction, AuditEntry
from consentry.domain.validation import validate_payload
from consentry.domain.vocabulary import PointKind
from consentry.policy.facts import day_both
from consentry.services.app import App
from consentry.services.contacts import UnknownContact, point_key
from consentry.services.errors import InputError
from consentry.services.ports import Writing

__all__ = ["CONTACT_PREFIX", "ErasureReport", "ErasureRequest", "erase", "erase_points", "handle_request"]

#: A reference to a whole contact (every point with that contact id): `contact:<id>`.
CONTACT_PREFIX = "contact:"
ERASED = "contact_point.erased"

#: Called inside the erasure's write transaction once everything is written, before it
#: commits (the crash test kills the process here). Not for production use.
before_commit: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class ErasedPoint:
    """One contact point the erasure concerned, and when it was (or had been) erased."""

    id: str
    kind: PointKind
    what: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ErasureReport:
    """What an erasure did: the points erased now, those erased before, the keys destroyed."""

    reason: str
    erased: tuple[ErasedPoint, ...] = ()
    already: tuple[ErasedPoint, ...] = ()
    keys_destroyed: int = 0
    #: Contacts whose data key stays: they have points that were not erased.
    keys_kept_for: tuple[str, ...] = ()
    #: Whether the database files were scrubbed of the deleted rows (SQLite: a reader can delay it).
    scrubbed: bool = False
    #: An address whose point was erased before: only its suppression record was found.
    suppressed_since: datetime | None = None

    @property
    def changed(self) -> bool:
        """True when this erasure erased something (False: it was all erased already)."""
        return bool(self.erased)

    def lines(self, lang: str = "nl") -> list[str]:
        """What happened, in Dutch or English, a line a point (never the address itself)."""
        nl = lang != "en"
        out: list[str] = []
        for p in self.erased:
            out.append(
                f"gewist: {p.id} ({p.kind.value}); blokkeringsregistratie: {_what(p.what, nl)}"
                if nl
                else f"erased: {p.id} ({p.kind.value}); suppression record: {_what(p.what, nl)}"
            )
        for p in self.already:
            day_nl, day_en = day_both(p.at)
            out.append(
                f"al gewist op {day_nl}: {p.id}; er is niets veranderd"
                if nl
                else f"already erased on {day_en}: {p.id}; nothing changed"
            )
        if self.suppressed_since is not None:
            day_nl, day_en = day_both(self.suppressed_since)
            out.append(
                f"dit adres is al gewist op {day_nl}; alleen de blokkeringsregistratie is er nog; "
                "er is niets veranderd"
                if nl
                else f"this address was erased on {day_en}; only its suppression record remains; "
                "nothing changed"
            )
        for contact in self.keys_kept_for:
            out.append(
                f"de gegevenssleutel van contact {contact} blijft: andere contactpunten ervan zijn niet "
                f"gewist (wis ze allemaal met {CONTACT_PREFIX}{contact})"
                if nl
                else f"the data key of contact {contact} stays: other points of it are not erased "
                f"(erase them all with {CONTACT_PREFIX}{contact})"
            )
        if self.erased and not self.scrubbed:
            out.append(
                "let op: een lezer hield het logboek van de database vast; draai `consentry erase` "
                "opnieuw of wacht op het volgende controlepunt om het op te schonen"
                if nl
                else "note: a reader held the database's log; run `consentry erase` again or await "
                "the next checkpoint to scrub it"
            )
        return out


_WHAT = {
    "objection": ("bezwaar", "objection"),
    "complaint": ("spamklacht", "spam complaint"),
    "unsubscribed": ("afgemeld", "unsubscribed"),
    "hard_bounce": ("onbestelbaar", "hard bounce"),
    "erased": ("gewist", "erased"),
}


def _what(what: str, nl: bool) -> str:
    names = _WHAT.get(what, (what, what))
    return names[0] if nl else names[1]


@dataclass(frozen=True, slots=True)
class ErasureRequest:
    """A request to erase (issue #17 turns a received request or a retention policy into one).

    `contact` is a point id, an address or number, or `contact:<contact id>`; `whole_contact`
    widens a point to every point of its contact (a person's request covers the person).
    """

    contact: str
    reason: str = "request"
    whole_contact: bool = True


def handle_request(app: App, request: ErasureRequest) -> ErasureReport:
    """Carry out an erasure request (idempotent: a repeated request changes nothing and says so)."""
    return erase(app, request.contact, reason=request.reason, whole_contact=request.whole_contact)


def erase(
    app: App, contact: str, *, reason: str = "request", whole_contact: bool = False, actor: str | None = None
) -> ErasureReport:
    """Erase a contact point (an id, address or number), or every point of `contact:<id>`.

    With an `actor` (a user of the admin app) an erasure that erased something is recorded in
    the admin audit log in the same transaction: point ids, reason and keys destroyed, no address.
    """
    reason = _reason(reason)
    if not isinstance(contact, str) or not contact.strip():
        raise InputError("contact", "is required: a contact point id, e-mail address, number or contact:<id>")
    with app.store.writer() as w:
        targets = _targets(app, w, contact.strip(), whole_contact)
        if isinstance(targets, datetime):
            return ErasureReport(reason, suppressed_since=targets)
        events = w.events_for_many(targets)
        report = _erase_states(app, w, [fold(pid, events.get(pid, [])) for pid in targets], reason)
        if actor is not None and report.changed:
            ids = [p.id for p in report.erased]
            detail = {"reason": reason, "points": ids, "keys_destroyed": report.keys_destroyed}
            # A point id (the one asked for, when it was one), never the address it was asked by.
            subject = contact.strip() if contact.strip() in ids else ids[0]
            w.record_audit(AuditEntry(app.clock.now(), actor, AuditAction.CONTACT_ERASED, subject, detail))
    return replace(report, scrubbed=app.store.scrub_erased()) if report.changed else report


def erase_points(app: App, point_ids: Sequence[str], *, reason: str, scrub: bool = True) -> ErasureReport:
    """Erase contact points by id, all in one write transaction (retention erases a batch at a time).

    Each point alone, not its whole contact; an id that names no point is refused, and nothing
    of the batch is erased then. Without `scrub` the caller scrubs the store once it is done
    (a retention run does, after its last batch, rather than once a batch).
    """
    reason = _reason(reason)
    ids = sorted(set(point_ids))
    if not ids:
        return ErasureReport(reason)
    with app.store.writer() as w:
        events = w.events_for_many(ids)
        unknown = [pid for pid in ids if not events.get(pid)]
        if unknown:
            raise UnknownContact("contact", f"no contact point with id {unknown[0]!r}")
        report = _erase_states(app, w, [fold(pid, events[pid]) for pid in ids], reason)
    return replace(report, scrubbed=app.store.scrub_erased()) if report.changed and scrub else report


def erase_within(app: App, w: Writing, point_ids: Sequence[str], reason: str) -> ErasureReport:
    """Erase contact points inside the caller's write transaction (a handled erasure request
    records its outcome in the same one); the caller scrubs after it commits."""
    ids = sorted(set(point_ids))
    events = w.events_for_many(ids)
    unknown = [pid for pid in ids if not events.get(pid)]
    if unknown:
        raise UnknownContact("contact", f"no contact point with id {unknown[0]!r}")
    return _erase_states(app, w, [fold(pid, events[pid]) for pid in ids], _reason(reason))


def _reason(reason: str) -> str:
    try:
        return check_reason(reason)
    except ReasonError as exc:
        raise InputError(exc.field, exc.message) from None


def _erase_states(app: App, w: Writing, states: Sequence[ContactState], reason: str) -> ErasureReport:
    """Erase those of the states not erased yet, in the writer's transaction (not yet scrubbed)."""
    already = tuple(
        ErasedPoint(s.id, s.kind, "erased", s.erased_at) for s in states if s.erased_at is not None
    )
    todo = [s for s in states if s.erased_at is None]
    if not todo:
        return ErasureReport(reason, already=already)
    erased, destroyed, kept = _erase(app, w, todo, reason)
    app.states.forget([s.id for s in todo], [(s.kind, s.value) for s in todo if s.value])  # clear copies
    if before_commit is not None:
        before_commit()
    return ErasureReport(reason, erased, already, destroyed, tuple(kept))


def _erase(
    app: App, w: Writing, states: Sequence[ContactState], reason: str
) -> tuple[tuple[ErasedPoint, ...], int, list[str]]:
    now = app.clock.now()
    payload = validate_payload(ERASED, {"reason": reason})
    # Not projected: the store deletes the erased points' projection rows with their records.
    seqs = w.append(
        [Event(app.ids("ev"), ERASED, s.id, now, now, dict(payload)) for s in states], project=False
    )
    records = []
    for s, seq in zip(states, seqs, strict=True):
        what, channels = suppression_of(s)
        records.append(
            SuppressionRecord(s.id, s.kind, s.value, what, channels, now, reason, seq, s.contact_id)
        )
    destroyed, kept = w.erase_points(records)
    contacts = sorted({s.contact_id or s.id for s in states if s.id in kept})
    return tuple(ErasedPoint(r.point_id, r.kind, r.what, now) for r in records), destroyed, contacts


def _targets(app: App, w: Writing, ref: str, whole_contact: bool) -> list[str] | datetime:
    """The point ids a reference names (with `whole_contact`, every point of their contact);
    or, for an address only a suppression record is left of, when that record was made."""
    if ref.startswith(CONTACT_PREFIX):
        contact_id = ref.removeprefix(CONTACT_PREFIX).strip()
        points = w.contact_points_of([contact_id]).get(contact_id, []) if contact_id else []
        if not points:
            raise UnknownContact(
                "contact", f"no contact point belongs to contact {contact_id!r} (never registered, or erased)"
            )
        return points
    key = point_key(ref, app.settings.default_region)
    if isinstance(key, str):
        if w.point_kind(key) is None:
            raise UnknownContact("contact", f"no contact point with id {key!r}")
        point = key
    else:
        found = w.point_id(*key)
        if found is None:
            prior = w.suppression_of(*key)
            if prior is not None:
                return prior.since
            raise UnknownContact("contact", "no contact point with that address or number is registered")
        point = found
    if not whole_contact:
        return [point]
    state = fold(point, w.events_for(point))
    if not state.contact_id or state.erased_at is not None:
        return [point]
    return sorted({point, *w.contact_points_of([state.contact_id]).get(state.contact_id, [])})
