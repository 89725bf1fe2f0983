"""Benchmark: the upgrade of a populated v1 database (revision 0008) to storage v2 (migration 0009).

It builds a database at revision 0008 holding N contacts (default 100,000) as the v1 code
stored them: per contact an e-mail point registered with its name, an importer's contact id
(every other contact) and an attribute, and a consent given with its IP and user agent
(two events a contact), chained in the v1 canonical form, with clear contact points. The
v1 projections are left empty (the upgrade deletes them and writes every point's rows anew).

Then it runs the upgrade (`alembic upgrade head` as consentry runs it, keys from the
settings) in a fresh subprocess and reports its wall-clock and CPU seconds, contacts/s and
events/s, and that process's peak memory (max RSS, which includes the interpreter and
imports, ~80 MB). After it, `ledger verify` must pass with the epoch recorded.

SQLite uses a file in a temp directory; PostgreSQL a scratch database `consentry_bench_mig_<pid>`
on CONSENTRY_BENCH_PG_URL (skipped when unreachable).

    python benchmarks/migrate.py                         # 100,000 contacts, both stores
    python benchmarks/migrate.py --contacts 10000 --store sqlite
"""

from __future__ import annotations

import argparse
import base64
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pgdb import scratch_database

from consentry.adapters.sql import schema
from consentry.adapters.sql.engine import create_engine
from consentry.adapters.sql.stored import bulk_insert
from consentry.bootstrap import bootstrap
from consentry.domain.chain import GENESIS, link, payload_json
from consentry.domain.events import Event
from consentry.services import integrity
from consentry.settings import Settings

BENCH_DB = f"consentry_bench_mig_{os.getpid()}"
_BLOCK = 10_000
_EVENT_COLUMNS = (
    "seq, id, contact_point_id, type, occurred_at, recorded_at, schema_version, payload, prev_hash, hash"
)


def _events(i: int, at: datetime) -> list[Event]:
    pid, value = f"cp{i:010d}", f"klant.{i}@voorbeeld.nl"
    registered: dict[str, Any] = {
        "kind": "email",
        "value": value,
        "source": "import",
        "party": "consumer",
        "display_name": f"Klant {i} de Vries",
        "attributes": {"woonplaats": "Zwolle"},
    }
    if i % 2 == 0:
        registered["contact_id"] = f"crm-{i // 2}"
    consent = {
        "purpose": "nieuwsbrief",
        "channels": ["email"],
        "method": "double_opt_in",
        "text_version": "nieuwsbrief-v3",
        "language": "nl",
        "ip": f"198.51.{i % 250}.{i % 200}",
        "user_agent": "Mozilla/5.0 (X11) Firefox/128.0",
    }
    return [
        Event(f"ev{2 * i:011d}", "contact_point.registered", pid, at, at, registered),
        Event(f"ev{2 * i + 1:011d}", "consent.given", pid, at, at, consent),
    ]


def build(url: str, contacts: int) -> tuple[int, str]:
    """A database at revision 0008 with `contacts` contacts as v1 stored them; its head."""
    engine = create_engine(url)
    schema.upgrade(engine, to="0008")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    seq, prev = 0, GENESIS
    with engine.connect().execution_options(consentry_write=True) as conn, conn.begin():
        for first in range(0, contacts, _BLOCK):
            events, points = [], []
            for i in range(first, min(first + _BLOCK, contacts)):
                at = start + timedelta(seconds=i)
                naive = at.replace(tzinfo=None)
                for e in _events(i, at):
                    seq += 1
                    text = payload_json(e.payload)
                    h = link(prev, e, seq, text)
                    events.append((seq, e.id, e.contact_point_id, e.type, naive, naive, 1, text, prev, h))
                    if e.type == "contact_point.registered":
                        points.append((e.contact_point_id, "email", e.payload["value"], seq))
                    prev = h
            bulk_insert(conn, "events", _EVENT_COLUMNS, events, times=(4, 5))
            bulk_insert(conn, "contact_points", "id, kind, value, registered_seq", points)
        conn.exec_driver_sql("DELETE FROM ledger_head")
        conn.exec_driver_sql(f"INSERT INTO ledger_head (id, seq, hash) VALUES (1, {seq}, '{prev}')")
    engine.dispose()
    return seq, prev


def upgrade(url: str) -> None:
    """The upgrade alone (run in a fresh process): wall, CPU and peak memory on stdout."""
    engine = create_engine(url)
    wall, cpu = time.perf_counter(), time.process_time()
    schema.upgrade(engine)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{wall:.3f} {cpu:.3f} {peak:.0f}")


def run(url: str, contacts: int, label: str) -> None:
    t0 = time.perf_counter()
    n, head = build(url, contacts)
    took = time.perf_counter() - t0
    print(f"{label}: built a v1 database of {contacts:,} contacts, {n:,} events in {took:.1f} s")
    done = subprocess.run(
        [sys.executable, __file__, "--upgrade", url], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        print(done.stderr[-3000:])
        raise SystemExit(f"{label}: the upgrade failed")
    wall, cpu, peak = (float(x) for x in done.stdout.split()[-3:])
    print(
        f"{label}: upgrade {wall:.1f} s wall ({cpu:.1f} s CPU): {contacts / wall:,.0f} contacts/s, "
        f"{n / wall:,.0f} events/s; peak memory of the upgrading process {peak:.0f} MB"
    )
    app = bootstrap(Settings(database_url=url, secret_key="bench-secret-key-0123456789"))
    t0 = time.perf_counter()
    report = integrity.verify_ledger(app)
    app.store.engine.dispose()
    epoch = report.epoch
    assert report.ok and report.events == n, report.problems[:3]
    assert epoch is not None and (epoch.previous_head_seq, epoch.previous_head_hash) == (n, head)
    print(
        f"{label}: ledger verify ok in {time.perf_counter() - t0:.1f} s: {report.events:,} events, "
        f"epoch {epoch.epoch} continues the v1 head at seq {epoch.previous_head_seq}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--upgrade", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upgrade:
        upgrade(args.upgrade)
        return
    # Fresh keys for this run, through the settings as an operator gives them.
    os.environ["CONSENTRY_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    os.environ["CONSENTRY_BLIND_INDEX_KEY"] = base64.b64encode(os.urandom(32)).decode()
    if args.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'v1.db'}", args.contacts, "SQLite")
    if args.store in ("postgresql", "both"):
        with scratch_database(BENCH_DB) as url:
            if url is not None:
                run(url, args.contacts, "PostgreSQL")


if __name__ == "__main__":
    main()
