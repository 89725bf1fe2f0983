"""Resolving an audience: who may be reached, and why each of the rest may not, judged set-wise.

The rules are the same rule pack a single decision uses: `RulePack.plan` picks
the rules that apply to the question (channel, purpose, kind, day, sender), and
`consentry.policy.sqlfacts` writes that plan as one SQL expression over the
audience projection. The database judges every contact point in one scan;
Python only reads the counts per rule, or streams the rows asked for. Nothing
holds the whole audience in memory.

An audience is judged on the ledger as it stands: the moment may be now or
later (a send planned for a day on which other rules are in force), never
earlier; `decide --at` answers for the past, one contact at a time.
"""

from __future__ import annotations

import csv
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TextIO

import sqlalchemy as sa

from consentry.adapters.sql.reader import Reader
from consentry.bootstrap import App
from consentry.domain.campaigns import Selection
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import CHANNELS_BY_POINT, Activity, Channel, MessageKind, PointKind, Verdict
from consentry.policy.factrows import tok
from consentry.policy.facts import Question, Situation
from consentry.policy.rules import Obligation, Rule, RulePack
from consentry.policy.sqlfacts import Register, Sql, compile_plan
from consentry.services.errors import InputError, choice
from consentry.services.ledger import FUTURE_SLACK
from consentry.services.setup import controller

#: Rows fetched at a time when streaming members.
BATCH = 5000
#: Parts an SQLite audience count is split into, counted side by side (PostgreSQL
#: parallelises a query itself).
PARTS = max(1, min(4, os.cpu_count() or 1))


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


@dataclass(frozen=True)
class AudienceQuery:
    """The SQL that judges every considered contact point, and how to read its rows.

    `inner` selects contact_point_id, value, name, party, rule, then ob0 ... obN (1
    where the N-th obligation rule holds); `sql` adds the verdict after the rule.
    The verdict follows from the rule, so readers that can should filter on rules
    (`rules_with`): the database then computes each row's rule once.
    """

    inner: str
    sql: str
    #: The rule alone per considered row, for counting (`inner` without the other columns).
    ruled: str
    params: dict[str, Any]
    rules: dict[str, Rule]
    obligation_rules: tuple[Rule, ...]
    pack: RulePack

    def statement(self) -> sa.TextClause:
        """`sql` as a SQLAlchemy statement."""
        return sa.text(self.sql).bindparams(**self.params)

    def rules_with(self, verdict: Verdict) -> list[str]:
        """The ids of the rules that can decide this question with this verdict."""
        return [i for i, rule in self.rules.items() if rule.effect.value == verdict.value]


def build(r: Reader, pack: RulePack, target: Target, selection: Selection, at: datetime) -> AudienceQuery:
    """Compile the question into SQL for this database."""
    purpose = _purpose(r, target.purpose)
    if selection.subscribers_of is not None:
        _purpose(r, selection.subscribers_of)
    question = Question(target.channel, purpose, at, target.kind, target.activity)
    ctl = controller(r)
    x = Situation(ContactState(id=""), question, ctl)
    registers = {
        reg["key"]: Register(
            PointKind(reg["kind"]), bool(reg["hashed"]), reg["valid_from"], reg["valid_until"]
        )
        for reg in r.register_definitions()
    }
    q = Sql(r.conn.dialect.name, target.channel, purpose, x.day, target.point_kind, registers)
    q.postal_sector = ctl.postal_sector
    plan = pack.plan(x)
    compiled = compile_plan(q, plan, pack.fallback)
    where = [f"f.kind = {q.param(target.point_kind.value)}", *_selected(q, selection)]
    obligations = "".join(f", {sql} AS ob{i}" for i, (_, sql) in enumerate(compiled.obligations))
    terminal = [rule for rule, _ in plan[0]] + [pack.fallback]
    verdict = " ".join(f"WHEN {q.param(rule.id)} THEN {q.param(rule.effect.value)}" for rule in terminal)
    inner = (
        f"SELECT f.contact_point_id, f.value, f.name, f.party, {compiled.rule} AS rule{obligations} "
        f"FROM point_facts f WHERE {' AND '.join(where)}"
    )
    ruled = f"SELECT {compiled.rule} AS rule FROM point_facts f WHERE {' AND '.join(where)}"
    obs = "".join(f", a.ob{i}" for i in range(len(compiled.obligations)))
    sql = (
        f"SELECT a.contact_point_id, a.value, a.name, a.party, a.rule, "
        f"CASE a.rule {verdict} END AS verdict{obs} FROM ({inner}{_fence(q.dialect)}) a"
    )
    return AudienceQuery(
        inner,
        sql,
        ruled,
        q.params,
        {rule.id: rule for rule in terminal},
        tuple(rule for rule, _ in compiled.obligations),
        pack,
    )


def query(
    r: Reader,
    pack: RulePack,
    channel: str | Channel,
    purpose_key: str,
    kind: str | MessageKind,
    selection: Selection,
    at: datetime,
) -> tuple[str, dict[str, Any]]:
    """SQL text and parameters selecting contact_point_id, verdict and rule (and more) per point.

    For set-wise use inside another statement, e.g. filling a send queue with
    `INSERT ... SELECT ... FROM (<sql>) a WHERE a.verdict = 'allow'`.
    """
    built = build(r, pack, Target.of(channel, purpose_key, kind), selection, at)
    return built.sql, built.params


def _purpose(r: Reader, key: str) -> Purpose:
    p = r.purpose(key)
    if p is None:
        raise InputError("purpose", f"unknown purpose {key!r}")
    return p


def _selected(q: Sql, s: Selection) -> list[str]:
    where = []
    if s.tag:
        where.append(q.has("tags", tok(s.tag)))
    if s.attribute:
        where.append(q.has("attrs", f"{tok(s.attribute[0])}={tok(s.attribute[1])}"))
    if s.subscribers_of:
        where.append(q.has("subscribed", tok(s.subscribers_of)))
    if s.source_detail:
        where.append(f"f.source_detail = {q.param(s.source_detail)}")
    return where


def _fence(dialect: str) -> str:
    """Ends a subquery SQLite must not flatten into the query around it (see `_grouped`).

    Flattened, SQLite writes the rule's CASE wherever the outer query names the rule, and
    computes it again there. PostgreSQL needs no fence: it hashes the groups, and a
    filtered stream measured the same with `OFFSET 0` as without.
    """
    return " LIMIT -1" if dialect == "sqlite" else ""


def _tune(r: Reader) -> None:
    """PostgreSQL: no JIT for audience queries. It compiles the CASE anew for each query,
    which takes longer (about a second) than judging a million rows without it."""
    if r.conn.dialect.name == "postgresql":
        r.conn.exec_driver_sql("SET LOCAL jit = off")


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
        _tune(r)
        built = build(r, app.pack, target, selection, moment)
        lo = hi = None
        if r.conn.dialect.name == "sqlite" and PARTS > 1:
            lo, hi = r.conn.execute(sa.text("SELECT min(rowid), max(rowid) FROM point_facts")).one()
        if lo is None or hi is None:  # one query: PostgreSQL, or nothing to split
            counts = _count(r, _grouped(built, r.conn.dialect.name), built.params)
    if lo is not None and hi is not None:
        counts = _count_in_parts(app, built, int(lo), int(hi))
    out = AudienceReport(target, selection, moment)
    buckets = {Verdict.ALLOW: out.included, Verdict.DENY: out.excluded, Verdict.REVIEW: out.review}
    for rule_id, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        rule = built.rules[rule_id]
        out.considered += n
        buckets[Verdict(rule.effect.value)].append(RuleCount(rule, n))
    out.seconds = time.perf_counter() - started
    return out


def _grouped(built: AudienceQuery, dialect: str, narrower: str = "") -> str:
    """Count the judged rows by deciding rule; `narrower` adds a condition to the inner WHERE.

    On SQLite `LIMIT -1` (no limit) keeps the inner query a co-routine: flattened into the
    grouping, SQLite sorted every row with each column the CASE reads (c_timed, opt_outs,
    ...) to compute the rule again per group, which took half the report's time.
    PostgreSQL hashes the groups and computes the rule once either way.
    """
    return f"SELECT b.rule, count(*) FROM ({built.ruled}{narrower}{_fence(dialect)}) b GROUP BY b.rule"


def _count(r: Reader, sql: str, params: dict[str, Any]) -> Counter[str]:
    return Counter({rule: int(n) for rule, n in r.conn.execute(sa.text(sql), params)})


def _count_in_parts(app: App, built: AudienceQuery, lo: int, hi: int) -> Counter[str]:
    """SQLite judges on one core per query: count row ranges side by side, one connection each.

    The driver releases the GIL while SQLite works, so the parts run in parallel.
    Each part reads its own snapshot; a write that commits while they run may be
    counted in one part and not another, as with any report of a moving ledger.
    """
    sql = _grouped(built, "sqlite", " AND f.rowid BETWEEN :lo AND :hi")
    step = (hi - lo) // PARTS + 1
    ranges = [(start, min(start + step - 1, hi)) for start in range(lo, hi + 1, step)]

    def part(bounds: tuple[int, int]) -> Counter[str]:
        with app.store.reader() as r:
            return _count(r, sql, {**built.params, "lo": bounds[0], "hi": bounds[1]})

    total: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        for found in pool.map(part, ranges):
            total.update(found)
    return total


@dataclass(frozen=True, slots=True)
class Member:
    """One judged contact point: the rule that decided and, unless denied, what its message owes."""

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
        _tune(r)
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
            chosen &= set(built.rules_with(wanted))
        if not chosen:
            return
        params = dict(built.params)
        conds = []
        if chosen != set(built.rules):
            marks = []
            for i, rule_id in enumerate(sorted(chosen)):
                params[f"only{i}"] = rule_id
                marks.append(f":only{i}")
            conds.append(f"m.rule IN ({', '.join(marks)})")
        if after is not None:
            params["after"] = after
            conds.append("m.contact_point_id > :after")
        # A page (limit, after) reads in id order from the key: a fence would judge every row first.
        paged = limit is not None or after is not None
        sql = f"SELECT * FROM ({built.inner}{'' if paged else _fence(r.conn.dialect.name)}) m"
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        if limit is not None:
            params["limit"] = limit
            sql += " ORDER BY m.contact_point_id LIMIT :limit"
        result = r.conn.execution_options(stream_results=True, yield_per=BATCH).execute(sa.text(sql), params)
        yield from _members(built, result)


def _members(built: AudienceQuery, rows: Iterable[Any]) -> Iterator[Member]:
    # Rows differ in few ways (a rule and which obligation rules hold): judge each way once.
    ways: dict[tuple[Any, ...], tuple[Verdict, Rule, tuple[Rule, ...], tuple[Obligation, ...]]] = {}
    for row in rows:
        key = tuple(row[4:])
        way = ways.get(key)
        if way is None:
            way = ways[key] = _way(built, row[4], row[5:])
        yield Member(row[0], row[1], row[2], row[3], *way)


def _way(
    built: AudienceQuery, rule_id: str, flags: Sequence[Any]
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
    """Write judged contact points as CSV with the deciding rule and the obligations; returns how many."""
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
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
