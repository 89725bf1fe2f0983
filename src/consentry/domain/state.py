"""Contact-point state, folded from its ledger events.

The state is what the rules judge. It does not depend on the moment asked
about: to judge "as of" a moment, fold only the events that occurred by then.
Time-dependent questions (is a register listing active, did the relationship
end more than three years ago) are answered by the policy with the moment.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from consentry.domain.events import Event
from consentry.domain.vocabulary import (
    CHANNELS_BY_POINT,
    INVALID_METHODS,
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


@dataclass(frozen=True, slots=True)
class Listing:
    """A listing on a do-not-contact register, over a period of days."""

    register: str
    listed_from: date
    listed_until: date | None

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
    registered_at: datetime | None = None
    consents: list[ConsentRecord] = field(default_factory=list)
    opt_outs: list[OptOut] = field(default_factory=list)
    objections: dict[str, datetime] = field(default_factory=dict)
    purchases: list[Purchase] = field(default_factory=list)
    relationship_ended_at: datetime | None = None
    notices: dict[str, datetime] = field(default_factory=dict)
    listings: list[Listing] = field(default_factory=list)
    hard_bounced_at: datetime | None = None
    complained_at: datetime | None = None
    soft_bounces: int = 0
    erased_at: datetime | None = None
    event_count: int = 0
    last_event_at: datetime | None = None
    last_seq: int = 0

    @property
    def channels(self) -> frozenset[Channel]:
        """Channels this point can carry."""
        return CHANNELS_BY_POINT[self.kind]

    def to_json(self) -> dict[str, Any]:
        """A JSON-native summary for the projection table and the admin views."""

        def ts(d: datetime | None) -> str | None:
            return d.isoformat() if d else None

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
            "event_count": self.event_count,
            "last_seq": self.last_seq,
        }


def _consent_defects(p: dict[str, Any], method: ConsentMethod) -> tuple[str, ...]:
    defects = []
    if method in INVALID_METHODS:
        defects.append(method.value)
    if p.get("bundled"):
        defects.append("bundled")
    if p.get("vague"):
        defects.append("vague")
    return tuple(defects)


def _apply_details(state: ContactState, p: dict[str, Any]) -> None:
    if "party" in p:
        state.party = PartyKind(p["party"])
    if "country" in p:
        state.country = p["country"]
    if "published_for_offers" in p:
        state.published_for_offers = p["published_for_offers"]
    if "published_for_offers_evidence" in p:
        state.published_for_offers_evidence = p["published_for_offers_evidence"]
    if "local_rules_met" in p:
        state.local_rules_met = p["local_rules_met"]
    if "own_employee" in p:
        state.own_employee = p["own_employee"]
    if "display_name" in p:
        state.display_name = p["display_name"]
    if "contact_id" in p:
        state.contact_id = p["contact_id"]


def _opt_out(state: ContactState, p: dict[str, Any], at: datetime) -> None:
    chans = frozenset(Channel(c) for c in p["channels"]) if "channels" in p else None
    out = OptOut(p.get("purpose"), chans, at)
    state.opt_outs.append(out)
    for c in state.consents:
        if c.withdrawn_at is None and (out.purpose is None or out.purpose == c.purpose):
            c.channels -= chans if chans is not None else c.channels
            if not c.channels:
                c.withdrawn_at = at


def apply(state: ContactState, event: Event) -> None:
    """Fold one event into the state (events arrive in (occurred_at, seq) order)."""
    p: dict[str, Any] = dict(event.payload)
    at = event.occurred_at
    t = event.type
    if t == "consent.given":
        method = ConsentMethod(p["method"])
        state.consents.append(
            ConsentRecord(
                event_id=event.id,
                purpose=p["purpose"],
                channels={Channel(c) for c in p["channels"]},
                method=method,
                given_at=at,
                text_version=p.get("text_version"),
                defects=_consent_defects(p, method),
            )
        )
    elif t == "consent.confirmed":
        target = p.get("consent_event")
        for c in reversed(state.consents):
            if c.purpose == p["purpose"] and (target is None or c.event_id == target):
                if c.confirmed_at is None:
                    c.confirmed_at = at
                break
    elif t in ("consent.withdrawn", "unsubscribed"):
        _opt_out(state, p, at)
    elif t == "objection.recorded":
        state.objections.setdefault(p["scope"], at)
    elif t == "objection.withdrawn":
        state.objections.pop(p["scope"], None)
    elif t == "purchase.recorded":
        state.purchases.append(
            Purchase(
                at,
                frozenset(p["categories"]),
                p["opt_out_offered"],
                p.get("collected_by_sender", True),
            )
        )
        state.relationship_ended_at = None
    elif t == "customer_relationship.ended":
        state.relationship_ended_at = at
    elif t == "notice.given":
        state.notices.setdefault(p["article"], at)
    elif t == "register.listed":
        start = date.fromisoformat(p["listed_from"]) if "listed_from" in p else at.date()
        end = date.fromisoformat(p["listed_until"]) if "listed_until" in p else None
        state.listings.append(Listing(p["register"], start, end))
    elif t == "bounce.recorded":
        if p["bounce_kind"] == "hard":
            state.hard_bounced_at = state.hard_bounced_at or at
        else:
            state.soft_bounces += 1
    elif t == "complaint.recorded":
        state.complained_at = state.complained_at or at
    elif t == "contact_point.erased":
        state.erased_at = state.erased_at or at
    elif t == "contact_point.registered":
        state.kind = PointKind(p["kind"])
        state.value = p["value"]
        state.source = Source(p["source"])
        state.source_detail = p.get("source_detail")
        state.registered_at = at
        _apply_details(state, p)
    elif t == "contact_point.updated":
        _apply_details(state, p)
    state.event_count += 1
    if state.last_event_at is None or at > state.last_event_at:
        state.last_event_at = at
    if event.seq is not None:
        state.last_seq = event.seq


def fold(contact_point_id: str, events: Iterable[Event], as_of: datetime | None = None) -> ContactState:
    """Fold events into a state; with `as_of`, only those that occurred by then.

    Events must come in (occurred_at, seq) order, which is how every store reads
    them, so a back-filled event takes its place in the person's history.
    """
    state = ContactState(id=contact_point_id)
    for event in events:
        if as_of is None or event.occurred_at <= as_of:
            apply(state, event)
    return state
