"""Deciding: may we contact this point, over this channel, for this purpose, at this moment?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from consentry.adapters.sql_store import Reader
from consentry.bootstrap import App
from consentry.domain.purposes import Purpose
from consentry.domain.vocabulary import CHANNELS_BY_POINT, Activity, Channel, MessageKind, PointKind
from consentry.policy.facts import Question
from consentry.policy.rules import Decision, evaluate
from consentry.services.contacts import UnknownContact, point_key, resolve
from consentry.services.errors import InputError, choice
from consentry.services.setup import controller


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
    ch = choice(Channel, "channel", channel)
    mk = choice(MessageKind, "kind", kind)
    act = choice(Activity, "activity", activity)
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
    purpose = _checked(point_kind, channel, purpose_key, r.purpose(purpose_key))
    state = app.states.load_many(r, [point_id], as_of=at)[point_id]
    question = Question(channel=channel, purpose=purpose, at=at, kind=kind, activity=activity)
    return evaluate(app.pack, state, question, controller(r))


@dataclass(frozen=True, slots=True)
class Asked:
    """One question of a batch, as a caller writes it."""

    contact: str
    channel: str
    purpose: str
    kind: str = MessageKind.MARKETING.value
    activity: str = Activity.CONTACT.value


def decide_many(
    app: App, questions: Sequence[Asked], at: datetime | None = None
) -> list[Decision | InputError]:
    """Answer many questions at one moment, in order; a bad question gets its InputError in its place.

    Contacts are resolved and their events read in bulk, purposes and the controller
    read once, and each contact folded once however many questions name it.
    """
    moment = at or app.clock.now()
    region = app.settings.default_region
    keys: dict[str, tuple[PointKind, str] | str | InputError] = {}
    for q in questions:
        if q.contact not in keys:
            try:
                keys[q.contact] = point_key(q.contact, region)
            except InputError as exc:
                keys[q.contact] = exc
    with app.store.reader() as r:
        ids = r.find_points(k for k in keys.values() if isinstance(k, tuple))
        wanted = [k for k in keys.values() if isinstance(k, str)] + list(ids.values())
        states = app.states.load_many(r, wanted, as_of=moment)
        # A point's kind is in its registration, unless asked about before it was registered.
        kinds = {pid: s.kind for pid, s in states.items() if s.registered_at is not None}
        for pid in states.keys() - kinds.keys():
            kinds[pid] = r.point_kind(pid) or PointKind.EMAIL
        purposes = {p.key: p for p in r.purposes()}
        ctl = controller(r)
    out: list[Decision | InputError] = []
    for q in questions:
        try:
            ch = choice(Channel, "channel", q.channel)
            mk = choice(MessageKind, "kind", q.kind)
            act = choice(Activity, "activity", q.activity)
            key = keys[q.contact]
            if isinstance(key, InputError):
                raise key
            point_id, point_kind = _point(key, ids, kinds)
            purpose = _checked(point_kind, ch, q.purpose, purposes.get(q.purpose))
        except InputError as exc:
            out.append(exc)
            continue
        out.append(evaluate(app.pack, states[point_id], Question(ch, purpose, moment, mk, act), ctl))
    return out


def _checked(point_kind: PointKind, channel: Channel, purpose_key: str, purpose: Purpose | None) -> Purpose:
    """The question's purpose, once the channel fits the point; InputError naming the field otherwise."""
    if channel not in CHANNELS_BY_POINT[point_kind]:
        raise InputError(
            "channel", f"a {point_kind.value} contact point cannot be reached by {channel.value}"
        )
    if purpose is None:
        raise InputError("purpose", f"unknown purpose {purpose_key!r}; see `consentry purposes list`")
    return purpose


def _point(
    key: tuple[PointKind, str] | str, ids: dict[tuple[PointKind, str], str], kinds: dict[str, PointKind]
) -> tuple[str, PointKind]:
    """The id and kind of a resolved reference; UnknownContact when it is not registered."""
    if isinstance(key, tuple):
        point_id = ids.get(key)
        if point_id is None or point_id not in kinds:
            raise UnknownContact("contact", f"no contact point {key[1]!r} is registered")
        return point_id, key[0]
    if key not in kinds:
        raise UnknownContact("contact", f"no contact point with id {key!r}")
    return key, kinds[key]
