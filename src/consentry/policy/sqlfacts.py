"""The named facts as SQL: judging many contact points at once with the same rules.

`consentry.policy.facts` computes each fact for one contact point. This module
says the same facts in SQL over the audience projection, `point_facts`: one
narrow row per contact point that the store writes with every state it projects
(`consentry.policy.factrows`). What the rules ask per purpose and channel ("a valid consent
for nieuwsbrief by e-mail") is kept as a bit mask, so that a fact is one integer test on
the row itself, `(c_valid & :bit) <> 0`, and a million rows are judged in one scan without
joins. The bits are looked up once per query (`factrows.Numbering`): a token no row holds
is FALSE, one numbered beyond a mask's bits a substring test on the row's `more` column.
Register listings depend on the day asked about and are looked up (`point_listings`,
`register_entries`) only by plans that ask about them.

`compile_plan` turns the plan `RulePack.plan` makes for one kind of question into
one SQL expression per terminal rule chain (a CASE: the first rule whose checks
hold) and one per obligation rule. The per-contact evaluator and this one read
the same plan, so they cannot disagree on which rules apply; the property test
(tests/integration/test_audience_equivalence.py) checks that every fact below
means what its Python twin means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from consentry.domain.purposes import Purpose
from consentry.domain.vocabulary import (
    BUSINESS_PARTIES,
    NATURAL_PERSONS,
    NOT_FROM_SUBJECT,
    ORGANISATION_POINTS,
    PRIOR_CONTACT,
    Channel,
    PartyKind,
    PointKind,
    Source,
)
from consentry.policy.factrows import ANY, EMPTY, MASKS, Numbering, overflow_token, pair, tok
from consentry.policy.facts import (
    BEL_ME_NIET,
    CUSTOMER_WINDOW_YEARS,
    DECEASED_REGISTER,
    FACTS,
    POSTFILTER,
    add_years,
)
from consentry.policy.rules import Effect, Plan, Rule


def customer_window_start(day: date) -> date:
    """The earliest end of a customer relationship still inside the window on `day`.

    `customer_within_3_years` holds when `day <= add_years(ended, 3)`; `add_years`
    never decreases, so that is `ended >= customer_window_start(day)`.
    """
    guess = date(day.year - CUSTOMER_WINDOW_YEARS, day.month, min(day.day, 28)) - timedelta(days=4)
    while add_years(guess, CUSTOMER_WINDOW_YEARS) < day:
        guess += timedelta(days=1)
    return guess


@dataclass(frozen=True, slots=True)
class Register:
    """A do-not-contact register as the SQL needs it: what it lists, how, and when it applies."""

    kind: PointKind
    hashed: bool
    valid_from: date | None
    valid_until: date | None

    def in_force(self, day: date) -> bool:
        """True when the register applies on that day."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass
class Sql:
    """Builds one statement's SQL for one kind of question: named parameters, dialect functions."""

    dialect: str
    channel: Channel
    purpose: Purpose
    day: date
    point_kind: PointKind
    registers: dict[str, Register] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    alias: str = "f"
    #: The sender's declared Postfilter sector (None: every listing counts).
    postal_sector: str | None = None
    #: The bits of the mask columns' tokens, as stored (`fact_bits`). Required: with no
    #: numbering every mask test would read FALSE, so nobody would qualify and nothing be refused.
    bits: Numbering = field(kw_only=True)

    def param(self, value: Any) -> str:
        """A bound parameter for a value (dates in the stored form of the dialect)."""
        name = f"p{len(self.params)}"
        if isinstance(value, date) and self.dialect == "sqlite":
            value = value.isoformat()
        self.params[name] = value
        return f":{name}"

    def col(self, name: str) -> str:
        """A column of the projection row."""
        return f"{self.alias}.{name}"

    def has(self, column: str, token: str) -> str:
        """The column holds the token (`has_any`)."""
        return self.has_any(column, [token])

    def has_any(self, column: str, tokens: Iterable[str]) -> str:
        """The column holds one of the tokens.

        A mask column (`factrows.MASKS`) is one integer test against the tokens' bits together;
        a token numbered beyond the bits is searched for in `more`. Another column is a token
        string: most rows hold no token in it (`|`), and one comparison tells them before any
        search (a function call per token, the larger part of judging a row).
        """
        col = self.col(column)
        if column not in MASKS:
            found = [self.contains(col, f"|{token}|") for token in tokens]
            return f"({col} <> {self.param(EMPTY)} AND {_any_of(found)})" if found else FALSE
        mask, beyond = 0, []
        for token in tokens:
            n = self.bits.find(column, token)
            if n is None:  # never numbered: no row holds it
                continue
            if n < self.bits.bits:
                mask |= 1 << n
            else:
                beyond.append(self.contains(self.col("more"), f"|{overflow_token(column, n)}|"))
        parts = [f"({col} & {self.param(mask)}) <> 0"] if mask else []
        if beyond:
            parts.append(f"({self.col('more')} <> {self.param(EMPTY)} AND {_any_of(beyond)})")
        return _any_of(parts) if len(parts) != 1 else parts[0]

    def contains(self, expr: str, text: str) -> str:
        """The string expression contains the text."""
        fn = "strpos" if self.dialect == "postgresql" else "instr"
        return f"{fn}({expr}, {self.param(text)}) > 0"

    def flag(self, column: str) -> str:
        """A boolean column as a condition (0/1 on SQLite, boolean on PostgreSQL)."""
        return f"{self.col(column)}" if self.dialect == "postgresql" else f"{self.col(column)} = 1"

    def one_of(self, column: str, values: Iterable[str]) -> str:
        """The column holds one of these (vocabulary) values."""
        return f"{self.col(column)} IN ({', '.join(self.param(v) for v in sorted(values))})"


TRUE, FALSE = "1 = 1", "1 = 0"


def _any_of(parts: list[str]) -> str:
    return f"({' OR '.join(parts)})" if parts else FALSE


def _timed(q: Sql, still: bool, own: bool = False) -> str:
    """Consents given for a time for this purpose and channel: one still holds on the day (or all ran out).

    `c_timed` keeps, per purpose and channel, the first day none of them holds any more
    (`pair=a=2026-05-01`; `=o=` for those the sender collected itself). An ISO day compares
    as text, so the test is a few string functions on the row itself, no lookup. Most rows
    hold no consent for a time: comparing with the empty string first spares them the
    function calls (on SQLite that recovers what the timed test added to a report).

    PostgreSQL takes the day with one search, `split_part(c_timed, mark, 2)`: the text after the
    mark, which starts with the day ('' when the mark is absent). `strpos` and `substr` count
    characters in a UTF-8 database (a walk over the string each), and the test searched twice:
    the e-mail report's CPU 0.59 -> 0.54 s at 1,000,000 (docs/performance.md). The day is
    compared in "C" order (bytes), as the day's text sorts; '' sorts before '0', every day after.
    """
    key = f"|{pair(q.purpose.key, q.channel.value)}={'o' if own else 'a'}="
    col, mark, day = q.col("c_timed"), q.param(key), q.param(q.day.isoformat())
    if q.dialect == "postgresql":
        expires = f'left(split_part({col}, {mark}, 2), 10) COLLATE "C"'
        compared = f"{expires} > {day}" if still else f"{expires} BETWEEN {q.param('0')} AND {day}"
        return f"({col} <> {q.param(EMPTY)} AND {compared})"
    expires = f"substr({col}, instr({col}, {mark}) + {len(key)}, 10)"
    compared = f"{expires} {'>' if still else '<='} {day}"
    return f"({col} <> {q.param(EMPTY)} AND instr({col}, {mark}) > 0 AND {compared})"


def _consent(column: str, timed: bool = False, own: bool = False) -> Callable[[Sql], str]:
    def sql(q: Sql) -> str:
        found = q.has(column, pair(q.purpose.key, q.channel.value))
        return f"({found} OR {_timed(q, True, own)})" if timed else found

    return sql


def _prior_suppression(q: Sql) -> str:
    """The point carries an erased predecessor's suppression covering the channel.

    Most rows carry none (`suppressed_for` is 0): one integer test (`has_any`) tells them.
    """
    return q.has_any("suppressed_for", [ANY, tok(q.channel.value)])


def _opted_out(q: Sql) -> str:
    p, ch = q.purpose.key, q.channel.value
    return q.has_any("opt_outs", [pair(a, b) for a in (p, ANY) for b in (ch, ANY)])


def _bought(column: str) -> Callable[[Sql], str]:
    def sql(q: Sql) -> str:
        if q.purpose.third_party:
            return FALSE
        return q.has_any(column, [tok(cat) for cat in sorted(q.purpose.categories)])

    return sql


def _customer_3y(q: Sql) -> str:
    ended = q.col("ended_day")
    start = q.param(customer_window_start(q.day))
    return f"({q.flag('bought_any')} AND ({ended} IS NULL OR {ended} >= {start}))"


def _listed(register: str, by_sector: bool = False) -> Callable[[Sql], str]:
    def sql(q: Sql) -> str:
        f, day, reg = q.alias, q.param(q.day), q.param(register)
        sector = ""
        if by_sector and q.postal_sector is not None:
            sector = f" AND (l.sectors IS NULL OR {q.contains('l.sectors', f'|{tok(q.postal_sector)}|')})"
        # Listings recorded in the point's own ledger; the token spares most rows the lookup.
        own = (
            f"({q.has('listed', tok(register))} AND EXISTS (SELECT 1 FROM point_listings l "
            f"WHERE l.contact_point_id = {f}.contact_point_id AND l.register = {reg} "
            f"AND l.listed_from <= {day} AND (l.listed_until IS NULL OR l.listed_until >= {day}){sector}))"
        )
        found = q.registers.get(register)
        if found is None or found.kind != q.point_kind or not found.in_force(q.day):
            return own
        # A clear register lists blind indexes (hex), as the point's own `lookup` is one; a hashed
        # one the value's SHA-256 (hex), which the row keeps as its 32 bytes.
        column = f"{f}.value_hash" if found.hashed else f"{f}.lookup"
        entry = f"encode({column}, 'hex')" if q.dialect == "postgresql" else f"lower(hex({column}))"
        registered = (
            f"EXISTS (SELECT 1 FROM register_entries e WHERE e.register = {reg} AND e.entry = {entry} "
            f"AND (e.listed_from IS NULL OR e.listed_from <= {day}) "
            f"AND (e.listed_until IS NULL OR e.listed_until >= {day}))"
        )
        return f"({own} OR {registered})"

    return sql


def _values(kinds: Iterable[PartyKind | Source]) -> list[str]:
    return [k.value for k in kinds]


#: Every fact about the contact point, in SQL. Question facts (channel, kind,
#: sender) are settled by the plan before any SQL is written.
SQL_FACTS: dict[str, Callable[[Sql], str]] = {
    "natural_person": lambda q: q.one_of("party", _values(NATURAL_PERSONS)),
    "consumer": lambda q: q.one_of("party", [PartyKind.CONSUMER.value]),
    "business_party": lambda q: q.one_of("party", _values(BUSINESS_PARTIES)),
    "organisation_point": lambda q: q.one_of("party", _values(ORGANISATION_POINTS)),
    "published_for_offers": lambda q: q.flag("published"),
    "published_for_offers_unproven": lambda q: q.flag("published_unproven"),
    "outside_eea": lambda q: q.flag("outside_eea"),
    "local_rules_met": lambda q: q.flag("local_rules_met"),
    "erased": lambda q: q.flag("erased"),
    # The person's objections: the point's own or another point's of its contact, kept on the row
    # by the writer (`adapters.sql.objections`).
    "objected_dm": lambda q: q.flag("person_objected_dm"),
    "objected_profiling": lambda q: q.flag("person_objected_profiling"),
    "restricted": lambda q: q.flag("restricted"),
    "suppressed": lambda q: q.flag("suppressed"),
    "prior_suppression": _prior_suppression,
    "fresh_opt_in": lambda q: q.has("c_fresh", pair(q.purpose.key, q.channel.value)),
    "consent_valid": _consent("c_valid", timed=True),
    "consent_collected_by_sender": _consent("c_own", timed=True, own=True),
    "consent_expired": lambda q: _timed(q, False),
    "consent_pending": _consent("c_pending"),
    "consent_defective": _consent("c_defective"),
    "opted_out": _opted_out,
    "customer_exception": _bought("bought_ex"),
    "similar_purchase": _bought("bought"),
    "customer_within_3_years": _customer_3y,
    "customer_ever": lambda q: q.flag("bought_any"),
    "listed_bel_me_niet": _listed(BEL_ME_NIET),
    "listed_postfilter": _listed(POSTFILTER, by_sector=True),
    "listed_deceased": _listed(DECEASED_REGISTER),
    "third_party_list_unproven": lambda q: q.one_of("source", [Source.THIRD_PARTY_LIST_WITHOUT_PROOF.value]),
    "not_from_subject": lambda q: q.one_of("source", _values(NOT_FROM_SUBJECT)),
    "art14_notice_given": lambda q: q.flag("notice14"),
    "prior_contact": lambda q: (
        f"({q.one_of('source', _values(PRIOR_CONTACT))} OR {q.flag('bought_any')} "
        f"OR {q.flag('consented_ever')})"
    ),
}

_missing = {n for n, f in FACTS.items() if not f.question} - set(SQL_FACTS)
if _missing:  # pragma: no cover - a new fact without its SQL is a programming error
    raise RuntimeError(f"facts without a SQL translation: {sorted(_missing)}")


#: What a fact's SQL costs a row, cheapest first: a boolean column; an integer mask test (or a
#: flag with a date); a text column against values; a search in `c_timed`'s text; a lookup in
#: another table. `conditions` tests a rule's checks in this order (see there).
COST: dict[str, int] = {
    **dict.fromkeys(
        ("published_for_offers", "published_for_offers_unproven", "outside_eea", "local_rules_met",
         "erased", "objected_dm", "objected_profiling", "restricted", "suppressed", "customer_ever",
         "art14_notice_given"),
        0,
    ),
    **dict.fromkeys(
        ("prior_suppression", "fresh_opt_in", "consent_pending", "consent_defective", "opted_out",
         "customer_exception", "similar_purchase", "customer_within_3_years"),
        1,
    ),
    **dict.fromkeys(
        ("natural_person", "consumer", "business_party", "organisation_point",
         "third_party_list_unproven", "not_from_subject", "prior_contact"),
        2,
    ),
    **dict.fromkeys(("consent_valid", "consent_collected_by_sender", "consent_expired"), 3),
    **dict.fromkeys(("listed_bel_me_niet", "listed_postfilter", "listed_deceased"), 4),
}  # fmt: skip

if set(COST) != set(SQL_FACTS):  # pragma: no cover - a new fact without its cost is a programming error
    raise RuntimeError(f"facts without a cost: {sorted(set(SQL_FACTS) ^ set(COST))}")


def conditions(q: Sql, checks: tuple[tuple[str, bool], ...]) -> str:
    """All checks of one rule, as one SQL condition: the facts that must hold first, cheapest first.

    Both databases test an AND's operands in the order written and stop at the first false
    one, and neither reorders them inside a CASE: a rule of business parties that are
    published (`party IN (...) AND published`) compared three strings on every consumer's row
    before reading the flag that is false for nearly all of them. A fact holds for few rows
    (a rule singles out the exception) and its negation for most, so a fact that must hold
    stops the AND sooner than one that must not: those come first, each group by `COST`, the
    plan's order within a cost. The order changes no answer (the checks are pure and never
    NULL), only how many of them a row is put to.
    """
    if not checks:
        return TRUE
    ordered = sorted(checks, key=lambda check: (not check[1], COST[check[0]]))
    return " AND ".join(
        SQL_FACTS[name](q) if want else f"NOT ({SQL_FACTS[name](q)})" for name, want in ordered
    )


#: The code of a rule's place 0 in `CompiledPlan.numbered` on SQLite: place i is the one-character
#: text chr(PLACE_CODE + i) ('0' ... '9', then ':' ... '@', the letters and on; never a quote).
PLACE_CODE = 0x30


def place_code(dialect: str, place: int) -> str:
    """A rule's place as `numbered` writes it: an integer on PostgreSQL, one character on SQLite.

    SQLite has no hash aggregate: a count grouped by the place sorted every judged row (~40% of
    the e-mail report's CPU at 1,000,000). Its report concatenates the one-character places of
    a part's rows instead, one byte a row (for the first 80 places), and counts each character
    (`adapters.sql.audience`).
    """
    return f"'{place_char(place)}'" if dialect == "sqlite" else str(place)


def place_char(place: int) -> str:
    """A rule's place as SQLite's report writes it: one character."""
    return chr(PLACE_CODE + place)


@dataclass(frozen=True)
class CompiledPlan:
    """A plan as SQL: the deciding rule's id, the same as a number, and a 0/1 column per obligation rule."""

    rule: str
    obligations: tuple[tuple[Rule, str], ...]
    #: The deciding rule as its place among `rules` (the same CASE with places for ids, `place_code`),
    #: for counting: a count by a small integer (or a character) costs less than one by text.
    numbered: str
    #: The terminal rules in plan order, then the fallback: what `numbered` numbers.
    rules: tuple[Rule, ...]
    #: The deciding rule's id where it does not allow (deny, review), NULL where it allows: what a
    #: send queue keeps per row (`campaign_queue.fill`), told apart by one NULL test a row, not by
    #: comparing the id with the allowing rules' ids.
    refused: str


def compile_plan(q: Sql, plan: Plan, fallback: Rule) -> CompiledPlan:
    """The SQL that picks each row's deciding rule, and tests each obligation rule."""
    terminal, oblige = plan
    whens = [(conditions(q, checks), rule) for rule, checks in terminal]
    rules = (*(rule for _, rule in whens), fallback)
    ids = {rule.id: q.param(rule.id) for rule in rules}

    def case(then: Callable[[int, Rule], str]) -> str:
        branches = " ".join(f"WHEN {sql} THEN {then(i, rule)}" for i, (sql, rule) in enumerate(whens))
        last = then(len(whens), fallback)
        return f"CASE {branches} ELSE {last} END" if branches else last

    # Parameters typed as text in both dialects: CASE needs one result type.
    rule = case(lambda _, r: ids[r.id])
    # The places are written in the SQL: integers the compiler makes, never input.
    numbered = case(lambda i, _: place_code(q.dialect, i))
    refused = case(lambda _, r: "NULL" if r.effect is Effect.ALLOW else ids[r.id])
    obligations = tuple(
        (rule_, f"CASE WHEN {conditions(q, checks)} THEN 1 ELSE 0 END") for rule_, checks in oblige
    )
    return CompiledPlan(rule, obligations, numbered, rules, refused)
