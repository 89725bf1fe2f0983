"""Contact-point state: what the rules judge about one point, as folded from its events.

The state does not depend on the moment asked about: to judge "as of" a moment,
fold only the events that occurred by then (`consentry.domain.fold`). Time-dependent
questions (is a register listing active, did the relationship end more than three
years ago) are answered by the policy with the moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, TypeVar

from consentry.domain.clock import LOCAL_TZ
from consentry.domain.vocabulary import (
    CHANNELS_BY_POINT,
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
        return add_months(local_day(self.given_at), self.valid_for_months)

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


@dataclass(frozen=True, slots=True, init=False)
class Purchase:
    """A sale in which the sender obtained the contact point."""

    at: datetime
    categories: frozenset[str]
    opt_out_offered: bool
    collected_by_sender: bool
    contract: bool = False

    def __init__(
        self,
        at: datetime,
        categories: frozenset[str],
        opt_out_offered: bool,
        collected_by_sender: bool,
        contract: bool = False,
    ) -> None:
        """The generated `__init__`'s fields and default, each set through its slot's own
        descriptor (`_PURCHASE_SLOTS`), as `events.Event` does: a frozen dataclass's sets each
        by an `object.__setattr__` call (1.0 against 0.5 µs a purchase). A fold makes one for
        every `purchase.recorded` (a third of the events of an append, each point folded
        again at every decision)."""
        set_at, set_categories, set_offered, set_collected, set_contract = _PURCHASE_SLOTS
        set_at(self, at)
        set_categories(self, categories)
        set_offered(self, opt_out_offered)
        set_collected(self, collected_by_sender)
        set_contract(self, contract)


#: The setters of `Purchase`'s slots in field order: they write a slot past the frozen `__setattr__`.
_PURCHASE_SLOTS = tuple(Purchase.__dict__[f.name].__set__ for f in fields(Purchase))


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


@dataclass(frozen=True, slots=True)
class PriorSuppression:
    """A suppression record that outlived an erased contact point with the same address or number.

    `what` the earlier point was suppressed for (`unsubscribed`, `objection`, `complaint`,
    `hard_bounce`, `erased`), `channels` it covers (None: every channel), `since` when the
    record was made, `reason` why it was erased (`request`, `retention:<policy>` ...).
    """

    what: str
    channels: frozenset[str] | None
    since: datetime
    reason: str

    def covers(self, channel: str) -> bool:
        """True when the suppression applies to this channel."""
        return self.channels is None or channel in self.channels


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
    #: Since when processing is restricted (GDPR Art. 18); None when it is not (or was lifted).
    restricted_at: datetime | None = None
    event_count: int = 0
    last_event_at: datetime | None = None
    last_seq: int = 0
    #: The seq of the point's registration: the short number the projection keys its search
    #: terms by (`contact_points.registered_seq`); 0 when no registration was folded.
    registered_seq: int = 0
    #: Objections recorded on the person's other contact points (same `contact_id`), by
    #: scope: the point and the moment. Not folded from this point's events: the services
    #: fill it from the ledger when they load a state to judge (GDPR Art. 21 binds the person).
    person_objections: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    #: The suppression record of an earlier, erased point with the same address or number
    #: ("uitgeschreven = uitgeschreven", also after erasure). Not folded from this point's
    #: events: the store fills it by the point's blind index when it loads or projects a state.
    prior_suppression: PriorSuppression | None = None

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
        return add_months(self.registered_at, 1)

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
            "restricted_at": ts(self.restricted_at),
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


#: Register key of the Nationaal Overledenenregister, and how long it lists someone.
DECEASED = "overledenen"
DECEASED_YEARS = 10

#: A date, or a moment: `add_months` keeps the time of a moment.
_Day = TypeVar("_Day", bound=date)


def add_months(day: _Day, months: int) -> _Day:
    """The same calendar day (or moment) `months` later; a day the month lacks becomes its last day.

    31 January and one month is 28 or 29 February; 29 February and twelve months is 28 February.
    """
    n = day.month - 1 + months
    year, month = day.year + n // 12, n % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=d)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def local_day(moment: datetime) -> date:
    """The Dutch calendar day of a moment (registers list Dutch days)."""
    return moment.astimezone(LOCAL_TZ).date()
