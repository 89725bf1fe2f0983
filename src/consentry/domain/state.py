"""Contact-point state, folded from its ledger events.

The state is what the rules judge. It does not depend on the moment asked
about: to judge "as of" a moment, fold only the events that occurred by then.
Time-dependent questions (is a register listing active, did the relationship
end more than three years ago) are answered by the policy with the moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from consentry.domain.clock import LOCAL_TZ
from consentry.domain.events import Event
from consentry.domain.vocabulary import (
    CHANNELS_BY_POINT,
    INVALID_METHODS,
    NOT_FROM_SUBJECT,
    Channel,
    ConsentMethod,
    PartyKind,
    PointKind,
    Source,
)


@dataclass(slots=True)
class ConsentRecord:
    """One consent as given, and what happened to it since."""

    event_id: str
    purpose: str
    channels: set[Channel]
    method: ConsentMethod
    given_at: datetime
    text_version: str | None
    defects: tuple[str, ...]
    confirmed_at: datetime | None = None
    withdrawn_at: datetime | None = None
    valid_for_months: int | None = None

    @property
    def expires_on(self) -> date | None:
        """The first Dutch calendar day the consent no longer holds, when it was given for a time."""
        if self.valid_for_months is None:
            return None
        return add_months(_local_day(self.given_at), self.valid_for_months)

    @property
    def pending(self) -> bool:
        """A double opt-in that has not been confirmed yet."""
        return self.method is ConsentMethod.DOUBLE_OPT_IN and self.confirmed_at is None

    @property
    def active(self) -> bool:
        """Not withdrawn and still covering at least one channel."""
        return self.withdrawn_at is None and bool(self.channels)


@dataclass(frozen=True, slots=True)
class OptOut:
    """An unsubscribe or withdrawal: for one purpose or all, some channels or all."""

    purpose: str | None
    channels: frozenset[Channel] | None
    at: datetime

    def covers(self, purpose: str, channel: Channel) -> bool:
        """True when this opt-out applies to the purpose and channel."""
        return (self.purpose is None or self.purpose == purpose) and (
            self.channels is None or channel in self.channels
        )


@dataclass(frozen=True, slots=True)
class Purchase:
    """A sale in which the sender obtained the contact point."""

    at: datetime
    categories: frozenset[str]
    opt_out_offered: bool
    collected_by_sender: bool
    contract: bool = False


@dataclass(frozen=True, slots=True)
class Listing:
    """A listing on a do-not-contact register, over a period of days."""

    register: str
    listed_from: date
    listed_until: date | None
    sectors: frozenset[str] | None = None

    def active_on(self, day: date) -> bool:
        """True when the listing covers that day."""
        return self.listed_from <= day and (self.listed_until is None or day <= self.listed_until)


@dataclass(slots=True)
class ContactState:
    """Everything the rules need to know about one contact point."""

    id: str
    kind: PointKind = PointKind.EMAIL
    value: str = ""
    party: PartyKind = PartyKind.CONSUMER
    source: Source = Source.IMPORT
    source_detail: str | None = None
    country: str | None = None
    published_for_offers: bool = False
    published_for_offers_evidence: str | None = None
    local_rules_met: bool = False
    own_employee: bool = False
    display_name: str | None = None
    contact_id: str | None = None
    stated_basis: str | None = None
    role_address: bool = False
    attributes: dict[str, str] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    registered_at: datetime | None = None
    consents: list[ConsentRecord] = field(default_factory=list)
    opt_outs: list[OptOut] = field(default_factory=list)
    objections: dict[str, datetime] = field(default_factory=dict)
    purchases: list[Purchase] = field(default_factory=list)
    relationship_ended_at: datetime | None = None
    contract_open: bool = False
    notices: dict[str, datetime] = field(default_factory=dict)
    listings: list[Listing] = field(default_factory=list)
    hard_bounced_at: datetime | None = None
    complained_at: datetime | None = None
    soft_bounces: int = 0
    erased_at: datetime | None = None
    requests: list[tuple[str, datetime]] = field(default_factory=list)
    event_count: int = 0
    last_event_at: datetime | None = None
    last_seq: int = 0
    #: Objections recorded on the person's other contact points (same `contact_id`), by
    #: scope: the point and the moment. Not folded from this point's events: the services
    #: fill it from the ledger when they load a state to judge (GDPR Art. 21 binds the person).
    person_objections: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    @property
    def relationship_end(self) -> datetime | None:
        """When the customer relationship ended, as the three-year windows count it.

        None while a subscription or contract runs (or there were no purchases). A
        relationship of one-off purchases ends with the last purchase, unless an
        explicit `customer_relationship.ended` came later.
        """
        if not self.purchases or self.contract_open:
            return None
        return self.relationship_ended_at or self.purchases[-1].at

    @property
    def art14_notice_due(self) -> datetime | None:
        """When the Art. 14 notice is due (one month after the data came in), if it is owed.

        Owed when the data did not come from the person and no Art. 14 notice was
        given; at the first contact it is due at once, whatever this date says.
        """
        if self.source not in NOT_FROM_SUBJECT or "14" in self.notices or self.registered_at is None:
            return None
        return add_month(self.registered_at)

    @property
    def channels(self) -> frozenset[Channel]:
        """Channels this point can carry."""
        return CHANNELS_BY_POINT[self.kind]

    def to_json(self) -> dict[str, Any]:
        """A JSON-native summary for the projection table and the admin views."""
        ts = _ts
        return {
            "id": self.id,
            "kind": self.kind.value,
            "value": self.value,
            "party": self.party.value,
            "source": self.source.value,
            "country": self.country,
            "published_for_offers": self.published_for_offers,
            "consents": [
                {
                    "event_id": c.event_id,
                    "purpose": c.purpose,
                    "channels": sorted(c.channels),
                    "method": c.method.value,
                    "given_at": ts(c.given_at),
                    "confirmed_at": ts(c.confirmed_at),
                    "withdrawn_at": ts(c.withdrawn_at),
                    "defects": list(c.defects),
                }
                for c in self.consents
            ],
            "opt_outs": [
                {
                    "purpose": o.purpose,
                    "channels": sorted(o.channels) if o.channels else None,
                    "at": ts(o.at),
                }
                for o in self.opt_outs
            ],
            "objections": {k: ts(v) for k, v in self.objections.items()},
            "purchases": [{"at": ts(p.at), "categories": sorted(p.categories)} for p in self.purchases],
            "relationship_ended_at": ts(self.relationship_ended_at),
            "contract_open": self.contract_open,
            "notices": {k: ts(v) for k, v in self.notices.items()},
            "listings": [
                {
                    "register": li.register,
                    "from": li.listed_from.isoformat(),
                    "until": li.listed_until.isoformat() if li.listed_until else None,
                }
                for li in self.listings
            ],
            "hard_bounced_at": ts(self.hard_bounced_at),
            "complained_at": ts(self.complained_at),
            "erased_at": ts(self.erased_at),
            "art14_notice_due": ts(self.art14_notice_due),
            "requests": [{"request": kind, "at": ts(at)} for kind, at in self.requests],
            "attributes": dict(self.attributes),
            "tags": sorted(self.tags),
            "stated_basis": self.stated_basis,
            "role_address": self.role_address,
            "event_count": self.event_count,
            "last_seq": self.last_seq,
        }


def _ts(d: datetime | None) -> str | None:
    return d.isoformat() if d else None


_CHANNEL = {c.value: c for c in Channel}
_METHOD = {m.value: m for m in ConsentMethod}
_PARTY = {k.value: k for k in PartyKind}
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

Payload = Mapping[str, Any]
#: Register key of the Nationaal Overledenenregister, and how long it lists someone.
DECEASED = "overledenen"
DECEASED_YEARS = 10


def add_month(moment: datetime) -> datetime:
    """The same moment a calendar month later (31 January -> 28/29 February)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    for day in (moment.day, 30, 29, 28):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def add_months(day: date, months: int) -> date:
    """The same calendar day `months` later; a day the month lacks becomes its last day."""
    n = day.month - 1 + months
    year, month = day.year + n // 12, n % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=d)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def _local_day(moment: datetime) -> date:
    """The Dutch calendar day of a moment (registers list Dutch days)."""
    return moment.astimezone(LOCAL_TZ).date()


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
    for name in _DETAILS:
        if name in p:
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
    start = date.fromisoformat(p["listed_from"]) if "listed_from" in p else _local_day(e.occurred_at)
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
    state.attributes.update(p["attributes"])


def _tags(state: ContactState, e: Event, p: Payload) -> None:
    state.tags.update(p["tags"])


def _request(state: ContactState, e: Event, p: Payload) -> None:
    state.requests.append((p["request"], e.occurred_at))


def _registered(state: ContactState, e: Event, p: Payload) -> None:
    state.kind = PointKind(p["kind"])
    state.value = p["value"]
    state.source = Source(p["source"])
    state.source_detail = p.get("source_detail")
    state.registered_at = e.occurred_at
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
