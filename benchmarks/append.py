"""Benchmark: bulk `ledger append` throughput on SQLite and PostgreSQL, hash chain included.

Target (issue #16): >= 30,000 events/s for `ledger append` on SQLite and on PostgreSQL.

It generates N events (default 200,000) as JSON-line records for about N/10 contact points
(75% e-mail, 20% phone, 5% postal). Each point is registered, then gets consents and their
double opt-in confirmations, purchases, notices, an unsubscribe, a soft bounce, updates, now
and then a withdrawal, an objection, a register listing or an ended relationship: ten events
on average, referring to the point by its address or number as an importer would.

For each store it times, on a freshly initialised database (`setup.init`, Alembic) with the
purposes defined:

- `append_records` with the records already parsed (measures the ledger, not the JSON parser);
- `integrity.verify_ledger` over the result (recomputes every hash), checking it reports ok;
- `append_lines` with the same records as JSON lines, streamed from a file as the CLI does,
  on another fresh database;
- with --cli, the command itself (`consentry ledger append FILE --quiet` in a subprocess, so
  interpreter start-up and imports included), on a third fresh database; shown for reference,
  the PASS/FAIL line uses the slower of the two in-process appends.

Each figure comes with the CPU seconds the benchmark process (and the CLI subprocess) used:
on a busy machine wall-clock rates vary from run to run, client CPU much less. The appends on
PostgreSQL also show the server's CPU: that of the backend the app's one pooled connection
runs on, read from /proc when the server runs on this machine.

The generated input is moved out of the garbage collector's reach (gc.freeze) before timing, so
its size does not slow down the code measured; the CLI run streams the file and needs no such help.

SQLite uses a file database in a temp directory. PostgreSQL uses a dedicated database
`consentry_bench_<pid>`, dropped and created again before each run and dropped at the end, on the
server named by --pg-url (default postgresql+psycopg://postgres@127.0.0.1:5432/test, or the
CONSENTRY_BENCH_PG_URL environment variable); when the server cannot be reached it is skipped.

Run from the repository root with the virtualenv active:

    python benchmarks/append.py                          # 200,000 events, both stores
    python benchmarks/append.py --events 20000 --store sqlite
    python benchmarks/append.py --cli                    # also time the CLI command
    python benchmarks/append.py --order time             # events in time order across points

It prints events/s per measurement and a PASS/FAIL line per store, and exits 0.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import benchkeys  # noqa: F401  (the stores' keys, before any store is built)
import psycopg
from pgdb import backend_cpu
from sqlalchemy.engine import make_url

from consentry.bootstrap import App, bootstrap
from consentry.services import integrity, purposes, setup
from consentry.services.ledger import append_lines, append_records
from consentry.settings import Settings

TARGET_EPS = 30_000
#: One database per run, so that two runs at once cannot drop each other's database.
BENCH_DB = f"consentry_bench_{os.getpid()}"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

PURPOSES = (
    ("nieuwsbrief", "Nieuwsbrief", "Newsletter", ("koffiebonen", "apparatuur"), False),
    ("koffie-aanbiedingen", "Aanbiedingen koffie", "Coffee offers", ("koffiebonen",), False),
    ("apparatuur", "Aanbiedingen apparatuur", "Equipment offers", ("apparatuur",), False),
    ("partner-aanbiedingen", "Aanbiedingen van partners", "Partner offers", ("partners",), True),
)
CATEGORIES = (["koffiebonen"], ["apparatuur"], ["koffiebonen", "apparatuur"], ["thee"])
SOURCES = ("web_form", "purchase", "web_form", "purchase", "business_card", "import", "referral")
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
)
EVENTS_PER_POINT = 10


# -- generating the records ----------------------------------------------------------------------


def _point(i: int, rnd: random.Random) -> tuple[dict[str, Any], str, str]:
    """A registration record, the reference later events use, and the channel consents cover."""
    roll = rnd.random()
    if roll < 0.75:
        kind, value = "email", f"Klant.{i:07d}@Example{i % 97}.nl"
        ref, channel = value.lower(), "email"
    elif roll < 0.95:
        kind, value = "phone", f"06 1{i:07d}"
        ref, channel = f"+3161{i:07d}", "sms"
    else:
        kind, value = "postal", f"Dorpsstraat {i}; {1000 + i % 8999} AB Voorbeelddorp"
        ref, channel = f"postal:{value}", "post"
    rec = {
        "type": "contact_point.registered",
        "kind": kind,
        "value": value,
        "source": rnd.choice(SOURCES),
        "party": "consumer" if rnd.random() < 0.9 else "sole_trader",
        "display_name": f"Klant {i}",
    }
    return rec, ref, channel


def _history(i: int, rnd: random.Random) -> list[dict[str, Any]]:
    """Ten events (on average) for one contact point, in the order they happened."""
    reg, ref, channel = _point(i, rnd)
    evidence = {"ip": f"198.51.{i % 256}.{i % 251}", "user_agent": rnd.choice(AGENTS)}
    order = 0

    def rec(etype: str, **fields: Any) -> dict[str, Any]:
        nonlocal order
        order += 1
        return {"type": etype, "contact": ref, **fields}

    first = rec("consent.given", purpose="nieuwsbrief", channels=[channel], method="double_opt_in")
    first.update(text_version="nieuwsbrief-v3", language="nl", collection_point="footer-form", **evidence)
    out = [
        reg,
        first,
        rec("consent.confirmed", purpose="nieuwsbrief", **evidence),
        rec("purchase.recorded", categories=rnd.choice(CATEGORIES), opt_out_offered=True, order_ref=f"W-{i}"),
    ]
    pool: list[tuple[float, Callable[[], dict[str, Any]]]] = [
        (
            4.0,
            lambda: rec(
                "purchase.recorded",
                categories=rnd.choice(CATEGORIES),
                opt_out_offered=rnd.random() < 0.95,
                order_ref=f"W-{i}-{order}",
            ),
        ),
        (1.0, lambda: rec("notice.given", article=rnd.choice(("13", "21")), method="email")),
        (
            1.0,
            lambda: rec(
                "consent.given",
                purpose=rnd.choice(("koffie-aanbiedingen", "apparatuur", "partner-aanbiedingen")),
                channels=[channel],
                method=rnd.choice(("single_opt_in", "paper_form", "pre_ticked")),
                text_version="aanbiedingen-v2",
            ),
        ),
        (
            1.0,
            lambda: rec(
                "unsubscribed",
                purpose=rnd.choice(("partner-aanbiedingen", "apparatuur")),
                via="one_click",
                campaign=f"campagne-{order}",
            ),
        ),
        (0.7, lambda: rec("bounce.recorded", bounce_kind="soft", diagnostic="452 mailbox full")),
        (0.7, lambda: rec("contact_point.updated", display_name=f"Klant {i} ({order})")),
        (0.3, lambda: rec("consent.withdrawn", purpose="nieuwsbrief", reason="te veel mail")),
        (0.2, lambda: rec("objection.recorded", scope=rnd.choice(("profiling", "direct_marketing")))),
        (0.2, lambda: rec("customer_relationship.ended", reason="account opgeheven")),
        (0.1, lambda: rec("register.listed", register="bel-me-niet", listed_from="2015-03-01")),
    ]
    weights = [w for w, _ in pool]
    makers = [m for _, m in pool]
    n = EVENTS_PER_POINT + rnd.randint(-3, 3)
    while len(out) < n:
        out.append(rnd.choices(makers, weights)[0]())
    # Times: a start between 2019 and 2024, then increasing by hours to weeks.
    at = datetime(2019, 1, 1, tzinfo=UTC) + timedelta(minutes=rnd.randrange(6 * 365 * 24 * 60))
    for r in out:
        r["occurred_at"] = at.isoformat()
        at += timedelta(minutes=rnd.randrange(1, 60 * 24 * 40))
    if channel != "sms":  # Bel-me-niet lists numbers only
        out = [r for r in out if r["type"] != "register.listed"]
    return out


def generate(n_events: int, order: str = "contact", seed: int = 2026) -> list[dict[str, Any]]:
    """Exactly n_events records for about n_events/10 contact points.

    Grouped by point (`contact`, as an export per customer), or all in time order (`time`, as
    an export of a whole history), which makes every batch touch points of earlier batches.
    """
    rnd = random.Random(seed)
    out: list[dict[str, Any]] = []
    i = 0
    while len(out) < n_events:
        out.extend(_history(i, rnd))
        i += 1
    del out[n_events:]
    if order == "time":
        out.sort(key=lambda r: r["occurred_at"])  # all UTC ISO strings; a stable sort
    return out


# -- stores --------------------------------------------------------------------------------------


def prepare(app: App) -> None:
    """Initialise the schema and define the purposes (not timed)."""
    setup.init(app, name="Koffiebranderij De Boon BV", sector="commercial")
    for key, nl, en, cats, third_party in PURPOSES:
        purposes.define(app, key, nl, en, "commercial", cats, third_party)


@contextmanager
def sqlite_app(tmp: Path, name: str) -> Iterator[App]:
    app = bootstrap(Settings(database_url=f"sqlite:///{tmp / name}"))
    try:
        prepare(app)
        yield app
    finally:
        app.store.engine.dispose()


def _admin(pg_url: str) -> psycopg.Connection[Any]:
    url = make_url(pg_url).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True, connect_timeout=3)


def pg_reachable(pg_url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        with _admin(pg_url) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def pg_recreate(pg_url: str, drop_only: bool = False) -> None:
    with _admin(pg_url) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {BENCH_DB}")


@contextmanager
def pg_app(pg_url: str) -> Iterator[App]:
    pg_recreate(pg_url)
    url = make_url(pg_url).set(database=BENCH_DB).render_as_string(hide_password=False)
    app = bootstrap(Settings(database_url=url))
    try:
        prepare(app)
        yield app
    finally:
        app.store.engine.dispose()


# -- measuring -----------------------------------------------------------------------------------


@dataclass
class Timing:
    """Wall-clock seconds, and the CPU seconds of this process and its children meanwhile."""

    wall: float = 0.0
    cpu: float = 0.0
    server: float | None = None  # the PostgreSQL backend's CPU seconds, when it can be read

    def rate(self, n: int) -> str:
        server = "" if self.server is None else f"; server CPU {self.server:.2f} s"
        return (
            f"{n / self.wall:>9,.0f} events/s  ({n:,} events in {self.wall:.2f} s; "
            f"client CPU {self.cpu:.2f} s{server})"
        )


def _cpu() -> float:
    try:
        import resource  # Unix only
    except ImportError:
        return time.process_time()  # this process only
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _backend_pid(app: App) -> int | None:
    """The pid of the PostgreSQL backend the app's writes use (its pool's one connection), if local."""
    if app.store.engine.dialect.name != "postgresql":
        return None
    raw = app.store.engine.raw_connection()
    try:
        pid: int = raw.driver_connection.info.backend_pid  # type: ignore[union-attr]
    finally:
        raw.close()
    return pid


@contextmanager
def timed(backend: int | None = None) -> Iterator[Timing]:
    """Time the block; with a backend pid, its server CPU too (PostgreSQL on this machine)."""
    t = Timing()
    w0, c0, s0 = time.perf_counter(), _cpu(), backend_cpu(backend)
    yield t
    t.wall, t.cpu = time.perf_counter() - w0, _cpu() - c0
    s1 = backend_cpu(backend)
    t.server = None if s0 is None or s1 is None else s1 - s0


def run_store(
    label: str,
    make_app: Callable[[str], Any],
    records: list[dict[str, Any]],
    jsonl: Path,
    cli: bool,
) -> float:
    """Time append_records, verify_ledger, append_lines (and the CLI) on one store; the worst rate."""
    n = len(records)
    print(f"\n{label}")
    with make_app("records.db") as app:
        numbered = list(enumerate(records, 1))
        with timed(_backend_pid(app)) as t_records:
            rep = append_records(app, numbered)
        assert rep.appended == n, rep
        print(f"  append_records (pre-parsed)  {t_records.rate(n)}; {rep.registered:,} points registered")

        with timed() as t:
            ver = integrity.verify_ledger(app)
        state = "ok" if ver.ok else f"NOT OK: {len(ver.problems)} problems, first {ver.problems[0]}"
        print(f"  verify_ledger                {t.rate(ver.events)}; chain {state}")
        if not ver.ok or ver.events != n:
            print(f"  ERROR: verify_ledger saw {ver.events:,} events and reported {state}")
    with make_app("lines.db") as app, jsonl.open(encoding="utf-8") as fh:
        with timed(_backend_pid(app)) as t_lines:
            rep = append_lines(app, fh)
        assert rep.appended == n, rep
        print(f"  append_lines (JSON file)     {t_lines.rate(n)}")
    if cli:
        with make_app("cli.db") as app:
            url = app.store.engine.url.render_as_string(hide_password=False)
        env = {**os.environ, "CONSENTRY_DATABASE_URL": url}
        cmd = [sys.executable, "-c", "from consentry.entrypoints.cli import main; main()"]
        with timed() as t:
            proc = subprocess.run(
                [*cmd, "ledger", "append", str(jsonl), "--quiet"], env=env, capture_output=True, text=True
            )
        if proc.returncode != 0:
            print(f"  CLI ledger append failed ({proc.returncode}): {proc.stderr.strip()[:500]}")
        else:
            print(f"  CLI ledger append --quiet    {t.rate(n)}; {proc.stdout.strip()}")
    worst = n / max(t_records.wall, t_lines.wall)
    verdict = "PASS" if worst >= TARGET_EPS else "FAIL"
    print(f"  {verdict}: {label}: {worst:,.0f} events/s (slower in-process append) vs target {TARGET_EPS:,}")
    return worst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000, help="how many events to append (default 200000)")
    ap.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument(
        "--pg-url",
        default=os.environ.get("CONSENTRY_BENCH_PG_URL", DEFAULT_PG_URL),
        help="a PostgreSQL server to create the consentry_bench_<pid> database on",
    )
    ap.add_argument(
        "--order",
        choices=("contact", "time"),
        default="contact",
        help="records grouped per contact point (default) or in time order across points",
    )
    ap.add_argument("--cli", action="store_true", help="also time `consentry ledger append` (subprocess)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    records = generate(args.events, args.order)
    points = sum(1 for r in records if r["type"] == "contact_point.registered")
    mix: dict[str, int] = {}
    for r in records:
        mix[r["type"]] = mix.get(r["type"], 0) + 1
    took = time.perf_counter() - t0
    print(
        f"Generated {len(records):,} events, {points:,} contact points, {args.order} order, in {took:.1f} s"
    )
    print("  " + ", ".join(f"{k} {v:,}" for k, v in sorted(mix.items(), key=lambda kv: -kv[1])))

    results: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory(prefix="consentry-bench-") as tmp_name:
        tmp = Path(tmp_name)
        jsonl = tmp / "events.jsonl"
        with jsonl.open("w", encoding="utf-8") as fh:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        gc.collect()
        gc.freeze()
        if args.store in ("sqlite", "both"):
            results["SQLite"] = run_store(
                "SQLite (file in a temp directory, WAL)",
                lambda name: sqlite_app(tmp, name),
                records,
                jsonl,
                args.cli,
            )
        if args.store in ("postgresql", "both"):
            why = pg_reachable(args.pg_url)
            if why is not None:
                print(f"\nPostgreSQL: skipped, cannot reach {make_url(args.pg_url)!s}: {why}")
                results["PostgreSQL"] = None
            else:
                try:
                    results["PostgreSQL"] = run_store(
                        f"PostgreSQL (database {BENCH_DB})",
                        lambda _name: pg_app(args.pg_url),
                        records,
                        jsonl,
                        args.cli,
                    )
                finally:
                    pg_recreate(args.pg_url, drop_only=True)

    print(f"\nSummary (target >= {TARGET_EPS:,} events/s, hash chain included):")
    for store, eps in results.items():
        if eps is None:
            print(f"  SKIP: {store}")
        else:
            print(f"  {'PASS' if eps >= TARGET_EPS else 'FAIL'}: {store} {eps:,.0f} events/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
