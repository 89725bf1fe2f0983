"""Deciding: may we contact this point, over this channel, for this purpose, at this moment?"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from consentry.adapters.sql_store import Reader
from consentry.bootstrap import App
from consentry.domain.state import fold
from consentry.domain.vocabulary import CHANNELS_BY_POINT, Activity, Channel, MessageKind
from consentry.policy.facts import Question
from consentry.policy.rules import Decision, evaluate
from consentry.services.contacts import resolve
from consentry.services.errors import InputError
from consentry.services.setup import controller

E = TypeVar("E", Channel, MessageKind, Activity)


def _enum(cls: type[E], field: str, value: str | E) -> E:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise InputError(field, f"{value!r} is not one of: {allowed}") from None


def decide(
    app: App,
    contact: str,
    channel: str | Channel,
    purpose: str,
    kind: str | MessageKind = MessageKind.MARKETING,
    activity: str | Activity = Activity.CONTACT,
    at: datetime | None = None,
) -> Decision:
    """Judge the ledger as of `at` (default now) with the rules in force at `at`."""
    ch = _enum(Channel, "channel", channel)
    mk = _enum(MessageKind, "kind", kind)
    act = _enum(Activity, "activity", activity)
    moment = at or app.clock.now()
    with app.store.reader() as r:
        return decide_in(app, r, contact, ch, purpose, mk, act, moment)


def decide_in(
    app: App,
    r: Reader,
    contact: str,
    channel: Channel,
    purpose_key: str,
    kind: MessageKind,
    activity: Activity,
    at: datetime,
) -> Decision:
    """`decide` within an open read transaction (for batches)."""
    point_id, point_kind = resolve(r, contact, app.settings.default_region)
    if channel not in CHANNELS_BY_POINT[point_kind]:
        raise InputError(
            "channel", f"a {point_kind.value} contact point cannot be reached by {channel.value}"
        )
    purpose = r.purpose(purpose_key)
    if purpose is None:
        raise InputError("purpose", f"unknown purpose {purpose_key!r}; see `consentry purposes list`")
    state = fold(point_id, r.events_for(point_id, as_of=at))
    question = Question(channel=channel, purpose=purpose, at=at, kind=kind, activity=activity)
    return evaluate(app.pack, state, question, controller(r))
