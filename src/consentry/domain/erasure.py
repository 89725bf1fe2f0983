"""Erasure and the suppression record that outlives it, as plain facts about a folded state.

An erased contact point leaves one suppression record per address or number: what the
point was suppressed for, the channels it covers, since when and why. A point registered
later with the same address carries it as its `PriorSuppression`; only a consent the person
gave and confirmed by double opt-in after that moment lifts it, for that purpose and channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from consentry.domain.errors import FieldError
from consentry.domain.state import ConsentRecord, ContactState, PriorSuppression
from consentry.domain.vocabulary import ConsentMethod, PointKind

__all__ = [
    "ALL_CHANNELS",
    "REASON_CHARS",
    "SUPPRESSED_FOR",
    "ReasonError",
    "SuppressionRecord",
    "check_reason",
    "fresh_opt_in",
    "lifting_pairs",
    "prior",
    "suppression_of",
]

#: What a suppression record says the point was suppressed for, strongest first.
SUPPRESSED_FOR = ("objection", "complaint", "unsubscribed", "hard_bounce", "erased")
#: The scope of a suppression that covers every channel.
ALL_CHANNELS = "all"
#: The longest reason code (the column's width).
REASON_CHARS = 64
#: A reason is a code, never free text: `request`, `retention:<policy>`, `duplicate` ...
_REASON = re.compile(r"^[a-z][a-z_]{0,31}(:[A-Za-z0-9_.-]{1,31})?$")


@dataclass(frozen=True, slots=True)
class SuppressionRecord:
    """What the erasure of one point keeps: its address (the store keeps only its blind index),
    what it was suppressed for, the channels covered (None: all), since when, why, and the
    sequence number of its `contact_point.erased` event."""

    point_id: str
    kind: PointKind
    value: str
    what: str
    channels: frozenset[str] | None
    since: datetime
    reason: str
    seq: int
    #: The point's contact (the importer's contact id), whose data key goes with its last point.
    contact_id: str | None = None


class ReasonError(FieldError):
    """An erasure reason that is not a code."""


def check_reason(reason: str) -> str:
    """The reason code, checked: lower-case letters and `_`, optionally `:` and a policy name."""
    if not _REASON.match(reason):
        raise ReasonError(
            "reason",
            "must be a code such as request or retention:<policy> (letters, digits, _ . -; "
            f"at most {REASON_CHARS} characters), never the person's own words",
        )
    return reason


def suppression_of(state: ContactState) -> tuple[str, frozenset[str] | None]:
    """What an erased point is suppressed for, and the channels the record covers (None: all).

    An objection, a spam complaint or an unsubscribe says the person wants no more
    messages: the record covers every channel. A hard bounce says only that the address
    failed: the record covers the point's own channels. Anything else is the erasure itself.
    """
    if state.objections:
        return "objection", None
    if state.complained_at is not None:
        return "complaint", None
    if state.opt_outs:
        return "unsubscribed", None
    if state.hard_bounced_at is not None:
        return "hard_bounce", frozenset(state.channels)
    return "erased", None


def fresh_opt_in(state: ContactState, purpose: str, channel: str) -> ConsentRecord | None:
    """The consent that lifts the point's prior suppression for this purpose and channel, if any.

    Given and confirmed by double opt-in after the suppression's moment, free of defects,
    not withdrawn and still covering the channel: the person's own, fresh, proven wish.
    """
    prior = state.prior_suppression
    if prior is None:
        return None
    since = prior.since
    for c in state.consents:
        if (
            c.purpose == purpose
            and c.method is ConsentMethod.DOUBLE_OPT_IN
            and c.confirmed_at is not None
            and c.given_at > since
            and c.confirmed_at > since
            and not c.defects
            and c.withdrawn_at is None
            and any(ch.value == channel for ch in c.channels)
        ):
            return c
    return None


def lifting_pairs(state: ContactState) -> list[tuple[str, str]]:
    """Every (purpose, channel) whose prior suppression a fresh confirmed opt-in lifts."""
    if state.prior_suppression is None:
        return []
    return sorted(
        {
            (c.purpose, ch.value)
            for c in state.consents
            for ch in c.channels
            if fresh_opt_in(state, c.purpose, ch.value) is not None
        }
    )


def prior(what: str, channels: frozenset[str] | None, since: datetime, reason: str) -> PriorSuppression:
    """A `PriorSuppression`, checked: a known `what` and a reason code."""
    if what not in SUPPRESSED_FOR:
        raise ValueError(f"unknown suppression kind {what!r}; one of {', '.join(SUPPRESSED_FOR)}")
    return PriorSuppression(what, channels, since, reason)
