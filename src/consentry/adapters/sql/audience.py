"""Judging an audience in SQL: the rule plan as one expression over the audience projection.

`consentry.policy.sqlfacts` writes the plan of the rule pack (`RulePack.plan`) as a
SQL expression; this module wraps it in the statements that count the judged
points by rule, stream them, or fill a send queue with them. The database judges
every contact point in one scan; nothing holds the whole audience in memory.
Implements `services.ports.Audiences` (and `Store.audience_counts`).
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from psycopg import pq

from consentry.adapters.crypto.blind import BlindIndex
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.projection import ProjectionReads, term_token
from consentry.adapters.sql.registers import RegisterReads
from consentry.domain.campaigns import Selection
from consentry.domain.vocabulary import PointKind
from consentry.policy.factrows import Numbering, attribute_term, source_term, tok
from consentry.policy.rules import Rule, RulePack
from consentry.policy.sqlfacts import Register, Sql, compile_plan, place_char
from consentry.services.ports import AudienceAsk, Judging

if TYPE_CHECKING:
    from consentry.adapters.sql.store import SqlStore

#: Rows fetched at a time when streaming members.
BATCH = 5000
#: A named parameter in the SQL the audience compiles (`:p0`), not a PostgreSQL cast (`::`).
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
#: A column of the judged row (`f.party`) in the SQL the audience compiles.
_COLUMN = re.compile(r"\bf\.(\w+)")
#: Parts an SQLite audience count is split into, counted side by side (PostgreSQL
#: parallelises a query itself).
PARTS = max(1, min(4, os.cpu_count() or 1))
#: The lowest and highest point number, the range SQLite's report splits into parts: each a seek
#: to one end of the table. `min()` and `max()` in one SELECT are not that: SQLite reads them from
#: one end of a b-tree only for a lone min or max, and scanned an index of every point (0.16-0.25 s
#: at 1,671,600 points, before the parts began: a third of the e-mail report's wall time).
BOUNDS = "SELECT (SELECT min(rowid) FROM point_facts), (SELECT max(rowid) FROM point_facts)"


@dataclass(frozen=True)
class AudienceQuery:
    """The SQL that judges every considered contact point, and how to read its rows.

    `inner` selects contact_point_id, contact_id, value_ct, name_ct, party, rule, then ob0
    ... obN (1 where the N-th obligation rule holds): the value and name sealed, as stored
    (`judged_rows` opens them a batch at a time); `sql` selects contact_point_id, value_ct,
    name_ct, party, rule, the verdict after the rule, then the obligations.
    The verdict follows from the rule, so readers that can should filter on rules:
    the database then computes each row's rule once.
    """

    inner: str
    sql: str
    #: The rule alone per considered row, for counting (`inner` without the other columns): as its
    #: place in `places` (`sqlfacts.place_code`: an integer on PostgreSQL, grouped faster than the
    #: rule's id; one character on SQLite, concatenated). On SQLite it reads
    #: `ix_point_facts_judged` where that holds every column it tests.
    ruled: str
    #: Each considered row's point_no, id and rule, the rule NULL where it allows
    #: (`CompiledPlan.refused`), for filling a send queue (keyed by point number, carrying the id a
    #: claim hands out): a co-routine computes every column it selects, read or not (the
    #: obligations, the sealed blobs). On SQLite it reads `ix_point_facts_judged`, which ends with
    #: the point's id, where that holds every column it tests.
    keyed: str
    params: dict[str, Any]
    rules: dict[str, Rule]
    obligation_rules: tuple[Rule, ...]
    pack: RulePack
    #: The rule's id by its place, as `ruled` gives it (`sqlfacts.place_code`).
    places: tuple[str, ...]

    def statement(self) -> sa.TextClause:
        """`sql` as a SQLAlchemy statement."""
        return sa.text(self.sql).bindparams(**self.params)


def compile_audience(
    dialect: str, ask: AudienceAsk, registers: dict[str, Register], blind: BlindIndex, bits: Numbering
) -> AudienceQuery:
    """Compile the question into SQL for this database (`bits`: the mask columns' bits as stored)."""
    x, pack, kind = ask.situation, ask.pack, ask.point_kind
    q = Sql(dialect, x.q.channel, x.q.purpose, x.day, kind, registers, bits=bits)
    q.postal_sector = x.controller.postal_sector
    plan = pack.plan(x)
    compiled = compile_plan(q, plan, pack.fallback)
    kind_is = q.param(kind.value)
    selected = _selected(q, ask.selection, blind)
    # SQLite: a report, or a queue's fill, that reads only what `ix_point_facts_judged` holds reads
    # that index (the kind's entries, about half of each row); every other audience query reads the
    # table as before (`+f.kind`: the kind is no way into an index, so a page still walks the id's index).
    sqlite = dialect == "sqlite"
    where = [f"{'+' if sqlite else ''}f.kind = {kind_is}", *selected]
    counted, judged = _from(sqlite, compiled.numbered, selected, kind_is, where)
    filled, keyed_from = _from(sqlite, compiled.refused, selected, kind_is, where)
    obligations = "".join(f", {sql} AS ob{i}" for i, (_, sql) in enumerate(compiled.obligations))
    terminal = [rule for rule, _ in plan[0]] + [pack.fallback]
    verdict = " ".join(f"WHEN {q.param(rule.id)} THEN {q.param(rule.effect.value)}" for rule in terminal)
    inner = (
        f"SELECT f.contact_point_id, f.contact_id, f.value_ct, f.name_ct, f.party, "
        f"{compiled.rule} AS rule{obligations} FROM point_facts f WHERE {' AND '.join(where)}"
    )
    ruled = f"SELECT {compiled.numbered} AS rule FROM {judged} WHERE {counted}"
    keyed = (
        f"SELECT f.point_no, f.contact_point_id, {compiled.refused} AS rule FROM {keyed_from} WHERE {filled}"
    )
    obs = "".join(f", a.ob{i}" for i in range(len(compiled.obligations)))
    sql = (
        f"SELECT a.contact_point_id, a.value_ct, a.name_ct, a.party, a.rule, "
        f"CASE a.rule {verdict} END AS verdict{obs} FROM ({inner}{fence(q.dialect)}) a"
    )
    return AudienceQuery(
        inner,
        sql,
        ruled,
        keyed,
        q.params,
        {rule.id: rule for rule in terminal},
        tuple(rule for rule, _ in compiled.obligations),
        pack,
        tuple(rule.id for rule in compiled.rules),
    )


def _from(sqlite: bool, rule: str, selected: list[str], kind_is: str, where: list[str]) -> tuple[str, str]:
    """The WHERE and the FROM of a query that judges `rule` over the selected points of a kind: on SQLite
    the covering index's entries of the kind when it holds every column the query reads (the point's
    number and id among them), else the table."""
    if sqlite and _reads(" ".join([rule, *selected])) <= set(t.COVERED):
        covered = " AND ".join([f"f.kind = {kind_is}", *selected])
        return covered, "point_facts f INDEXED BY ix_point_facts_judged"
    return " AND ".join(where), "point_facts f"


def _reads(sql: str) -> set[str]:
    """The columns of `point_facts f` the SQL names."""
    return set(_COLUMN.findall(sql))


def _selected(q: Sql, s: Selection, blind: BlindIndex) -> list[str]:
    where = []
    if s.tag:
        where.append(q.has("tags", tok(s.tag)))
    if s.attribute:
        where.append(_term(q, blind, attribute_term(*s.attribute)))
    if s.subscribers_of:
        where.append(q.has("subscribed", tok(s.subscribers_of)))
    if s.source_detail:
        where.append(_term(q, blind, source_term(s.source_detail)))
    return where


def _term(q: Sql, blind: BlindIndex, term: str) -> str:
    """The point has this selection term (its blind index among `point_facts.selected_by`)."""
    return q.has("selected_by", term_token(blind.term(term)))


def fence(dialect: str, *, postgresql: bool = False) -> str:
    """Ends a subquery the database must not flatten into the query around it (the stream, the fill).

    Flattened, SQLite writes the rule's CASE wherever the outer query names the rule, and
    computes it again there. A report or a stream needs no fence on PostgreSQL (it hashes
    the groups, and a filtered stream measured the same with `OFFSET 0` as without);
    `postgresql` fences there too, for an INSERT that names the rule in several columns
    (`campaign_queue.fill`), where its planner inlines the subquery as well.
    """
    if dialect == "sqlite":
        return " LIMIT -1"
    return " OFFSET 0" if postgresql else ""


class AudienceReads(RegisterReads, ProjectionReads):
    """Judging audiences within a read (or write) transaction."""

    def judging(self, ask: AudienceAsk) -> AudienceQuery:
        """Compile the question for this database, with the registers as they stand."""
        registers = {
            reg["key"]: Register(
                PointKind(reg["kind"]), bool(reg["hashed"]), reg["valid_from"], reg["valid_until"]
            )
            for reg in self.register_definitions()
        }
        return compile_audience(self.conn.dialect.name, ask, registers, self.vault.blind, self.fact_bits())

    def judged_rows(
        self, judging: Judging, rules: Sequence[str] | None, after: str | None, limit: int | None
    ) -> Iterator[Sequence[Any]]:
        """Stream the judged rows, optionally only some rules' or a page in id order after `after`.

        Each row is (contact_point_id, value, name, party, rule, ob0 ... obN): the value and
        name opened with the contact's data key, read in the same query as the row.
        """
        assert isinstance(judging, AudienceQuery)  # compiled by this store
        self._tune()
        params = dict(judging.params)
        conds = []
        if rules is not None:
            marks = []
            for i, rule_id in enumerate(sorted(rules)):
                params[f"only{i}"] = rule_id
                marks.append(f":only{i}")
            conds.append(f"m.rule IN ({', '.join(marks)})")
        if after is not None:
            params["after"] = after
            conds.append("m.contact_point_id > :after")
        # A page (limit, after) reads in id order from the key: a fence would judge every row first.
        paged = limit is not None or after is not None
        # Each row brings its contact's wrapped data key: the judged rows are few enough to look
        # each up by its key, and no query per batch asks for them again.
        sql = (
            f"SELECT m.*, k.key_id, k.wrapped FROM ({judging.inner}"
            f"{'' if paged else fence(self.conn.dialect.name)}) m "
            "LEFT JOIN data_keys k ON k.contact_id = m.contact_id"
        )
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        if limit is not None:
            params["limit"] = limit
            sql += " ORDER BY m.contact_point_id LIMIT :limit"
        ciphers_of = self.vault.ciphers_of
        for part in self._stream(sql, params):
            # The batch's keys unwrapped through the vault's bounded cache (not the transaction's,
            # which would keep every contact of the audience).
            get = ciphers_of((row[1], row[-2], row[-1]) for row in part if row[-1] is not None).get
            for row in part:
                cipher, value_ct, name_ct = get(row[1]), row[2], row[3]
                if cipher is None or value_ct is None:  # its key is gone
                    yield (row[0], "", None, *row[4:-2])
                else:
                    name = None if name_ct is None else cipher.decrypt("name", name_ct)
                    yield (row[0], cipher.decrypt("value", value_ct), name, *row[4:-2])

    def _stream(self, sql: str, params: dict[str, Any]) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of `sql` (`:name` marks a parameter) in batches of tuples, straight from the driver.

        SQLAlchemy's result rows cost more per row than judging one. PostgreSQL streams the
        result in chunks (libpq's chunked rows, in binary: no bytea as hex) rather than through
        a server-side cursor: PostgreSQL plans no parallel scan for a cursor, and judged the
        whole audience on one core (1,008,756 rows, 507,612 sent on: 4.2 s against 2.3-2.9 s,
        the same client CPU). The stream ends the query if left early.
        """
        raw: Any = self.conn.connection.driver_connection
        if self.conn.dialect.name == "postgresql":
            sql = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
            cur = raw.cursor(binary=True)
            # Chunks need libpq 17 (psycopg's wheels bring 17 or later); before it, a row at a time.
            rows = cur.stream(sql, params, size=BATCH if pq.version() >= 170000 else 1)
            try:
                while part := list(itertools.islice(rows, BATCH)):
                    yield part
            finally:
                rows.close()
                cur.close()
            return
        cur = raw.cursor()
        try:
            cur.execute(sql, params)
            while part := cur.fetchmany(BATCH):
                yield part
        finally:
            cur.close()

    def _tune(self) -> None:
        """PostgreSQL: no JIT for audience queries. It compiles the CASE anew for each query,
        which takes longer (about a second) than judging a million rows without it."""
        if self.conn.dialect.name == "postgresql":
            self.conn.exec_driver_sql("SET LOCAL jit = off")

    def _count(self, built: AudienceQuery, sql: str, params: dict[str, Any]) -> Counter[str]:
        """The rows of `_grouped`'s count by rule id: on PostgreSQL (place, count) rows; on SQLite one
        text of a character a row (`sqlfacts.place_code`), each character counted here."""
        found: Counter[str] = Counter()
        if self.conn.dialect.name == "sqlite":
            places = self.conn.execute(sa.text(sql), params).scalar() or ""
            for i, rule in enumerate(built.places):
                if n := places.count(place_char(i)):
                    found[rule] += n
            return found
        for place, n in self.conn.execute(sa.text(sql), params):
            found[built.places[int(place)]] += int(n)
        return found


def counts(store: SqlStore, ask: AudienceAsk) -> tuple[AudienceQuery, Counter[str]]:
    """Count the audience by deciding rule: one grouped query (on SQLite, one per core over parts)."""
    with store.reader() as r:
        r._tune()
        built = r.judging(ask)
        lo = hi = None
        if r.conn.dialect.name == "sqlite" and PARTS > 1:
            lo, hi = r.conn.execute(sa.text(BOUNDS)).one()
        if lo is None or hi is None:  # one query: PostgreSQL, or nothing to split
            if r.conn.dialect.name == "postgresql":
                # PostgreSQL cannot know the rule takes a handful of values: it guesses a group per
                # few rows and sorts a million rows on disk to count them. Hashing counts them in
                # one pass (at 1,000,000: 1.75 s against 2.0-2.3 s at load 10).
                r.conn.exec_driver_sql("SET LOCAL enable_sort = off")
                # The same guess makes counting in the workers look useless, so it weighs judging
                # on one core against handing each judged row (one integer) to the leader, priced
                # at 0.1 by default; at 0.05 the workers judge (phone report at 1,000,000: 0.61 ->
                # 0.42 s; the e-mail report keeps counting in the workers). docs/performance.md.
                r.conn.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0.05")
            return built, r._count(built, _grouped(built, r.conn.dialect.name), built.params)
    return built, _count_in_parts(store, built, int(lo), int(hi))


def _grouped(built: AudienceQuery, dialect: str, narrower: str = "") -> str:
    """Count the judged rows by deciding rule; `narrower` adds a condition to the inner WHERE.

    PostgreSQL hashes the groups (`GROUP BY`) and computes the rule once. SQLite has no hash
    aggregate: a `GROUP BY` sorts every judged row (at 1,000,000 e-mail rows ~0.25 s of a
    thread's ~0.6 s, as much as judging them). Its rule is a one-character place
    (`sqlfacts.place_code`) and the query concatenates them, a byte a row (a plan's first 80
    places), in one aggregate without groups, which SQLite computes with the subquery flattened
    into it, the rule once a row; `_count` counts the characters. A part's text is as long as its
    rows are many (SQLite's longest text, 10^9 bytes, is far beyond a part of any store this is
    made for).
    """
    if dialect == "sqlite":
        return f"SELECT group_concat(b.rule, '') FROM ({built.ruled}{narrower}) b"
    return f"SELECT b.rule, count(*) FROM ({built.ruled}{narrower}) b GROUP BY b.rule"


def _count_in_parts(store: SqlStore, built: AudienceQuery, lo: int, hi: int) -> Counter[str]:
    """SQLite judges on one core per query: count row ranges side by side, one connection each.

    The driver releases the GIL while SQLite works, so the parts run in parallel.
    Each part reads its own snapshot; a write that commits while they run may be
    counted in one part and not another, as with any report of a moving ledger.
    """
    sql = _grouped(built, "sqlite", " AND f.point_no BETWEEN :lo AND :hi")
    step = (hi - lo) // PARTS + 1
    ranges = [(start, min(start + step - 1, hi)) for start in range(lo, hi + 1, step)]

    def part(bounds: tuple[int, int]) -> Counter[str]:
        with store.reader() as r:
            return r._count(built, sql, {**built.params, "lo": bounds[0], "hi": bounds[1]})

    total: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=len(ranges)) as pool:
        for found in pool.map(part, ranges):
            total.update(found)
    return total
