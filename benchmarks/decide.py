"""Benchmark: how long one decision takes, for a contact point with 20 ledger events.

Targets (issue #16): one decision in-process, for a contact point with 20 events, median <= 50 µs;
one decision through the service WITH its store read, median <= 100 µs.

What is measured, each over many thousand runs timed one by one with time.perf_counter_ns:

(a) the pure in-process decision: fold the point's events (as read from the store, up to the
    moment asked about) and evaluate the question with the `nl` rule pack. The reference.
(b) evaluate alone, on a state folded beforehand.
(c) the full service `consentry.services.decide.decide()` on each store (a SQLite file in a
    temp directory; a scratch PostgreSQL database, see benchmarks/pgdb.py): its reads (no
    transaction), the point found by its blind index, its head, purpose, registers' version
    and controller in one statement, the state (from the process's state cache when the point's head shows it
    current, else read, opened and folded), then (a). Measured twice: with the address as
    typed and with the contact point id (which skips address normalisation). Beside the wall
    figures: the process's CPU time per decision, and on PostgreSQL the round trips to the
    server per decision (counted in libpq's protocol trace: each Query or Sync message,
    from the pool's checkout on: a pre-ping made before it is not counted), with the state
    cached and not.

The machine's reference on PostgreSQL (since session 5; before, a `SELECT 1` on a pooled
connection, which carried SQLAlchemy's pool and psycopg's autocommit switch): on a raw
connection kept open in autocommit, no SQLAlchemy and no pool, `SELECT 1` and the decision's
own statement alone (`deciding.BY_LOOKUP`, the first question's parameters), each through a
psycopg cursor and through libpq alone (`pgconn.exec_`, `exec_prepared`), timed interleaved
right after (c) with the thread CPU time of each, and (since session 11) the narrowest read a
decision could make, its point's head alone (`point_facts` by its unique `contact_point_id`, one
row, libpq prepared); the lowest of their medians is the machine's
floor for one round trip, and when it is above the target the target is reported BLOCKED by the
machine. Beside them, (a) timed right after a bare round trip: on this 2-core VM a thread
that slept on the server runs the same Python ~1.5-2x slower for a while (its caches were
emptied while it waited), which is where most of a PostgreSQL decision's client CPU goes.

Seven questions rotate (e-mail for three purposes, phone calls in 2019, 2025 and 2026, post) so
no single code path is measured alone. The three contact points (e-mail, phone, postal) have 20
realistic events each: registration, consents and confirmations, purchases, an unsubscribe for
another purpose, notices, a register listing, bounces, an objection to profiling.

Run from the repository root with the virtualenv active:

    python benchmarks/decide.py                    # both stores, default run counts
    python benchmarks/decide.py --store sqlite     # or postgresql
    python benchmarks/decide.py --runs 50000       # more runs for (a) and (b)
    PGHOST=/var/run/postgresql CONSENTRY_BENCH_PG_URL='postgresql+psycopg://postgres@/test' \
        python benchmarks/decide.py --store postgresql   # PostgreSQL on this host, by its Unix socket

It prints median, p99 and mean per measurement, PASS/FAIL lines for the targets, and exits 0.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consentry.adapters.sql.deciding import BY_LOOKUP
from consentry.bootstrap import App, bootstrap
from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.vocabulary import Activity, Channel, MessageKind
from consentry.policy.facts import Controller, Question
from consentry.policy.rules import evaluate
from consentry.services import purposes, setup
from consentry.services.contacts import point_key, resolve
from consentry.services.decide import decide
from consentry.services.ledger import append_records
from consentry.services.states import StateCache
from consentry.settings import Settings

TARGET_MEDIAN_US = 50.0
TARGET_SERVICE_US = 100.0

PURPOSES = (
    ("nieuwsbrief", "Nieuwsbrief", "Newsletter", ("koffiebonen", "apparatuur"), False),
    ("koffie-aanbiedingen", "Aanbiedingen koffie", "Coffee offers", ("koffiebonen",), False),
    ("partner-aanbiedingen", "Aanbiedingen van partners", "Partner offers", ("partners",), True),
)

EMAIL = "anna.kuiper@example.nl"
PHONE = "+31612345678"
POSTAL = "postal:Dorpsstraat 12; 1234 AB Voorbeelddorp"
IP = {"ip": "203.0.113.17", "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}


def _r(etype: str, contact: str | None, at: str, **fields: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"type": etype, "occurred_at": at, **fields}
    if contact is not None:
        rec["contact"] = contact
    return rec


def _buy(contact: str, at: str, cats: list[str], ref: str) -> dict[str, Any]:
    return _r("purchase.recorded", contact, at, categories=cats, opt_out_offered=True, order_ref=ref)


def email_history() -> list[dict[str, Any]]:
    """A web-shop customer on the newsletter: 20 events over four years."""
    c = EMAIL
    return [
        _r(
            "contact_point.registered",
            None,
            "2021-03-14T10:02:00+01:00",
            kind="email",
            value="Anna.Kuiper@Example.nl",
            source="web_form",
            party="consumer",
            display_name="Anna Kuiper",
        ),
        _r(
            "consent.given",
            c,
            "2021-03-14T10:02:00+01:00",
            purpose="nieuwsbrief",
            channels=["email"],
            method="double_opt_in",
            text_version="nieuwsbrief-v2",
            language="nl",
            collection_point="footer-form",
            **IP,
        ),
        _r("consent.confirmed", c, "2021-03-14T10:09:41+01:00", purpose="nieuwsbrief", **IP),
        _r("notice.given", c, "2021-03-14T10:10:00+01:00", article="13", method="email", text_version="p-v4"),
        _buy(c, "2021-05-02T19:45:00+02:00", ["koffiebonen"], "WEB-2021-00412"),
        _r(
            "consent.given",
            c,
            "2021-05-02T19:46:00+02:00",
            purpose="koffie-aanbiedingen",
            channels=["email"],
            method="single_opt_in",
            text_version="aanbiedingen-v1",
            collection_point="checkout",
            **IP,
        ),
        _buy(c, "2021-11-26T08:15:00+01:00", ["apparatuur"], "WEB-2021-03318"),
        _r(
            "consent.given",
            c,
            "2022-02-01T12:00:00+01:00",
            purpose="partner-aanbiedingen",
            channels=["email"],
            method="double_opt_in",
            text_version="partners-v1",
            **IP,
        ),
        _r("consent.confirmed", c, "2022-02-01T12:03:10+01:00", purpose="partner-aanbiedingen", **IP),
        _r("bounce.recorded", c, "2022-07-19T03:12:00+02:00", bounce_kind="soft", diagnostic="452 full"),
        _buy(c, "2022-12-10T21:30:00+01:00", ["koffiebonen"], "WEB-2022-09120"),
        _r(
            "unsubscribed",
            c,
            "2023-04-03T21:14:00+02:00",
            purpose="partner-aanbiedingen",
            via="one_click",
            campaign="lente-2023",
        ),
        _r("contact_point.updated", c, "2023-06-01T09:00:00+02:00", display_name="Anna Kuiper-de Wit"),
        _r(
            "consent.given",
            c,
            "2023-09-12T08:30:00+02:00",
            purpose="nieuwsbrief",
            channels=["email"],
            method="double_opt_in",
            text_version="nieuwsbrief-v3",
            language="nl",
            **IP,
        ),
        _r("consent.confirmed", c, "2023-09-12T08:41:00+02:00", purpose="nieuwsbrief", **IP),
        _buy(c, "2024-03-08T17:05:00+01:00", ["koffiebonen", "apparatuur"], "WEB-2024-01877"),
        _r("objection.recorded", c, "2024-05-20T10:00:00+02:00", scope="profiling", via="email"),
        _r("notice.given", c, "2024-05-20T10:05:00+02:00", article="21", method="email"),
        _buy(c, "2025-01-15T13:45:00+01:00", ["koffiebonen"], "WEB-2025-00231"),
        _r("bounce.recorded", c, "2025-02-02T04:40:00+01:00", bounce_kind="soft", diagnostic="421 try later"),
    ]


def phone_history() -> list[dict[str, Any]]:
    """A customer by phone: listed on Bel-me-niet until it closed, customer on and off."""
    c = PHONE
    return [
        _r(
            "contact_point.registered",
            None,
            "2017-04-16T12:00:00+02:00",
            kind="phone",
            value="06 12345678",
            source="purchase",
            party="consumer",
            display_name="Henk Smit",
        ),
        _r(
            "register.listed",
            c,
            "2017-04-16T12:00:00+02:00",
            register="bel-me-niet",
            listed_from="2015-03-01",
            listed_until="2021-06-30",
        ),
        _buy(c, "2017-04-16T12:00:00+02:00", ["koffiebonen"], "TEL-2017-0042"),
        _r("notice.given", c, "2017-04-16T12:01:00+02:00", article="13", method="call"),
        _buy(c, "2018-02-03T10:30:00+01:00", ["apparatuur"], "TEL-2018-0107"),
        _r(
            "consent.given",
            c,
            "2018-02-03T10:31:00+01:00",
            purpose="nieuwsbrief",
            channels=["sms"],
            method="call_recording",
            text_version="sms-v1",
        ),
        _buy(c, "2018-11-20T14:00:00+01:00", ["koffiebonen"], "TEL-2018-0388"),
        _r(
            "unsubscribed",
            c,
            "2019-01-05T09:12:00+01:00",
            purpose="nieuwsbrief",
            channels=["sms"],
            via="reply",
        ),
        _buy(c, "2019-06-11T11:11:00+02:00", ["koffiebonen"], "TEL-2019-0201"),
        _r(
            "consent.given",
            c,
            "2020-03-02T16:00:00+01:00",
            purpose="koffie-aanbiedingen",
            channels=["sms"],
            method="written_reply",
            text_version="sms-v2",
        ),
        _buy(c, "2020-12-01T10:00:00+01:00", ["apparatuur"], "TEL-2020-0590"),
        _r("contact_point.updated", c, "2021-01-10T09:00:00+01:00", country="NL"),
        _buy(c, "2021-09-14T15:20:00+02:00", ["koffiebonen"], "TEL-2021-0712"),
        _r("notice.given", c, "2021-09-14T15:21:00+02:00", article="21", method="call"),
        _r("bounce.recorded", c, "2022-01-04T08:00:00+01:00", bounce_kind="soft", diagnostic="unreachable"),
        _buy(c, "2022-05-30T12:00:00+02:00", ["koffiebonen"], "TEL-2022-0333"),
        _r(
            "customer_relationship.ended",
            c,
            "2023-06-30T12:00:00+02:00",
            reason="abonnement opgezegd",
        ),
        _r(
            "consent.withdrawn",
            c,
            "2023-06-30T12:05:00+02:00",
            purpose="koffie-aanbiedingen",
            channels=["sms"],
            reason="geen klant meer",
        ),
        _buy(c, "2024-10-02T10:00:00+02:00", ["koffiebonen"], "TEL-2024-0810"),
        _r("objection.recorded", c, "2025-03-03T10:00:00+01:00", scope="profiling", via="phone"),
    ]


def postal_history() -> list[dict[str, Any]]:
    """An address from a licensed list, on the Postfilter, later a customer."""
    c = POSTAL
    out = [
        _r(
            "contact_point.registered",
            None,
            "2020-06-11T10:00:00+02:00",
            kind="postal",
            value="Dorpsstraat 12; 1234 AB Voorbeelddorp",
            source="third_party_list_with_proof",
            source_detail="Adresbestand Voorbeeld Data BV, licentie 2020-117",
            display_name="Fam. de Boer",
        ),
        _r(
            "register.listed", c, "2020-06-11T10:00:00+02:00", register="postfilter", listed_from="2019-01-01"
        ),
        _r("notice.given", c, "2020-06-20T10:00:00+02:00", article="14", method="letter"),
    ]
    for i in range(14):
        year, month = 2020 + (i + 7) // 12, (i + 7) % 12 + 1
        out.append(_buy(c, f"{year}-{month:02d}-15T12:00:00+02:00", ["koffiebonen"], f"POST-{i:04d}"))
    out += [
        _r("notice.given", c, "2022-01-03T10:00:00+01:00", article="21", method="letter"),
        _r("customer_relationship.ended", c, "2023-02-01T12:00:00+01:00", reason="verhuisd"),
        _r("contact_point.updated", c, "2023-02-02T12:00:00+01:00", display_name="R. de Boer"),
    ]
    return out


@dataclass(frozen=True)
class Case:
    """One question about one contact point."""

    label: str
    contact: str
    channel: Channel
    purpose: str
    at: datetime


def _at(year: int, month: int) -> datetime:
    return datetime(year, month, 1, 10, tzinfo=UTC)


CASES = (
    Case("e-mail   nieuwsbrief   2025-06", EMAIL, Channel.EMAIL, "nieuwsbrief", _at(2025, 6)),
    Case("e-mail   koffie        2025-06", EMAIL, Channel.EMAIL, "koffie-aanbiedingen", _at(2025, 6)),
    Case("e-mail   partners      2025-06", EMAIL, Channel.EMAIL, "partner-aanbiedingen", _at(2025, 6)),
    Case("phone    koffie        2019-05", PHONE, Channel.PHONE, "koffie-aanbiedingen", _at(2019, 5)),
    Case("phone    koffie        2025-05", PHONE, Channel.PHONE, "koffie-aanbiedingen", _at(2025, 5)),
    Case("phone    koffie        2026-08", PHONE, Channel.PHONE, "koffie-aanbiedingen", _at(2026, 8)),
    Case("post     koffie        2025-06", POSTAL, Channel.POST, "koffie-aanbiedingen", _at(2025, 6)),
)


@dataclass
class Prepared:
    """A case with everything read from the store, ready for the pure decision."""

    case: Case
    point_id: str
    events: list[Event]  # as the store returns them for this moment (occurred_at <= at)
    question: Question


def build(app: App) -> list[Prepared]:
    """Set the database up, append the three histories and read back what decide() would read."""
    setup.init(app, name="Koffiebranderij De Boon BV", sector="commercial")
    for key, nl, en, cats, third_party in PURPOSES:
        purposes.define(app, key, nl, en, "commercial", cats, third_party)
    histories = email_history() + phone_history() + postal_history()
    assert all(len(h) == 20 for h in (email_history(), phone_history(), postal_history()))
    append_records(app, enumerate(histories, 1))
    out = []
    with app.store.reader() as r:
        for case in CASES:
            pid, _ = resolve(r, case.contact)
            purpose = r.purpose(case.purpose)
            assert purpose is not None
            q = Question(case.channel, purpose, case.at, MessageKind.MARKETING, Activity.CONTACT)
            out.append(Prepared(case, pid, r.events_for(pid, as_of=case.at), q))
    return out


@dataclass
class Stats:
    """Summary of timings in nanoseconds."""

    n: int
    median: float
    p99: float
    mean: float
    minimum: float

    @classmethod
    def of(cls, ns: list[int]) -> Stats:
        s = sorted(ns)
        return cls(
            len(s), statistics.median(s), s[min(len(s) - 1, int(len(s) * 0.99))], statistics.fmean(s), s[0]
        )

    def line(self, label: str) -> str:
        return (
            f"  {label:<44} median {fmt(self.median):>9}  p99 {fmt(self.p99):>9}  "
            f"mean {fmt(self.mean):>9}  min {fmt(self.minimum):>9}  (n={self.n})"
        )


def fmt(ns: float) -> str:
    return f"{ns / 1000:.1f} µs" if ns < 1_000_000 else f"{ns / 1_000_000:.2f} ms"


def timed(
    fns: list[Callable[[], object]], rounds: int, warmup: int = 200, cpu: list[list[int]] | None = None
) -> tuple[list[list[int]], list[int]]:
    """Run each fn `rounds` times, interleaved; per-fn and pooled timings in ns.

    `cpu`: filled with each call's thread CPU time (ns) per fn, read outside the wall clock's reads.
    """
    for fn in fns:
        for _ in range(warmup):
            fn()
    per: list[list[int]] = [[] for _ in fns]
    spent: list[list[int]] = [[] for _ in fns]
    clock, thread = time.perf_counter_ns, time.thread_time_ns
    gc.collect()
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            c0 = thread()
            t0 = clock()
            fn()
            t1 = clock()
            spent[i].append(thread() - c0)
            per[i].append(t1 - t0)
    if cpu is not None:
        cpu[:] = spent
    pooled = [x for xs in per for x in xs]
    return per, pooled


def _empty_timing() -> int:
    t0 = time.perf_counter_ns()
    return time.perf_counter_ns() - t0


def report(title: str, cases: list[Prepared], per: list[list[int]], pooled: list[int]) -> Stats:
    print(f"\n{title}")
    for p, ns in zip(cases, per, strict=True):
        print(Stats.of(ns).line(f"{p.case.label} ({len(p.events)} ev)"))
    total = Stats.of(pooled)
    print(total.line("all questions"))
    return total


def round_trips(
    app: App, cases: list[Prepared], ref: Callable[[Prepared], str], cold: bool = False
) -> list[int]:
    """Round trips to PostgreSQL per decision, per case (Query and Sync messages in libpq's trace).

    `cold`: the state cache emptied before the traced decision, which reads and folds the state.
    """
    import sqlalchemy as sa

    engines = {app.store.engine, app.store.statements}  # a decision's reads are on the second
    with tempfile.NamedTemporaryFile("w+", suffix=".trace") as trace:
        traced: list[Any] = []

        def on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
            dbapi_conn.pgconn.trace(trace.fileno())
            traced.append(dbapi_conn)

        out = []
        for p in cases:
            c = p.case
            decide(app, ref(p), c.channel, c.purpose, at=c.at)  # any first-use reads
            warm = app.states
            if cold:
                app.states = StateCache()
            start = Path(trace.name).stat().st_size
            for engine in engines:
                sa.event.listen(engine, "checkout", on_checkout)
            try:
                decide(app, ref(p), c.channel, c.purpose, at=c.at)
            finally:
                app.states = warm
                for engine in engines:
                    sa.event.remove(engine, "checkout", on_checkout)
                for conn in traced:
                    conn.pgconn.untrace()  # flushes libpq's buffer
                traced.clear()
            with open(trace.name, encoding="utf-8", errors="replace") as f:
                f.seek(start)
                out.append(sum(1 for line in f if _sent(line)))
    return out


def floor(app: App, url: str, p: Prepared) -> tuple[Any, list[tuple[str, Callable[[], object]]]]:
    """The machine's floor for a decision on PostgreSQL, no SQLAlchemy and no pool: a raw connection
    kept open in autocommit, and on it `SELECT 1` and the decision's own statement (`deciding.BY_LOOKUP`
    with the parameters of `p`'s question), each through a psycopg cursor and through libpq alone."""
    import psycopg
    import sqlalchemy as sa

    u = sa.make_url(url)
    raw = psycopg.connect(
        host=u.host or str(u.query.get("host") or "") or None,
        port=u.port,
        user=u.username,
        password=u.password,
        dbname=u.database,
        autocommit=True,
    )
    cursor, pgconn = raw.cursor(), raw.pgconn
    key = point_key(p.case.contact, app.settings.default_region)
    assert isinstance(key, tuple)
    with app.store.reader() as r:
        lookup = r.lookup(*key)
    params = (p.case.purpose, key[0].value, lookup)
    numbered = BY_LOOKUP
    for i in range(1, BY_LOOKUP.count("?") + 1):
        numbered = numbered.replace("?", f"${i}", 1)
    assert pgconn.prepare(b"basis", numbered.encode()).status == psycopg.pq.ExecStatus.COMMAND_OK
    values, formats = [p.case.purpose.encode(), key[0].value.encode(), lookup], [0, 0, 1]
    by_cursor = BY_LOOKUP.replace("?", "%s")
    # The narrowest read a decision could make: its point's head alone, one row by a unique key.
    head = b"SELECT last_seq, last_event_at FROM point_facts WHERE contact_point_id = $1"
    assert pgconn.prepare(b"head", head).status == psycopg.pq.ExecStatus.COMMAND_OK
    point = [p.point_id.encode()]
    return raw, [
        ("SELECT 1, psycopg cursor", lambda: cursor.execute("SELECT 1").fetchall()),
        ("SELECT 1, libpq (pgconn.exec_)", lambda: pgconn.exec_(b"SELECT 1")),
        ("a point's head by its key, libpq prepared", lambda: pgconn.exec_prepared(b"head", point)),
        ("basis statement, psycopg cursor", lambda: cursor.execute(by_cursor, params).fetchall()),
        ("basis statement, libpq prepared", lambda: pgconn.exec_prepared(b"basis", values, formats)),
    ]


def after_round_trip(raw: Any, cases: list[Prepared], app: App, rounds: int) -> tuple[Stats, float]:
    """The pure decision (a), each run right after a bare round trip (`SELECT 1` by libpq, not timed):
    the thread slept on the server, as in a decision on PostgreSQL; wall and mean thread CPU."""
    pgconn, pack, ctrl = raw.pgconn, app.pack, Controller("Koffiebranderij De Boon BV")
    clock, thread = time.perf_counter_ns, time.thread_time_ns
    walls, cpu = [], 0
    gc.collect()
    for _ in range(rounds):
        for p in cases:
            pgconn.exec_(b"SELECT 1")
            c0 = thread()
            t0 = clock()
            evaluate(pack, fold(p.point_id, p.events), p.question, ctrl)
            walls.append(clock() - t0)
            cpu += thread() - c0
    return Stats.of(walls), cpu / len(walls)


def _sent(line: str) -> bool:
    parts = line.split("\t")
    return len(parts) > 3 and parts[1] == "F" and parts[3].strip() in ("Query", "Sync")


def service_runs(
    app: App, store: str, cases: list[Prepared], rounds: int, url: str | None = None
) -> tuple[Stats, Stats | None]:
    """(c) and (c') on one store; the typed figure is returned, and on PostgreSQL (`url`) the
    machine's floor: the lowest median of a bare round trip (`floor`)."""

    def service(p: Prepared, ref: str) -> Callable[[], object]:
        c = p.case
        return lambda: decide(app, ref, c.channel, c.purpose, at=c.at)

    raw, refs = floor(app, url, cases[0]) if url is not None else (None, [])
    totals = []
    lowest: Stats | None = None
    for label, ref in (("typed", lambda p: p.case.contact), ("id", lambda p: p.point_id)):
        cpu0 = time.process_time()
        per, pooled = timed([service(p, ref(p)) for p in cases], rounds, warmup=20)
        cpu = (time.process_time() - cpu0) / (len(cases) * (rounds + 20))
        name = "(c)" if label == "typed" else "(c')"
        total = report(f"{name} service decide(), {store}, contact given as {label}", cases, per, pooled)
        print(f"  client CPU per decision {fmt(cpu * 1e9)} (process time; wall median above)")
        if refs:  # the machine's floor, timed right after, interleaved: one round trip and nothing else
            spent: list[list[int]] = []
            ref_ns, _ = timed([fn for _, fn in refs], rounds * len(cases) // 2, warmup=20, cpu=spent)
            print("  reference, a raw connection kept open (no SQLAlchemy, no pool), autocommit:")
            for (what, _), ns, used in zip(refs, ref_ns, spent, strict=True):
                stats = Stats.of(ns)
                lowest = stats if lowest is None or stats.median < lowest.median else lowest
                print(stats.line(f"  {what}") + f"  CPU {fmt(statistics.fmean(used))}")
            cold, cold_cpu = after_round_trip(raw, cases, app, rounds)
            print(cold.line("  (a) right after a bare round trip") + f"  CPU {fmt(cold_cpu)}")
        if refs:
            trips = round_trips(app, cases, ref)
            print("  round trips to the server per decision: " + ", ".join(map(str, trips)))
            trips = round_trips(app, cases, ref, cold=True)
            print("  round trips, the state not cached (read and folded): " + ", ".join(map(str, trips)))
        totals.append(total)
    if raw is not None:
        raw.close()
    return totals[0], lowest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=10_000, help="runs per question for (a) and (b)")
    ap.add_argument("--service-runs", type=int, default=1_000, help="runs per question for (c)")
    ap.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args(argv)

    overhead = statistics.median(_empty_timing() for _ in range(10_000))
    print(f"Python {sys.version.split()[0]}; perf_counter_ns overhead ~{overhead:.0f} ns (not subtracted)")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))

    service: dict[str, Stats] = {}
    total_a: Stats | None = None
    machine: Stats | None = None
    with tempfile.TemporaryDirectory(prefix="consentry-bench-") as tmp:
        app = bootstrap(Settings(database_url=f"sqlite:///{Path(tmp) / 'bench.db'}"))
        cases = build(app)
        ctrl = Controller("Koffiebranderij De Boon BV")
        pack = app.pack

        print("\nQuestions (verdict, deciding rule):")
        for p in cases:
            d = evaluate(pack, fold(p.point_id, p.events), p.question, ctrl)
            print(f"  {p.case.label}  {len(p.events):>2} events  {d.verdict.value:<6} {d.rule}")

        def pure(p: Prepared) -> Callable[[], object]:
            return lambda: evaluate(pack, fold(p.point_id, p.events), p.question, ctrl)

        per, pooled = timed([pure(p) for p in cases], args.runs)
        total_a = report("(a) pure decision: fold the events + evaluate (reference)", cases, per, pooled)

        def only_eval(p: Prepared) -> Callable[[], object]:
            state = fold(p.point_id, p.events)
            return lambda: evaluate(pack, state, p.question, ctrl)

        per, pooled = timed([only_eval(p) for p in cases], args.runs)
        report("(b) evaluate alone, on a folded state", cases, per, pooled)

        def fold_only(p: Prepared) -> Callable[[], object]:
            return lambda: fold(p.point_id, p.events)

        per, pooled = timed([fold_only(p) for p in cases], args.runs)
        report("    fold alone (for reference)", cases, per, pooled)

        if args.store in ("sqlite", "both"):
            service["SQLite"], _ = service_runs(app, "SQLite file", cases, args.service_runs)
        app.store.engine.dispose()

    if args.store in ("postgresql", "both"):
        from pgdb import scratch_database

        with scratch_database(f"consentry_bench_decide_{os.getpid()}") as url:
            if url is not None:
                app = bootstrap(Settings(database_url=url))
                cases = build(app)
                name = f"PostgreSQL ({sa_url(url)})"
                service["PostgreSQL"], machine = service_runs(app, name, cases, args.service_runs, url)
                app.store.engine.dispose()

    print("\nload average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    ok = total_a.median <= TARGET_MEDIAN_US * 1000
    print(
        f"\n{'PASS' if ok else 'FAIL'}: pure decision median {fmt(total_a.median)} "
        f"(p99 {fmt(total_a.p99)}) against the target median <= {TARGET_MEDIAN_US:.0f} µs"
    )
    for store, total in service.items():
        ok = total.median <= TARGET_SERVICE_US * 1000
        print(
            f"{'PASS' if ok else 'FAIL'}: {store} service decision (typed address) median "
            f"{fmt(total.median)} (p99 {fmt(total.p99)}) against the target median <= "
            f"{TARGET_SERVICE_US:.0f} µs; pure decision in the same run {fmt(total_a.median)}"
        )
    if machine is not None:
        blocked = machine.median > TARGET_SERVICE_US * 1000
        print(
            f"{'BLOCKED' if blocked else 'open'}: the machine's own round trip to PostgreSQL (the lowest "
            f"median above, raw connection) {fmt(machine.median)}"
            + (f" exceeds the target of {TARGET_SERVICE_US:.0f} µs" if blocked else "")
        )
    return 0


def sa_url(url: str) -> str:
    """The database's name and where it is reached (TCP host:port, or a Unix socket's directory)."""
    import sqlalchemy as sa

    u = sa.make_url(url)
    socket = u.query.get("host") or (None if u.host else os.environ.get("PGHOST", "libpq's default"))
    where = f"Unix socket {socket}" if socket else f"TCP {u.host}:{u.port or 5432}"
    return f"{u.database}, {where}"


if __name__ == "__main__":
    sys.exit(main())
