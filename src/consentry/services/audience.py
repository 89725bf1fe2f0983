"""Resolving an audience: who may be reached, and why each of the rest may not, judged set-wise.

The rules are the same rule pack a single decision uses: `RulePack.plan` picks
the rules that apply to the question (channel, purpose, kind, day, sender), and
the store judges that plan over its audience projection (in SQL: `adapters/sql/
audience.py`, through `consentry.policy.sqlfacts`), every contact point in one scan;
Python only reads the counts per rule, or streams the rows asked for. Nothing
holds the whole audience in memory.

An audience is judged on the ledger as it stands: the moment may be now or
later (a send planned for a day on which other rules are in force), never
earlier; `decide --at` answers for the past, one contact at a time.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, TextIO

from consentry.adapters import spreadsheet
from consentry.domain.campaigns import Selection
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import CHANNELS_BY_POINT, Activity, Channel, MessageKind, PointKind, Verdict
from consentry.policy.factrows import attribute_unselectable
from consentry.policy.facts import Question, Situation
from consentry.policy.rules import Obligation, Rule, RulePack
from consentry.services.app import App
from consentry.services.errors import InputError, choice
from consentry.services.ledger import FUTURE_SLACK
from consentry.services.ports import AudienceAsk, Judging, Reading
from consentry.services.setup import controller


@dataclass(frozen=True)
class Target:
    """What is asked about every contact point: this channel, for this purpose, this kind of message."""

    channel: Channel
    purpose: str
    kind: MessageKind = MessageKind.MARKETING
    activity: Activity = Activity.CONTACT

    @classmethod
    def of(
        cls, channel: str | Channel, purpose: str, kind: str | MessageKind = MessageKind.MARKETING
    ) -> Target:
        """A target from user input, with a clear error for an unknown channel or kind."""
        return cls(choice(Channel, "channel", channel), purpose, choice(MessageKind, "kind", kind))

    @property
    def point_kind(self) -> PointKind:
        """The kind of contact point that carries the channel."""
        return next(k for k, chans in CHANNELS_BY_POINT.items() if self.channel in chans)


def ask(r: Reading, pack: RulePack, target: Target, selection: Selection, at: datetime) -> AudienceAsk:
    """The question put to every considered contact point (InputError for an unknown purpose, or a
    selection by an attribute that has no term: a draft stored before that attribute lost it would
    otherwise select nobody without a word)."""
    if selection.attribute is not None:
        unselectable = attribute_unselectable(*selection.attribute)
        if unselectable is not None:
            raise InputError("selection.attribute", unselectable)
    purpose = _purpose(r, target.purpose)
    if selection.subscribers_of is not None:
        _purpose(r, selection.subscribers_of)
    question = Question(target.channel, purpose, at, target.kind, target.activity)
    return AudienceAsk(
        pack, Situation(ContactState(id=""), question, controller(r)), target.point_kind, selection
    )


def build(r: Reading, pack: RulePack, target: Target, selection: Selection, at: datetime) -> Judging:
    """Compile the question for the store, in the transaction of `r`."""
    return r.judging(ask(r, pack, target, selection, at))


def rules_with(judging: Judging, verdict: Verdict) -> list[str]:
    """The ids of the rules that can decide this question with this verdict."""
    return [i for i, rule in judging.rules.items() if rule.effect.value == verdict.value]


def _purpose(r: Reading, key: str) -> Purpose:
    p = r.purpose(key)
    if p is None:
        raise InputError("purpose", f"unknown purpose {key!r}")
    return p


def _moment(app: App, at: datetime | None) -> datetime:
    now = app.clock.now()
    if at is None:
        return now
    # Within the ledger's clock slack, "now" and a moment just before it judge the same ledger.
    if at < now - FUTURE_SLACK:
        raise InputError(
            "at",
            "an audience is judged on the ledger as it stands, so not as of the past; "
            "use `decide --at` for one contact at an earlier moment",
        )
    return at


@dataclass(frozen=True)
class RuleCount:
    """How many contact points one rule decided."""

    rule: Rule
    count: int


@dataclass
class AudienceReport:
    """Who may be reached, and for the rest, which rule says why not."""

    target: Target
    selection: Selection
    at: datetime
    considered: int = 0
    included: list[RuleCount] = field(default_factory=list)
    excluded: list[RuleCount] = field(default_factory=list)
    review: list[RuleCount] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def included_count(self) -> int:
        """How many may be reached."""
        return sum(c.count for c in self.included)

    @property
    def excluded_count(self) -> int:
        """How many may not be reached."""
        return sum(c.count for c in self.excluded)

    @property
    def review_count(self) -> int:
        """How many a person must judge (never sent to)."""
        return sum(c.count for c in self.review)


def report(
    app: App, target: Target, selection: Selection = Selection(), at: datetime | None = None
) -> AudienceReport:
    """Count the audience by deciding rule: one grouped query (on SQLite, one per core over parts)."""
    moment = _moment(app, at)
    started = time.perf_counter()
    with app.store.reader() as r:
        asked = ask(r, app.pack, target, selection, moment)
    built, counts = app.store.audience_counts(asked)
    out = AudienceReport(target, selection, moment)
    buckets = {Verdict.ALLOW: out.included, Verdict.DENY: out.excluded, Verdict.REVIEW: out.review}
    for rule_id, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        rule = built.rules[rule_id]
        out.considered += n
        buckets[Verdict(rule.effect.value)].append(RuleCount(rule, n))
    out.seconds = time.perf_counter() - started
    return out


class Member(NamedTuple):
    """One judged contact point: the rule that decided and, unless denied, what its message owes.

    A named tuple: a stream makes one per recipient, and a frozen dataclass cost more to
    make than the row took to read.
    """

    contact_point_id: str
    value: str
    name: str | None
    party: str
    verdict: Verdict
    rule: Rule
    obligation_rules: tuple[Rule, ...]
    obligations: tuple[Obligation, ...]


def members(
    app: App,
    target: Target,
    selection: Selection = Selection(),
    at: datetime | None = None,
    rule: str | None = None,
    verdict: str | Verdict | None = None,
    after: str | None = None,
    limit: int | None = None,
) -> Iterator[Member]:
    """Stream the judged contact points, optionally only those one rule decided or one verdict.

    Rows come in storage order; with `limit` (a page) they come in id order,
    starting after the id `after`.
    """
    moment = _moment(app, at)
    wanted = choice(Verdict, "verdict", verdict) if verdict is not None else None
    with app.store.reader() as r:
        built = build(r, app.pack, target, selection, moment)
        if rule is not None and rule not in built.rules:
            raise InputError(
                "rule",
                f"rule {rule!r} cannot decide this question; it is one of: {', '.join(sorted(built.rules))}",
            )
        chosen = set(built.rules)
        if rule is not None:
            chosen &= {rule}
        if wanted is not None:
            chosen &= set(rules_with(built, wanted))
        if not chosen:
            return
        only = sorted(chosen) if chosen != set(built.rules) else None
        yield from _members(built, r.judged_rows(built, only, after, limit))


def _members(built: Judging, rows: Iterable[Any]) -> Iterator[Member]:
    # Rows differ in few ways (a rule and which obligation rules hold): judge each way once.
    ways: dict[tuple[Any, ...], tuple[Verdict, Rule, tuple[Rule, ...], tuple[Obligation, ...]]] = {}
    new = Member._make
    for row in rows:
        key = row[4:]
        way = ways.get(key)
        if way is None:
            way = ways[key] = _way(built, row[4], row[5:])
        yield new((*row[:4], *way))


def _way(
    built: Judging, rule_id: str, flags: Sequence[Any]
) -> tuple[Verdict, Rule, tuple[Rule, ...], tuple[Obligation, ...]]:
    decided = built.rules[rule_id]
    verdict = Verdict(decided.effect.value)
    if verdict is Verdict.DENY:
        return verdict, decided, (), ()
    extra = tuple(ob for ob, on in zip(built.obligation_rules, flags, strict=True) if on)
    ids = [*decided.obligations, *(i for ob in extra for i in ob.obligations)]
    return verdict, decided, extra, tuple(built.pack.obligations[i] for i in dict.fromkeys(ids))


CSV_COLUMNS = (
    "contact_point", "address", "name", "party", "verdict", "rule", "citation", "obligations", "reason",
)  # fmt: skip


def csv_row(m: Member, lang: str = "nl") -> tuple[str, ...]:
    """One judged contact point as a CSV row (see CSV_COLUMNS)."""
    return (
        m.contact_point_id,
        m.value,
        m.name or "",
        m.party,
        m.verdict.value,
        m.rule.id,
        m.rule.citation,
        " ".join(o.id for o in m.obligations),
        m.rule.en if lang == "en" else m.rule.nl,
    )


def write_csv(out: TextIO, rows: Iterable[Member], lang: str = "nl") -> int:
    """Write judged contact points as CSV (as Dutch Excel opens it) with the deciding rule and the
    obligations; returns how many."""
    w = spreadsheet.writer(out, CSV_COLUMNS)
    n = 0
    for m in rows:
        w.writerow(csv_row(m, lang))
        n += 1
    return n


def of_campaign(app: App, key: str) -> tuple[Target, Selection]:
    """What a stored campaign asks, and whom it considers."""
    from consentry.services import campaigns  # campaigns sends through this module

    c = campaigns.get(app, key)
    return Target(c.channel, c.purpose, c.kind), c.selection


def parse_selection(
    tag: str | None = None,
    attribute: str | None = None,
    subscribers_of: str | None = None,
    source_detail: str | None = None,
) -> Selection:
    """A selection from user input; an attribute is written NAME=VALUE."""
    pair: tuple[str, str] | None = None
    if attribute is not None:
        name, sep, value = attribute.partition("=")
        if not sep or not name.strip():
            raise InputError("attribute", f"{attribute!r}: write NAME=VALUE, e.g. plaats=Utrecht")
        pair = (name.strip(), value.strip())
        unselectable = attribute_unselectable(*pair)
        if unselectable is not None:
            raise InputError("attribute", unselectable)
    return Selection(tag or None, pair, subscribers_of or None, source_detail or None)


def report_json(rep: AudienceReport, lang: str = "nl") -> dict[str, Any]:
    """The report as JSON: counts, and per rule its id, citation, explanation and count."""

    def rules(counts: list[RuleCount]) -> list[dict[str, Any]]:
        return [
            {
                "rule": c.rule.id,
                "count": c.count,
                "citation": c.rule.citation,
                "explanation": c.rule.en if lang == "en" else c.rule.nl,
                "authority": c.rule.authority.value,
            }
            for c in counts
        ]

    return {
        "channel": rep.target.channel.value,
        "purpose": rep.target.purpose,
        "kind": rep.target.kind.value,
        "at": rep.at.isoformat(),
        "selection": rep.selection.describe(),
        "considered": rep.considered,
        "included": rep.included_count,
        "excluded": rep.excluded_count,
        "review": rep.review_count,
        "included_by_rule": rules(rep.included),
        "excluded_by_rule": rules(rep.excluded),
        "review_by_rule": rules(rep.review),
        "seconds": round(rep.seconds, 3),
    }
