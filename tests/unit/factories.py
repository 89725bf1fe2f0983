"""Plain factory functions for unit tests: moments, ledger events, folded states, purposes.

Every event payload goes through `validate_payload`, so a test can only build events the
ledger would accept. `history` orders the events by when they occurred, numbers them and
folds them, the way a store reads a contact point's ledger.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState
from consentry.domain.validation import validate_payload
from consentry.domain.vocabulary import Channel, PointKind

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CONTACT_POINT = "cp-test"

_ids = itertools.count(1)

# -- purposes ------------------------------------------------------------------------------

#: The sender's own shoe offers: similar to what a shoe customer bought.
SHOES = Purpose("shoes", "Schoenenaanbiedingen", "Shoe offers", categories=frozenset({"shoes"}))
#: The sender's own garden offers: not similar to shoes.
GARDEN = Purpose("garden", "Tuinaanbiedingen", "Garden offers", categories=frozenset({"garden"}))
#: Offers of other companies: never "own similar products".
PARTNER_OFFERS = Purpose(
    "partner-offers",
    "Aanbiedingen van partners",
    "Partner offers",
    categories=frozenset({"shoes"}),
    third_party=True,
)

# -- moments -------------------------------------------------------------------------------


def utc(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def amsterdam(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    """A moment on the Dutch wall clock (CET/CEST), timezone-aware."""
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


def odd_moment(rnd: random.Random, first_year: int, zones: Sequence[tzinfo | None]) -> datetime:
    """A moment formatting code may get wrong: a year from `first_year` to 9999 (short years,
    the edge at 1000 and common ones alike), a fraction of none, one, the most or any
    microseconds, in one of `zones`."""
    return datetime(
        rnd.choice([first_year, 999, 1000, rnd.randrange(first_year, 10_000), rnd.randrange(1900, 2100)]),
        rnd.randrange(1, 13),
        rnd.randrange(1, 29),
        rnd.randrange(24),
        rnd.randrange(60),
        rnd.randrange(60),
        rnd.choice([0, 0, 1, 999_999, rnd.randrange(1_000_000)]),
        tzinfo=rnd.choice(zones),
    )


class MomentWithOwnText(datetime):
    """A datetime subclass that writes itself its own way: code that formats a moment must
    ask it, not write the fields out."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "a subclass's own text"


# -- events --------------------------------------------------------------------------------


def event(type_name: str, at: datetime, **payload: Any) -> Event:
    """One ledger event with a validated payload (fields left as None are omitted)."""
    given = {k: v for k, v in payload.items() if v is not None}
    return Event(
        id=f"ev-{next(_ids)}",
        type=type_name,
        contact_point_id=CONTACT_POINT,
        occurred_at=at,
        recorded_at=at,
        payload=validate_payload(type_name, given),
    )


_VALUES = {
    "email": "jan@example.nl",
    "phone": "+31612345678",
    "postal": "Dorpsstraat 1, 1234 AB Ergens",
}


def registered(
    at: datetime,
    kind: str = "email",
    source: str = "web_form",
    party: str = "consumer",
    value: str | None = None,
    **details: Any,
) -> Event:
    """A contact point enters the ledger (details: country, published_for_offers ...)."""
    return event(
        "contact_point.registered",
        at,
        kind=kind,
        value=value or _VALUES[kind],
        source=source,
        party=party,
        **details,
    )


def consent_given(
    at: datetime,
    purpose: str = "shoes",
    channels: tuple[str, ...] = ("email",),
    method: str = "single_opt_in",
    **extra: Any,
) -> Event:
    """The person consents to one purpose over some channels (extra: bundled, vague ...)."""
    return event(
        "consent.given",
        at,
        purpose=purpose,
        channels=list(channels),
        method=method,
        text_version="v1",
        **extra,
    )


def consent_confirmed(at: datetime, purpose: str = "shoes") -> Event:
    """The person clicked the double opt-in confirmation link."""
    return event("consent.confirmed", at, purpose=purpose)


def consent_withdrawn(
    at: datetime, purpose: str | None = None, channels: tuple[str, ...] | None = None
) -> Event:
    """The person withdraws consent (all purposes / channels when omitted)."""
    return event("consent.withdrawn", at, purpose=purpose, channels=list(channels) if channels else None)


def unsubscribed(at: datetime, purpose: str | None = None, channels: tuple[str, ...] | None = None) -> Event:
    """The person opts out (all purposes / channels when omitted)."""
    return event("unsubscribed", at, purpose=purpose, channels=list(channels) if channels else None)


def objected(at: datetime, scope: str = "direct_marketing") -> Event:
    """The person objects under GDPR Art. 21."""
    return event("objection.recorded", at, scope=scope)


def objection_withdrawn(at: datetime, scope: str = "direct_marketing") -> Event:
    """The person lifts an earlier objection."""
    return event("objection.withdrawn", at, scope=scope)


def purchase(
    at: datetime,
    categories: tuple[str, ...] = ("shoes",),
    opt_out_offered: bool = True,
    collected_by_sender: bool = True,
    contract: bool | None = None,
) -> Event:
    """A sale in which the sender obtained the contact point (`contract`: a subscription that runs)."""
    return event(
        "purchase.recorded",
        at,
        categories=list(categories),
        opt_out_offered=opt_out_offered,
        collected_by_sender=collected_by_sender,
        contract=contract,
    )


def relationship_ended(at: datetime) -> Event:
    """The customer relationship ends."""
    return event("customer_relationship.ended", at, reason="contract ended")


def notice_given(at: datetime, article: str = "14") -> Event:
    """A privacy notice (GDPR Art. 13, 14 or 21) was given."""
    return event("notice.given", at, article=article, method="email")


def listed(
    at: datetime,
    register: str = "bel-me-niet",
    listed_from: str | None = None,
    listed_until: str | None = None,
    sectors: tuple[str, ...] | None = None,
) -> Event:
    """The point is put on a do-not-contact register (`sectors`: the Postfilter sectors it names)."""
    return event(
        "register.listed",
        at,
        register=register,
        listed_from=listed_from,
        listed_until=listed_until,
        sectors=list(sectors) if sectors else None,
    )


def bounced(at: datetime, bounce_kind: str = "hard") -> Event:
    """A message to the point bounced."""
    return event("bounce.recorded", at, bounce_kind=bounce_kind)


def complained(at: datetime) -> Event:
    """The person reported a message as spam."""
    return event("complaint.recorded", at, feedback_source="example-mail")


def restricted(at: datetime) -> Event:
    """Processing of the person's data is restricted (GDPR Art. 18)."""
    return event("processing.restricted", at, request_id="dsr_1")


def restriction_lifted(at: datetime) -> Event:
    """The restriction ends."""
    return event("processing.restriction_lifted", at, request_id="dsr_1")


def erased(at: datetime) -> Event:
    """The point was erased (GDPR Art. 17)."""
    return event("contact_point.erased", at, reason="erasure request")


# -- states --------------------------------------------------------------------------------


def history(*events: Event, as_of: datetime | None = None) -> ContactState:
    """Fold events into a state: ordered by occurrence, numbered, optionally "as of" a moment."""
    ordered = sorted(events, key=lambda e: e.occurred_at)
    numbered = [replace(e, seq=seq) for seq, e in enumerate(ordered, start=1)]
    return fold(CONTACT_POINT, numbered, as_of=as_of)


def point_kind_for(channel: Channel) -> str:
    """The kind of contact point that carries a channel."""
    if channel is Channel.EMAIL:
        return PointKind.EMAIL.value
    if channel is Channel.POST:
        return PointKind.POSTAL.value
    return PointKind.PHONE.value
