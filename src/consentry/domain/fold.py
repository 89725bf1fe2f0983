"""Folding a contact point's ledger events into its state, one event type at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from consentry.domain.events import Event
from consentry.domain.state import (
    DECEASED,
    DECEASED_YEARS,
    ConsentRecord,
    ContactState,
    Listing,
    OptOut,
    Purchase,
    add_months,
    local_day,
)
from consentry.domain.vocabulary import (
    INVALID_METHODS,
    Channel,
    ConsentMethod,
    PartyKind,
    PointKind,
    Source,
)

_CHANNEL = {c.value: c for c in Channel}
_METHOD = {m.value: m for m in ConsentMethod}
_PARTY = {k.value: k for k in PartyKind}
_KIND = {k.value: k for k in PointKind}
_SOURCE = {k.value: k for k in Source}
_DETAILS = (
    "country",
    "published_for_offers",
    "published_for_offers_evidence",
    "local_rules_met",
    "own_employee",
    "display_name",
    "contact_id",
    "stated_basis",
    "role_address",
)
_DETAIL_NAMES = frozenset(_DETAILS)

Payload = Mapping[str, Any]


def _consent_defects(p: Payload, method: ConsentMethod) -> tuple[str, ...]:
    defects = []
    if method in INVALID_METHODS:
        defects.append(method.value)
    if p.get("bundled"):
        defects.append("bundled")
    if p.get("vague"):
        defects.append("vague")
    return tuple(defects)


def _apply_details(state: ContactState, p: Payload) -> None:
    if "party" in p:
        state.party = _PARTY[p["party"]]
    for name in _DETAIL_NAMES.intersection(p):  # each a field of its own: the order does not matter
        setattr(state, name, p[name])


def _consent_given(state: ContactState, e: Event, p: Payload) -> None:
    method = _METHOD[p["method"]]
    state.consents.append(
        ConsentRecord(
            event_id=e.id,
            purpose=p["purpose"],
            channels={_CHANNEL[c] for c in p["channels"]},
            method=method,
            given_at=e.occurred_at,
            text_version=p.get("text_version"),
            defects=_consent_defects(p, method),
            valid_for_months=p.get("valid_for_months"),
        )
    )


def _consent_confirmed(state: ContactState, e: Event, p: Payload) -> None:
    target = p.get("consent_event")
    for c in reversed(state.consents):
        if c.purpose == p["purpose"] and (target is None or c.event_id == target):
            if c.confirmed_at is None:
                c.confirmed_at = e.occurred_at
            break


def _opt_out(state: ContactState, e: Event, p: Payload) -> None:
    chans = frozenset(_CHANNEL[c] for c in p["channels"]) if "channels" in p else None
    out = OptOut(p.get("purpose"), chans, e.occurred_at)
    state.opt_outs.append(out)
    for c in state.consents:
        if c.withdrawn_at is None and (out.purpose is None or out.purpose == c.purpose):
            c.channels -= chans if chans is not None else c.channels
            if not c.channels:
                c.withdrawn_at = e.occurred_at


def _objection(state: ContactState, e: Event, p: Payload) -> None:
    state.objections.setdefault(p["scope"], e.occurred_at)


def _objection_withdrawn(state: ContactState, e: Event, p: Payload) -> None:
    state.objections.pop(p["scope"], None)


def _purchase(state: ContactState, e: Event, p: Payload) -> None:
    state.purchases.append(
        Purchase(
            e.occurred_at,
            frozenset(p["categories"]),
            p["opt_out_offered"],
            p.get("collected_by_sender", True),
            p.get("contract", False),
        )
    )
    state.relationship_ended_at = None
    if p.get("contract"):
        state.contract_open = True


def _relationship_ended(state: ContactState, e: Event, p: Payload) -> None:
    state.relationship_ended_at = e.occurred_at
    state.contract_open = False


def _notice(state: ContactState, e: Event, p: Payload) -> None:
    state.notices.setdefault(p["article"], e.occurred_at)


def _listed(state: ContactState, e: Event, p: Payload) -> None:
    start = date.fromisoformat(p["listed_from"]) if "listed_from" in p else local_day(e.occurred_at)
    end = date.fromisoformat(p["listed_until"]) if "listed_until" in p else None
    if end is None and p["register"] == DECEASED:
        # The Nationaal Overledenenregister blocks mail to the deceased for ten years.
        end = add_months(start, 12 * DECEASED_YEARS) - timedelta(days=1)
    sectors = frozenset(p["sectors"]) if "sectors" in p else None
    state.listings.append(Listing(p["register"], start, end, sectors))


def _bounce(state: ContactState, e: Event, p: Payload) -> None:
    if p["bounce_kind"] == "hard":
        state.hard_bounced_at = state.hard_bounced_at or e.occurred_at
    else:
        state.soft_bounces += 1


def _complaint(state: ContactState, e: Event, p: Payload) -> None:
    state.complained_at = state.complained_at or e.occurred_at


def _erased(state: ContactState, e: Event, p: Payload) -> None:
    state.erased_at = state.erased_at or e.occurred_at


def _attributes(state: ContactState, e: Event, p: Payload) -> None:
    # Personal fields are absent from an erased contact's events (its key is destroyed).
    state.attributes.update(p.get("attributes", {}))


def _tags(state: ContactState, e: Event, p: Payload) -> None:
    state.tags.update(p["tags"])


def _request(state: ContactState, e: Event, p: Payload) -> None:
    state.requests.append((p["request"], e.occurred_at))


def _restricted(state: ContactState, e: Event, p: Payload) -> None:
    state.restricted_at = state.restricted_at or e.occurred_at


def _restriction_lifted(state: ContactState, e: Event, p: Payload) -> None:
    state.restricted_at = None


def _nothing(state: ContactState, e: Event, p: Payload) -> None:
    """A request's handling (the request table tracks it) or a note: the rules read nothing from it."""


def _registered(state: ContactState, e: Event, p: Payload) -> None:
    kind, source = p["kind"], p["source"]
    # A dictionary look-up, a fraction of the enum's call; the call names an unknown value.
    state.kind = _KIND[kind] if kind in _KIND else PointKind(kind)
    state.value = p.get("value", "")  # absent once the contact's key is destroyed (erased)
    state.source = _SOURCE[source] if source in _SOURCE else Source(source)
    state.source_detail = p.get("source_detail")
    state.registered_at = e.occurred_at
    state.registered_seq = e.seq or 0
    _apply_details(state, p)
    if "attributes" in p:
        state.attributes.update(p["attributes"])
    if "tags" in p:
        state.tags.update(p["tags"])


def _updated(state: ContactState, e: Event, p: Payload) -> None:
    _apply_details(state, p)


#: What each event type does to the state. A type missing here is a bug: the
#: test suite checks that every documented type has a handler.
HANDLERS: dict[str, Callable[[ContactState, Event, Payload], None]] = {
    "contact_point.registered": _registered,
    "contact_point.updated": _updated,
    "consent.given": _consent_given,
    "consent.confirmed": _consent_confirmed,
    "consent.withdrawn": _opt_out,
    "unsubscribed": _opt_out,
    "objection.recorded": _objection,
    "objection.withdrawn": _objection_withdrawn,
    "purchase.recorded": _purchase,
    "customer_relationship.ended": _relationship_ended,
    "notice.given": _notice,
    "register.listed": _listed,
    "bounce.recorded": _bounce,
    "complaint.recorded": _complaint,
    "contact_point.erased": _erased,
    "request.received": _request,
    "request.identity_checked": _nothing,
    "request.started": _nothing,
    "request.extended": _nothing,
    "request.handled": _nothing,
    "request.told": _nothing,
    "note.recorded": _nothing,
    "processing.restricted": _restricted,
    "processing.restriction_lifted": _restriction_lifted,
    "attributes.set": _attributes,
    "tags.added": _tags,
}


def apply(state: ContactState, event: Event) -> None:
    """Fold one event into the state (events arrive in (occurred_at, seq) order)."""
    HANDLERS[event.type](state, event, event.payload)
    state.event_count += 1
    at = event.occurred_at
    if state.last_event_at is None or at > state.last_event_at:
        state.last_event_at = at
    if event.seq is not None and event.seq > state.last_seq:
        state.last_seq = event.seq


def fold(contact_point_id: str, events: Iterable[Event], as_of: datetime | None = None) -> ContactState:
    """Fold events into a state; with `as_of`, only those that occurred by then.

    Events must come in (occurred_at, seq) order, which is how every store reads
    them, so a back-filled event takes its place in the person's history.
    """
    state = ContactState(id=contact_point_id)
    handlers = HANDLERS
    count = last_seq = 0
    last_at: datetime | None = None
    for event in events:
        at = event.occurred_at
        if as_of is not None and at > as_of:
            continue
        handlers[event.type](state, event, event.payload)
        count += 1
        if last_at is None or at > last_at:
            last_at = at
        if event.seq is not None and event.seq > last_seq:
            last_seq = event.seq
    state.event_count, state.last_event_at, state.last_seq = count, last_at, last_seq
    return state
