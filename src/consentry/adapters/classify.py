"""Classifying addresses and numbers on the way in: what they suggest about the party.

A suggestion comes with its reason and never overrides what the user stated.
"""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from consentry.adapters.addresses import Normalised
from consentry.domain.vocabulary import PartyKind, PointKind

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


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested party kind and why (None when nothing can be said)."""

    party: PartyKind | None
    reason: str


def suggest(point: Normalised) -> Suggestion:
    """What an address or number suggests about who is behind it."""
    if point.kind is PointKind.EMAIL:
        domain = point.value.rpartition("@")[2]
        if domain in FREE_MAIL:
            return Suggestion(PartyKind.CONSUMER, f"free-mail domain {domain}")
        if point.role_address:
            local = point.value.partition("@")[0]
            return Suggestion(PartyKind.LEGAL_PERSON, f"role address {local}@ at an organisation's domain")
        return Suggestion(PartyKind.EMPLOYEE, "a person's address at an organisation's domain")
    if point.kind is PointKind.PHONE:
        kind = phonenumbers.number_type(phonenumbers.parse(point.value))
        if kind == phonenumbers.PhoneNumberType.MOBILE:
            return Suggestion(PartyKind.CONSUMER, "mobile number: usually one person's")
        if kind in (phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.SHARED_COST):
            return Suggestion(PartyKind.LEGAL_PERSON, "service number of an organisation")
        return Suggestion(None, "a fixed line can be a household's or an organisation's")
    return Suggestion(None, "a postal address says nothing about the party")
