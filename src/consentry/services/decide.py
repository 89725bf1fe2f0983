"""Deciding: may we contact this point, over this channel, for this purpose, at this moment?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from consentry.domain.purposes import Purpose
from consentry.domain.vocabulary import CHANNELS_BY_POINT, Activity, Channel, MessageKind, PointKind
from consentry.policy.facts import Question
from consentry.policy.rules import Decision, evaluate
from consentry.services.app import App
from consentry.services.contacts import UnknownContact, point_key, unknown
from consentry.services.errors import InputError, choice
from consentry.services.ledger_guard import LedgerDamaged, check, check_now, check_often
from consentry.services.ports import Reading
from consentry.services.setup import controller, controller_of


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
    check_often(app)  # when due, in a read transaction of its own
    with app.store.statement_reader() as r:
        return decide_in(app, r, contact, ch, purpose, mk, act, moment)


def decide_in(
    app: App,
    r: Reading,
    contact: str,
    channel: Channel,
    purpose_key: str,
    kind: MessageKind,
    activity: Activity,
    at: datetime,
) -> Decision:
    """`decide` on `r`, which may run each statement on a snapshot of its own (`Store.statement_reader`).

    The point, its head, the purpose and the controller come in one statement
    (`DecisionBasis`); the state from the cache when the head shows it current, so a
    decision is then one statement and needs no transaction. Otherwise the state is read
    in statements of their own, later than the basis. That is safe because the ledger is
    append-only: a later read sees the basis's history and perhaps events appended since,
    never less, and a state is cached under the basis's head, so one read with newer
    events is read again next time. An erasure committed in between is seen whole by the
    reads after it (its event with its destroyed key: `LedgerReads.events_for_many` reads
    the keys first), so the point is decided as erased, or by its address's suppression
    record when only the last reads see it; never on events whose key vanished unseen.
    """
    key = app.states.resolved(contact, app.settings.default_region, _point_key)
    if isinstance(key, InputError):  # raised anew: the remembered one stands in other answers
        raise type(key)(key.field, key.message)
    basis = r.decision_basis(key, purpose_key)
    if basis is None:
        raise unknown(key)
    point_id = basis.point_id
    purpose = _checked(basis.kind, channel, purpose_key, basis.purpose)
    heads = {point_id: basis.head} if basis.head is not None else {}
    state = app.states.load_many(r, [point_id], as_of=at, heads=heads, registers=basis.registers).get(
        point_id
    )
    if state is None:  # registered, yet without events: the ledger lost them
        check_now(app)  # its reads must agree with each other: a transaction of its own
        raise LedgerDamaged(f"contact point {point_id} is registered but has no events in the ledger")
    question = Question(channel=channel, purpose=purpose, at=at, kind=kind, activity=activity)
    return evaluate(app.pack, state, question, controller_of(basis.controller))


@dataclass(frozen=True, slots=True)
class Asked:
    """One question of a batch, as a caller writes it."""

    contact: str
    channel: str
    purpose: str
    kind: str = MessageKind.MARKETING.value
    activity: str = Activity.CONTACT.value


class Asking(Protocol):
    """Whatever carries a question's five fields, as `Asked` does (an API document, say)."""

    @property
    def contact(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def activity(self) -> str: ...


def decide_many(
    app: App, questions: Sequence[Asking], at: datetime | None = None
) -> list[Decision | InputError]:
    """Answer many questions at one moment, in order; a bad question gets its InputError in its place.

    Contacts are resolved and their events read in bulk, purposes and the controller
    read once, and each contact folded once however many questions name it. Each
    distinct kind of question is checked and built once.
    """
    moment = at or app.clock.now()
    region = app.settings.default_region
    keys = {q.contact: app.states.resolved(q.contact, region, _point_key) for q in questions}
    with app.store.reader() as r:
        ids = app.states.find_points(r, (k for k in keys.values() if isinstance(k, tuple)))
        wanted = [k for k in keys.values() if isinstance(k, str)] + list(ids.values())
        check_often(app, r)
        states = app.states.load_many(r, wanted, as_of=moment)
        if any(pid not in states for pid in ids.values()):  # registered, yet without events
            check(app, r)
        # A point's kind is in its registration, unless asked about before it was registered.
        kinds = {pid: s.kind for pid, s in states.items() if s.registered_at is not None}
        for pid in states.keys() - kinds.keys():
            kinds[pid] = r.point_kind(pid) or PointKind.EMAIL
        purposes = {p.key: p for p in r.purposes()}
        ctl = controller(r)
    pack = app.pack
    kinds_of: dict[tuple[str, str, str], tuple[Channel, MessageKind, Activity] | InputError] = {}
    asked: dict[tuple[PointKind, Channel, str, MessageKind, Activity], Question | InputError] = {}
    out: list[Decision | InputError] = []
    for q in questions:
        # The checks run in the order of `decide`: channel, kind, activity, contact, purpose.
        chosen = kinds_of.get((q.channel, q.kind, q.activity))
        if chosen is None:
            chosen = kinds_of[(q.channel, q.kind, q.activity)] = _chosen(q)
        if isinstance(chosen, InputError):
            out.append(chosen)
            continue
        key = keys[q.contact]
        if isinstance(key, InputError):
            out.append(key)
            continue
        try:
            point_id, point_kind = _point(key, ids, kinds)
        except InputError as exc:
            out.append(exc)
            continue
        ch, mk, act = chosen
        question = asked.get((point_kind, ch, q.purpose, mk, act))
        if question is None:
            try:
                purpose = _checked(point_kind, ch, q.purpose, purposes.get(q.purpose))
                question = Question(ch, purpose, moment, mk, act)
            except InputError as exc:
                question = exc
            asked[(point_kind, ch, q.purpose, mk, act)] = question
        if isinstance(question, InputError):
            out.append(question)
        else:
            out.append(evaluate(pack, states[point_id], question, ctl))
    return out


def _chosen(q: Asking) -> tuple[Channel, MessageKind, Activity] | InputError:
    try:
        return (
            choice(Channel, "channel", q.channel),
            choice(MessageKind, "kind", q.kind),
            choice(Activity, "activity", q.activity),
        )
    except InputError as exc:
        return exc


def _point_key(ref: str, region: str) -> tuple[PointKind, str] | str | InputError:
    """`point_key`, with its InputError returned rather than raised (one instance may stand in
    many answers): what the state cache remembers for a typed contact (`StateCache.resolved`)."""
    try:
        return point_key(ref, region)
    except InputError as exc:
        return exc


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
