"""Retention: how long a contact point is kept once nothing lawful needs it, decided per Dutch day.

A policy names a *condition* (what state the point is in), an optional set of purposes,
and a *period* counted from the condition's anchor:

- `unsubscribed`: the point opted out (unsubscribe, withdrawal) or objected to direct
  marketing; anchor: the last such moment.
- `prospect`: never a customer; anchor: the last event recorded on the point (the last
  contact of any kind).
- `former_customer`: a customer relationship that ended; anchor: the day it ended.

Whatever the policy, a point that still has a basis is never selected (`basis_left`): a
valid consent (for any purpose, until it expires), an open contract, a former customer
inside the three-year customer window who has not opted out of everything nor objected,
a restriction of processing, or a data-subject request of the person that is not closed
yet (`dsr_requests`: open or in progress, whatever its kind; see `HOLDING_REQUESTS`).

Days are Dutch calendar days (Europe/Amsterdam): the point is kept through the day
`anchor day + period` and selected from the next day on. Policies are tried in their
order; the first one due names the erasure (`retention:<policy id>`).

`RetentionFacts` is what is needed to decide, and can be read from a folded
`ContactState` (`facts_of`) or set-wise from the audience projection (the SQL store);
both must give the same facts (tests/integration/test_retention.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from consentry.domain.dsr import RequestKind
from consentry.domain.state import ContactState, add_months, local_day
from consentry.domain.vocabulary import ObjectionScope

#: The kinds of data-subject request that keep the person's data while the request is not closed:
#: every kind. Each is answered about, or with, that data and ends with telling the person at
#: their address, which erasure destroys: an access or portability copy must contain it, a
#: rectification or objection is recorded on it, a restriction may be asked precisely to keep it
#: (Art. 18(1)(b)-(c)), and an erasure request is erased by its own handling, which checks the
#: identity, records the request's outcome and tells the person (docs/retention.md).
HOLDING_REQUESTS = frozenset(k.value for k in RequestKind)
#: Years after the end of a customer relationship in which the customer exception may apply.
CUSTOMER_WINDOW_MONTHS = 36
#: An opt-out's purpose token meaning "every purpose".
ALL = "*"


class Condition(StrEnum):
    """The state a retention policy applies to."""

    UNSUBSCRIBED = "unsubscribed"
    PROSPECT = "prospect"
    FORMER_CUSTOMER = "former_customer"


class Unit(StrEnum):
    """The unit of a retention period."""

    DAYS = "days"
    MONTHS = "months"
    YEARS = "years"


@dataclass(frozen=True, slots=True)
class Period:
    """A retention period: a number of calendar days, months or years."""

    amount: int
    unit: Unit

    def last_day(self, anchor: date) -> date:
        """The last Dutch day the data is kept when the period starts on `anchor`."""
        if self.unit is Unit.DAYS:
            return anchor + timedelta(days=self.amount)
        return add_months(anchor, self.amount * (12 if self.unit is Unit.YEARS else 1))

    def nl(self) -> str:
        """The period in Dutch."""
        one, many = {"days": ("dag", "dagen"), "months": ("maand", "maanden"), "years": ("jaar", "jaar")}[
            self.unit.value
        ]
        return f"{self.amount} {one if self.amount == 1 else many}"

    def en(self) -> str:
        """The period in English."""
        word = self.unit.value[:-1] if self.amount == 1 else self.unit.value
        return f"{self.amount} {word}"

    def __str__(self) -> str:
        return self.en()


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """One retention policy: when a point without a basis is erased, and the rule it rests on."""

    id: str
    name_nl: str
    name_en: str
    condition: Condition
    period: Period
    rule: str
    citation: str
    #: Only points held for (or opted out of) one of these purposes; None: any point.
    purposes: frozenset[str] | None = None

    def applies_to(self, facts: RetentionFacts) -> bool:
        """Whether the point is in the policy's state and held for one of its purposes."""
        if self.purposes is not None and ALL not in facts.purposes and not (self.purposes & facts.purposes):
            return False
        return anchor(self.condition, facts) is not None

    def due_day(self, facts: RetentionFacts) -> date | None:
        """The first Dutch day this policy erases the point (ignoring bases); None if it does not apply."""
        if not self.applies_to(facts):
            return None
        start = anchor(self.condition, facts)
        assert start is not None
        return self.period.last_day(start) + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RetentionFacts:
    """What retention needs to know about one (not erased) contact point."""

    point_id: str
    #: A valid consent with no end date (any purpose, channel).
    consent_open: bool = False
    #: The first day the latest valid consent given for a time no longer holds.
    consent_until: date | None = None
    customer: bool = False
    #: The Dutch day the customer relationship ended; None while a contract runs or for a prospect.
    ended_day: date | None = None
    #: An unsubscribe from every purpose on every channel.
    opted_out_all: bool = False
    #: An objection to direct marketing stands.
    objected: bool = False
    #: The last opt-out, withdrawal or standing objection to direct marketing.
    opted_out_at: datetime | None = None
    last_event_at: datetime | None = None
    #: The kinds of the person's data-subject requests not closed yet (on this point, or on
    #: another point of the same contact), as `dsr_requests` tracks them.
    open_requests: frozenset[str] = frozenset()
    #: The purposes the point holds a consent for or opted out of (`*`: opted out of every purpose).
    purposes: frozenset[str] = frozenset()
    #: Processing is restricted (GDPR Art. 18): the data is kept, not processed, until lifted.
    restricted: bool = False


def anchor(condition: Condition, f: RetentionFacts) -> date | None:
    """The Dutch day a condition's period starts from; None when the point is not in that state."""
    if condition is Condition.UNSUBSCRIBED:
        return local_day(f.opted_out_at) if f.opted_out_at is not None else None
    if condition is Condition.PROSPECT:
        if f.customer or f.last_event_at is None:
            return None
        return local_day(f.last_event_at)
    return f.ended_day if f.customer else None


def basis_left(f: RetentionFacts, day: date) -> str | None:
    """The basis that still holds the point's data on a Dutch day (None: no basis left)."""
    if f.restricted:  # Art. 18(1)(b)-(d): the person asked to keep it (e.g. for a legal claim)
        return "restriction"
    if f.consent_open or (f.consent_until is not None and day < f.consent_until):
        return "consent"
    if f.customer and f.ended_day is None:
        return "contract"
    if (
        f.customer
        and f.ended_day is not None
        and day <= add_months(f.ended_day, CUSTOMER_WINDOW_MONTHS)
        and not (f.opted_out_all or f.objected)
    ):
        return "customer_exception"
    if f.open_requests & HOLDING_REQUESTS:  # until the request is closed, however long that takes
        return "open_request"
    return None


def due(policies: Sequence[RetentionPolicy], f: RetentionFacts, day: date) -> RetentionPolicy | None:
    """The first policy that erases the point on `day`; None when a basis is left or none is due."""
    if basis_left(f, day) is not None:
        return None
    for p in policies:
        when = p.due_day(f)
        if when is not None and when <= day:
            return p
    return None


def facts_of(s: ContactState, open_requests: Iterable[str] = ()) -> RetentionFacts | None:
    """A folded state's retention facts; None for an erased point (nothing left to erase).

    The ledger records a request's receipt and steps, but its state (open or closed) is the
    request's row: `open_requests` are the kinds of the person's requests not closed yet
    (the store's `open_requests_of`).
    """
    if s.erased_at is not None:
        return None
    consent_open = False
    until: date | None = None
    for c in s.consents:
        if not c.active or c.pending or c.defects:
            continue
        ends = c.expires_on
        if ends is None:
            consent_open = True
        elif until is None or ends > until:
            until = ends
    dm = s.objections.get(ObjectionScope.DIRECT_MARKETING.value)
    outs = [o.at for o in s.opt_outs] + ([dm] if dm is not None else [])
    end = s.relationship_end
    purposes = {c.purpose for c in s.consents if c.withdrawn_at is None}
    purposes.update(o.purpose or ALL for o in s.opt_outs)
    return RetentionFacts(
        point_id=s.id,
        consent_open=consent_open,
        consent_until=until,
        customer=bool(s.purchases),
        ended_day=local_day(end) if end is not None else None,
        opted_out_all=any(o.purpose is None and o.channels is None for o in s.opt_outs),
        objected=dm is not None,
        opted_out_at=max(outs) if outs else None,
        last_event_at=s.last_event_at,
        open_requests=frozenset(open_requests),
        purposes=frozenset(purposes),
        restricted=s.restricted_at is not None,
    )


def select(
    policies: Sequence[RetentionPolicy], facts: Iterable[RetentionFacts], day: date
) -> Iterable[tuple[str, RetentionPolicy]]:
    """(point id, policy) for every point some policy erases on `day`."""
    for f in facts:
        p = due(policies, f, day)
        if p is not None:
            yield f.point_id, p
