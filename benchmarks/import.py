"""Benchmark: importing a Mailchimp "subscribed" export, rows per second and peak memory.

Target (issue #16): a 1,000,000-row subscribed export at >= 30,000 rows/s on SQLite and
>= 20,000 rows/s on PostgreSQL, peak memory <= 500 MB.

The generator writes a realistic export: the columns Mailchimp writes (Email Address, merge
fields, MEMBER_RATING, OPTIN_TIME/IP, CONFIRM_TIME/IP for about 80% of members, LATITUDE ...
LEID, EUID, TAGS), Dutch names and addresses, free-mail addresses and 2% role addresses
(info@ at an organisation's own domain). Like a real audience export, it names each address
once. `--shared-role-addresses` writes the file earlier versions of this script wrote, where
the role addresses are info@ at only seven domains, so seven addresses recur 20,000 times
(in 1,000,000 rows) with a new consent each time: a stress case for the import, which
re-folds such a point's whole history in every block it recurs in.
Each store is measured in a fresh child process on a freshly initialised database with the
purpose defined. The figures are:

- rows/s: rows over wall-clock seconds (the target);
- rows per CPU-second: rows over the CPU time of the importing process (steadier on a
  shared machine; PostgreSQL's own server processes are not counted);
- peak memory: the importing process's peak RSS.

The load average is printed with each figure: on a shared machine it says how much of it
the run had.

    python benchmarks/import.py                         # 1,000,000 rows, both stores
    python benchmarks/import.py --rows 100000 --store sqlite

The database's size per imported contact point is printed too (SQLite: the file with its
write-ahead log folded in; PostgreSQL: the database's size; each less its size before the import).

`--floor` also measures the machine: a lean reference schema (contact points and one
~300-byte event a contact with its chain hash) written by a minimal script, with and without building
the JSON and the chain in Python, with a data key a contact sealing its personal fields as
the issue asks, and with that for each of a member's events as the import writes them; the
last two also on two processes (benchmarks/lean.py), for as many contacts, printed under the import's
figures so their ratio is honest (and before them, what the primitives of a sealed contact cost
alone: `lean.primitives`). And it measures what the store alone costs on this machine: the
rows the import wrote (data keys, contact points, events, facts, terms) are read back and
written again into a fresh ledger with the store's bulk insert statements, on its bulk
connection (SQLite:
`executemany` with the import's settings; PostgreSQL: COPY, here of text already in COPY's
format, so not even the rows' formatting is counted), as many contacts to a transaction as
a big import commits at once. Only the writing is timed, so no import can be faster than
that: it is the ceiling this machine's store sets (SQLite: the time of its one writer, CPU
or wall, whichever is longer; PostgreSQL: the wall time of one connection's COPY, and the
server's CPU spread over every CPU, read from /proc when the server runs on this machine).

PostgreSQL uses the databases `consentry_bench_import` (and `consentry_bench_floor`) on
the server CONSENTRY_BENCH_PG_URL names (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), created and dropped by the script.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from lean import primitives, reference
from pgdb import backend_cpu, scratch_database

COLUMNS = [
    "Email Address", "First Name", "Last Name", "Plaats", "MEMBER_RATING", "OPTIN_TIME", "OPTIN_IP",
    "CONFIRM_TIME", "CONFIRM_IP", "LATITUDE", "LONGITUDE", "GMTOFF", "DSTOFF", "TIMEZONE", "CC",
    "REGION", "LAST_CHANGED", "LEID", "EUID", "NOTES", "TAGS",
]  # fmt: skip
FIRST = ["Jan", "Sanne", "Pieter", "Lotte", "Daan", "Emma", "Bram", "Fleur", "Thijs", "Noor", "Ruben", "Iris"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos"]
TOWNS = ["Amsterdam", "Utrecht", "Rotterdam", "Zwolle", "Groningen", "Eindhoven", "Haarlem", "Leiden"]
DOMAINS = ["gmail.com", "hotmail.com", "ziggo.nl", "kpnmail.nl", "outlook.com", "bedrijf.nl", "example.nl"]
TAGS = ['"Klant"', '"VIP"', '"Beurs 2025"', '"Webinar"']
BENCH_DB = f"consentry_bench_import_{os.getpid()}"
FLOOR_DB = f"consentry_bench_floor_{os.getpid()}"
#: The projection and the ledger's own tables an import writes, in the order it writes them.
FLOOR_TABLES = ("data_keys", "contact_points", "events", "point_facts", "point_terms")


def generate(path: Path, rows: int, seed: int = 7, shared_role_addresses: bool = False) -> None:
    """Write a subscribed_members_export CSV with `rows` members."""
    rnd = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for i in range(rows):
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            local = "info" if i % 50 == 0 else f"{first.lower()}.{last.replace(' ', '').lower()}{i}"
            domain = rnd.choice(DOMAINS)
            if i % 50 == 0 and not shared_role_addresses:
                domain = f"bedrijf{i}.nl"
            optin = f"2023-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d} {rnd.randint(0, 23):02d}:15:00"
            confirmed = rnd.random() < 0.8
            w.writerow(
                [
                    f"{local}@{domain}", first, last, rnd.choice(TOWNS), rnd.randint(1, 5),
                    optin, f"198.51.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}",
                    optin.replace(":15:", ":19:") if confirmed else "",
                    f"198.51.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}" if confirmed else "",
                    "52.37", "4.89", "1", "2", "Europe/Amsterdam", "NL", "NH", "2024-06-01 10:00:00",
                    100000 + i, f"{i:010x}", "", ",".join(rnd.sample(TAGS, rnd.randint(0, 2))),
                ]
            )  # fmt: skip


def _point_groups(raw: Any, size: int) -> list[tuple[str, str]]:
    """The imported points' ids in ranges of `size`, in id order (first, last)."""
    ids = [r[0] for r in raw.execute("SELECT id FROM contact_points ORDER BY id").fetchall()]
    return [(ids[i], ids[min(i + size, len(ids)) - 1]) for i in range(0, len(ids), size)]


_FLOOR_SELECT = {
    "data_keys": "SELECT * FROM data_keys WHERE contact_id IN "
    "(SELECT contact_ref FROM contact_points WHERE id BETWEEN {lo} AND {hi}) ORDER BY contact_id",
    "contact_points": "SELECT * FROM contact_points WHERE id BETWEEN {lo} AND {hi} ORDER BY id",
    "events": "SELECT * FROM events WHERE contact_point_id BETWEEN {lo} AND {hi} ORDER BY seq",
    "point_facts": "SELECT * FROM point_facts WHERE contact_point_id BETWEEN {lo} AND {hi} "
    "ORDER BY contact_point_id",
    "point_terms": "SELECT * FROM point_terms WHERE point_no IN (SELECT point_no FROM point_facts "
    "WHERE contact_point_id BETWEEN {lo} AND {hi}) ORDER BY point_no, term",
}


def store_floor(store_url: str, floor_url: str) -> dict[str, Any]:
    """Write the rows the import stored again into a fresh ledger at `floor_url`; time only the writing."""
    import sqlalchemy as sa
    from psycopg import sql as psql

    from consentry.bootstrap import bootstrap
    from consentry.services import imports, setup
    from consentry.settings import Settings

    fresh = bootstrap(Settings(database_url=floor_url, secret_key="bench-secret-key-0123456789"))
    setup.init(fresh)
    source = sa.create_engine(store_url)
    sqlite = source.dialect.name == "sqlite"
    spent: dict[str, tuple[float, float, float | None]] = {}
    rows = 0
    with source.connect() as src_conn, fresh.store.bulk_writers() as writer:
        src: Any = src_conn.connection.driver_connection
        # as many contacts to a transaction as a big import commits at once
        groups = _point_groups(src, imports.COMMIT_BLOCKS * imports.BLOCK_ROWS)
        for lo, hi in groups:
            block: dict[str, Any] = {}
            for table in FLOOR_TABLES:
                query = _FLOOR_SELECT[table]
                if sqlite:
                    block[table] = src.execute(query.format(lo="?", hi="?"), (lo, hi)).fetchall()
                else:
                    copied = bytearray()
                    inner = psql.SQL(query).format(lo=psql.Literal(lo), hi=psql.Literal(hi))
                    with src.cursor() as cur, cur.copy(psql.SQL("COPY ({}) TO STDOUT").format(inner)) as out:
                        for part in out:
                            copied += part
                    src.commit()
                    block[table] = bytes(copied)
            rows += len(block["contact_points"]) if sqlite else block["contact_points"].count(b"\n")
            with writer() as w:
                raw: Any = w.conn.connection.driver_connection
                pid = None if sqlite else raw.info.backend_pid
                for table, data in block.items():
                    before = _clocks(pid)
                    if sqlite:
                        if data:
                            marks = ", ".join("?" * len(data[0]))
                            raw.executemany(f"INSERT INTO {table} VALUES ({marks})", data)
                    else:
                        with raw.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:
                            for i in range(0, len(data), 1 << 20):
                                copy.write(data[i : i + (1 << 20)])
                    spent[table] = _add(spent.get(table), before, _clocks(pid))
                before = _clocks(pid)
            spent["commit"] = _add(spent.get("commit"), before, _clocks(pid))  # on leaving writer()
    source.dispose()
    fresh.store.engine.dispose()
    return {"kind": "sqlite" if sqlite else "postgresql", "rows": rows, "parts": spent}


def _clocks(pid: int | None) -> tuple[float, float, float | None]:
    """This process's CPU time, the wall clock and (PostgreSQL) the server backend's CPU time."""
    return time.process_time(), time.perf_counter(), backend_cpu(pid)


def _add(
    total: tuple[float, float, float | None] | None,
    before: tuple[float, float, float | None],
    after: tuple[float, float, float | None],
) -> tuple[float, float, float | None]:
    """`total` plus the time between two `_clocks` readings."""
    cpu, wall, server = total or (0.0, 0.0, 0.0)
    if server is not None and before[2] is not None and after[2] is not None:
        server += after[2] - before[2]
    else:
        server = None
    return cpu + after[0] - before[0], wall + after[1] - before[1], server


def child(store_url: str, csv_path: Path, floor_url: str | None = None) -> None:
    """Run in a fresh process: set up, import, print one JSON line of figures."""
    from consentry.bootstrap import bootstrap
    from consentry.services import purposes, setup
    from consentry.services.imports import mailchimp
    from consentry.settings import Settings

    app = bootstrap(Settings(database_url=store_url, secret_key="bench-secret-key-0123456789"))
    setup.init(app)
    purposes.define(app, "nieuwsbrief", "Nieuwsbrief", "Newsletter", categories=["koffie"])
    empty = database_bytes(app.store.engine)
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = mailchimp.run(app, csv_path, "nieuwsbrief", status="subscribed")
    seconds = time.perf_counter() - started
    report = result.files[0].report
    me = resource.getrusage(resource.RUSAGE_SELF)
    cpu = me.ru_utime + me.ru_stime - before.ru_utime - before.ru_stime
    with app.store.reader() as r:
        points = r.counts()["contact_points"]
    stored = database_bytes(app.store.engine) - empty
    floor = store_floor(store_url, floor_url) if floor_url else None
    print(
        json.dumps(
            {
                "floor": floor,
                "rows": report.rows,
                "accepted": report.accepted,
                "events": report.events,
                "seconds": seconds,
                "cpu": cpu,
                "peak_mb": me.ru_maxrss / 1024,
                "points": points,
                "bytes": stored,
            }
        )
    )


def database_bytes(engine: Any) -> int:
    """The database's size on disk: SQLite's file once its log is folded in, PostgreSQL's database."""
    with engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        if engine.dialect.name == "sqlite":
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            path = Path(engine.url.database)
            return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
        return int(raw.execute("SELECT pg_database_size(current_database())").fetchone()[0])


def measure(label: str, store_url: str, csv_path: Path, target: float, floor_url: str | None = None) -> bool:
    """Run one store in a child process and print its figures."""
    command = [sys.executable, __file__, "--child", store_url, str(csv_path)]
    if floor_url is not None:
        command += ["--floor-url", floor_url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"{label}: FAILED\n{done.stderr[-2000:]}")
        return False
    fig = json.loads(done.stdout.strip().splitlines()[-1])
    rate = fig["rows"] / fig["seconds"]
    peak = fig["peak_mb"]
    ok = rate >= target and peak <= 500
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{label:10} {fig['rows']:>9,} rows in {fig['seconds']:6.1f} s = {rate:>8,.0f} rows/s wall, "
        f"{fig['rows'] / fig['cpu']:>7,.0f} rows per CPU-second ({fig['cpu']:.1f} CPU-s); "
        f"{fig['events']:,} events; peak {peak:.0f} MB; load {load}\n"
        f"{'':10} {fig['bytes'] / max(fig['points'], 1):,.0f} bytes a contact point on disk "
        f"({fig['bytes'] / 1e6:,.0f} MB for {fig['points']:,})\n"
        f"{'':10} {'PASS' if ok else 'FAIL'} (target {target:,.0f} rows/s wall, 500 MB)"
    )
    if fig["floor"]:
        print(f"{'':10} {describe_floor(fig['floor'])}")
    return ok


def describe_floor(floor: dict[str, Any]) -> str:
    """What the store alone costs (in all and per table, a contact), and the ceiling it sets here."""
    n = floor["rows"]
    parts = floor["parts"]
    cpu_us, wall_us = (sum(p[i] for p in parts.values()) / n * 1e6 for i in (0, 1))
    servers = [p[2] for p in parts.values()]
    server_us = None if None in servers else sum(servers) / n * 1e6
    sqlite = floor["kind"] == "sqlite"
    # per table: SQLite's CPU, else the server's CPU where it could be read, else the wall time
    column = 0 if sqlite else 1 if server_us is None else 2
    each = ", ".join(f"{table} {p[column] / n * 1e6:.0f}" for table, p in parts.items())
    head = f"the store alone (the ledger rows of these {n:,} contacts written again into a fresh ledger): "
    if sqlite:
        return (
            head + f"{cpu_us:.0f} µs CPU a contact ({wall_us:.0f} µs wall) in its one writer ({each}), "
            f"so at most {1e6 / max(cpu_us, wall_us):,.0f} rows/s on this machine"
        )
    text = (
        head + f"{wall_us:.0f} µs wall a contact through one connection (at most {1e6 / wall_us:,.0f} rows/s)"
    )
    if server_us is not None:
        cpus = os.cpu_count() or 1
        text += (
            f"; the server's CPU {server_us:.0f} µs a contact ({each}): at most "
            f"{cpus * 1e6 / server_us:,.0f} rows/s even spread over all {cpus} CPUs"
        )
    return text


def main(argv: list[str] | None = None) -> int:
    """Generate the export, then measure each store."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument(
        "--shared-role-addresses", action="store_true", help="seven role addresses recurring (stress case)"
    )
    ap.add_argument("--floor", action="store_true", help="also measure the store alone (see above)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--floor-url", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), args.floor_url)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "subscribed_members_export_bench.csv"
        t0 = time.perf_counter()
        generate(csv_path, args.rows, shared_role_addresses=args.shared_role_addresses)
        size = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows:,} members ({size:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        if args.floor:
            print(f"the machine: {primitives()}")
        if args.store in ("sqlite", "both"):
            floor = f"sqlite:///{Path(tmp) / 'floor.db'}" if args.floor else None
            measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", csv_path, 30_000, floor)
            if args.floor:
                _print_reference("sqlite", args.rows, Path(tmp))
        if args.store in ("postgresql", "both"):
            with scratch_database(BENCH_DB) as url, ExitStack() as stack:
                if url is not None:
                    floor = stack.enter_context(scratch_database(FLOOR_DB)) if args.floor else None
                    measure("PostgreSQL", url, csv_path, 20_000, floor)
            if args.floor:
                _print_reference("postgresql", args.rows, Path(tmp))
    return 0


def _print_reference(store: str, rows: int, tmp: Path) -> None:
    """The machine's own figures (benchmarks/lean.py) for as many contacts, under the store's."""
    for line in reference(store, rows, tmp):
        print(f"{'':10} {line}")


if __name__ == "__main__":
    raise SystemExit(main())
