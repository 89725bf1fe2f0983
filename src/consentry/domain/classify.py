"""Classifying addresses and numbers: what they suggest about the party behind them.

A suggestion comes with its reason and never overrides what the user stated. Reading
a number's line type needs the numbering plan (phonenumbers): `adapters/classify.py`
reads it and asks `suggest` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from consentry.domain.vocabulary import PartyKind, PointKind

#: Local parts that name a function, not a person (flagged, never decisive on their own).
ROLE_LOCAL_PARTS = frozenset(
    [
        "info",
        "sales",
        "verkoop",
        "admin",
        "administratie",
        "office",
        "kantoor",
        "contact",
        "support",
        "service",
        "klantenservice",
        "hello",
        "hallo",
        "mail",
        "post",
        "marketing",
        "team",
        "receptie",
        "reception",
        "offertes",
        "acquisitie",
        "inkoop",
        "purchasing",
        "hr",
        "finance",
        "boekhouding",
        "noreply",
        "no-reply",
    ]
)


#: Mailbox providers whose addresses belong to private persons (NL first).
FREE_MAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.nl",
        "outlook.com",
        "outlook.nl",
        "live.com",
        "live.nl",
        "msn.com",
        "yahoo.com",
        "yahoo.nl",
        "icloud.com",
        "me.com",
        "mac.com",
        "ziggo.nl",
        "kpnmail.nl",
        "kpnplanet.nl",
        "planet.nl",
        "home.nl",
        "hetnet.nl",
        "xs4all.nl",
        "casema.nl",
        "upcmail.nl",
        "chello.nl",
        "telfort.nl",
        "tele2.nl",
        "online.nl",
        "quicknet.nl",
        "zeelandnet.nl",
        "hccnet.nl",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "proton.me",
        "protonmail.com",
        "skynet.be",
        "telenet.be",
        "aol.com",
    ]
)


class LineType(StrEnum):
    """What kind of line a phone number is, as far as the party is concerned."""

    MOBILE = "mobile"
    SERVICE = "service"  # toll-free or shared-cost: an organisation's
    FIXED = "fixed"  # or anything else: a household's or an organisation's


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested party kind and why (None when nothing can be said)."""

    party: PartyKind | None
    reason: str


def suggest(
    kind: PointKind, value: str, *, role_address: bool = False, line: LineType | None = None
) -> Suggestion:
    """What a normalised address or number suggests about who is behind it."""
    if kind is PointKind.EMAIL:
        domain = value.rpartition("@")[2]
        if domain in FREE_MAIL:
            return Suggestion(PartyKind.CONSUMER, f"free-mail domain {domain}")
        if role_address:
            local = value.partition("@")[0]
            return Suggestion(PartyKind.LEGAL_PERSON, f"role address {local}@ at an organisation's domain")
        return Suggestion(PartyKind.EMPLOYEE, "a person's address at an organisation's domain")
    if kind is PointKind.PHONE:
        if line is LineType.MOBILE:
            return Suggestion(PartyKind.CONSUMER, "mobile number: usually one person's")
        if line is LineType.SERVICE:
            return Suggestion(PartyKind.LEGAL_PERSON, "service number of an organisation")
        return Suggestion(None, "a fixed line can be a household's or an organisation's")
    return Suggestion(None, "a postal address says nothing about the party")
