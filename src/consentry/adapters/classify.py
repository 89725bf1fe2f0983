"""Classifying addresses and numbers on the way in: the number's line type read here.

The classification itself is the domain's (`domain/classify.py`); this adapter only
reads what phonenumbers knows about a number.
"""

from __future__ import annotations

import phonenumbers

from consentry.adapters.addresses import Normalised
from consentry.domain.classify import FREE_MAIL, LineType, Suggestion
from consentry.domain.classify import suggest as classify
from consentry.domain.vocabulary import PointKind

__all__ = ["FREE_MAIL", "Suggestion", "line_type", "suggest"]


def line_type(number: str) -> LineType:
    """The line type of a normalised (E.164) phone number."""
    kind = phonenumbers.number_type(phonenumbers.parse(number))
    if kind == phonenumbers.PhoneNumberType.MOBILE:
        return LineType.MOBILE
    if kind in (phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.SHARED_COST):
        return LineType.SERVICE
    return LineType.FIXED


def suggest(point: Normalised) -> Suggestion:
    """What an address or number suggests about who is behind it."""
    line = line_type(point.value) if point.kind is PointKind.PHONE else None
    return classify(point.kind, point.value, role_address=point.role_address, line=line)
