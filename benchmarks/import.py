"""Benchmark: importing a Mailchimp "subscribed" export, rows per second and peak memory.

Target (issue): a 1,000,000-row subscribed export at >= 30,000 rows/s on SQLite and on
PostgreSQL, peak memory <= 500 MB.

The generator writes a realistic export: the columns Mailchimp writes (Email Address, merge
fields, MEMBER_RATING, OPTIN_TIME/IP, CONFIRM_TIME/IP for about 80% of members, LATITUDE ...
LEID, EUID, TAGS), Dutch names and addresses, free-mail addresses and 2% role addresses
(info@ at an organisation's own domain). Like a real audience export, it names each address
once. `--shared-role-addresses` writes the file earlier versions of this script wrote, where
the role addresses are info@ at only seven domains, so seven addresses recur 20,000 times
(in 1,000,000 rows) with a new consent each time: a stress case for the generic path, which
re-folds such a point's whole history in every chunk it recurs in.
Each store is measured in a fresh child process on a freshly initialised database with the
purpose defined. The import prepares its rows in worker processes (one per CPU, at most
`imports.MAX_WORKERS`; `--workers` to choose); the figures are:

- rows/s: rows over wall-clock seconds (the target);
- rows per CPU-second: rows over the CPU time of the importing process and its workers
  (steadier on a shared machine; PostgreSQL's own server processes are not counted);
- peak memory: the importing process's peak RSS plus each worker's (the largest worker's
  peak, times the number of workers: an upper bound).

The load average is printed with each figure: on a shared machine it says how much of it
the run had.

    python benchmarks/import.py                         # 1,000,000 rows, both stores
    python benchmarks/import.py --rows 100000 --store sqlite

PostgreSQL uses the database `consentry_bench_import` on the server CONSENTRY_BENCH_PG_URL
names (default postgresql+psycopg://postgres@127.0.0.1:5432/test), created and dropped by
the script.
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
from pathlib import Path

from pgdb import scratch_database

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
BENCH_DB = "consentry_bench_import"


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


def child(store_url: str, csv_path: Path, workers: int | None) -> None:
    """Run in a fresh process: set up, import, print one JSON line of figures."""
    from consentry.bootstrap import bootstrap
    from consentry.services import imports, mailchimp, purposes, setup
    from consentry.settings import Settings

    app = bootstrap(Settings(database_url=store_url, secret_key="bench-secret-key-0123456789"))
    setup.init(app)
    purposes.define(app, "nieuwsbrief", "Nieuwsbrief", "Newsletter", categories=["koffie"])
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    result = mailchimp.run(app, csv_path, "nieuwsbrief", status="subscribed", workers=workers)
    seconds = time.perf_counter() - started
    (_, _, report) = result.files[0]
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (me.ru_utime + me.ru_stime - before.ru_utime - before.ru_stime) + kids.ru_utime + kids.ru_stime
    cpus = os.cpu_count() or 1
    auto = (
        min(cpus, imports.MAX_WORKERS)
        if cpus > 1 and csv_path.stat().st_size >= imports.POOL_MIN_BYTES
        else 0
    )
    n_workers = auto if workers is None else workers
    print(
        json.dumps(
            {
                "rows": report.rows,
                "accepted": report.accepted,
                "events": report.events,
                "seconds": seconds,
                "cpu": cpu,
                "peak_mb": me.ru_maxrss / 1024,
                "worker_peak_mb": kids.ru_maxrss / 1024,
                "workers": n_workers,
            }
        )
    )


def measure(label: str, store_url: str, csv_path: Path, target: float, workers: int | None) -> bool:
    """Run one store in a child process and print its figures."""
    command = [sys.executable, __file__, "--child", store_url, str(csv_path)]
    if workers is not None:
        command += ["--workers", str(workers)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"{label}: FAILED\n{done.stderr[-2000:]}")
        return False
    fig = json.loads(done.stdout.strip().splitlines()[-1])
    rate = fig["rows"] / fig["seconds"]
    peak = fig["peak_mb"] + fig["workers"] * fig["worker_peak_mb"]
    ok = rate >= target and peak <= 500
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{label:10} {fig['rows']:>9,} rows in {fig['seconds']:6.1f} s = {rate:>8,.0f} rows/s wall, "
        f"{fig['rows'] / fig['cpu']:>7,.0f} rows per CPU-second ({fig['cpu']:.1f} CPU-s, "
        f"{fig['workers']} worker(s)); {fig['events']:,} events; peak {peak:.0f} MB "
        f"({fig['peak_mb']:.0f} + {fig['workers']} x {fig['worker_peak_mb']:.0f}); load {load}\n"
        f"{'':10} {'PASS' if ok else 'FAIL'} (target {target:,.0f} rows/s wall, 500 MB)"
    )
    return ok


def main(argv: list[str] | None = None) -> int:
    """Generate the export, then measure each store."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument(
        "--shared-role-addresses", action="store_true", help="seven role addresses recurring (stress case)"
    )
    ap.add_argument(
        "--workers", type=int, default=None, help="worker processes (default: as the import chooses)"
    )
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child[0], Path(args.child[1]), args.workers)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "subscribed_members_export_bench.csv"
        t0 = time.perf_counter()
        generate(csv_path, args.rows, shared_role_addresses=args.shared_role_addresses)
        size = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows:,} members ({size:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        if args.store in ("sqlite", "both"):
            measure("SQLite", f"sqlite:///{Path(tmp) / 'bench.db'}", csv_path, 30_000, args.workers)
        if args.store in ("postgresql", "both"):
            with scratch_database(BENCH_DB) as url:
                if url is not None:
                    measure("PostgreSQL", url, csv_path, 30_000, args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
