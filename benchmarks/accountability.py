"""Benchmark: the accountability documents on a large ledger, on SQLite and PostgreSQL.

On a ledger of N events (default 200,000; the append benchmark's generator: about N/10
contact points with ten events each, registrations, consents and confirmations with
evidence, purchases, unsubscribes, objections, requests ...), freshly appended, it times:

- `access.person`: the access export of one person (their points, timeline, decisions today);
- `consent_proof.proof`: the proof of consent of one person, with its chain links;
- `receipts.for_event`: one ISO/IEC TS 27560 receipt;
- `receipts.for_purpose`: the receipts of every consent of the largest purpose (reads the
  whole ledger once);
- `processing_report.processing`: the report over the whole period (reads the whole ledger);
- rendering each HTML report.

Each figure is wall-clock seconds with the benchmark process's CPU seconds beside it.

    python benchmarks/accountability.py                        # 200,000 events, both stores
    python benchmarks/accountability.py --events 50000 --store sqlite
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from append import generate, pg_app, pg_reachable, sqlite_app

from consentry.bootstrap import App
from consentry.entrypoints.web.reports import render
from consentry.services import access, consent_proof, processing_report, receipts
from consentry.services.ledger import append_records

T = TypeVar("T")
PG_URL = os.environ.get("CONSENTRY_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def timed(label: str, fn: Callable[[], T]) -> T:
    """Run fn once and print its wall-clock and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    print(f"  {label:<52} {time.perf_counter() - wall:8.3f} s wall  {time.process_time() - cpu:8.3f} s cpu")
    return out


def run(app: App, records: list[dict[str, Any]]) -> None:
    """Every measurement on one freshly prepared store."""
    append_records(app, list(enumerate(records, start=1)))
    with app.store.reader() as r:
        consent = next(row.event for row in r.chain() if row.event.type == "consent.given")
    person = consent.contact_point_id
    doc = timed("access.person (one person)", lambda: access.person(app, person))
    decisions = len(doc["contact_points"][0]["decisions"])
    print(f"  (the export: {len(doc['timeline'])} events, {decisions} decisions)")
    timed("render access (html)", lambda: render("access", doc, "nl"))
    proof = timed("consent_proof.proof (one person)", lambda: consent_proof.proof(app, person))
    timed("render proof (html)", lambda: render("proof", proof, "en"))
    timed("receipts.for_event (one consent)", lambda: receipts.for_event(app, consent.id))
    found = timed(
        f"receipts.for_purpose ({consent.payload['purpose']})",
        lambda: receipts.for_purpose(app, consent.payload["purpose"]),
    )
    print(f"  ({len(found)} receipts)")
    report = timed(
        f"processing_report ({len(records)} events, 2020-2029)",
        lambda: processing_report.processing(app, date(2020, 1, 1), date(2029, 12, 31)),
    )
    timed("render processing (html)", lambda: render("processing", report, "nl"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args(argv)
    records = generate(args.events)
    with tempfile.TemporaryDirectory() as tmp:
        if args.store in ("sqlite", "both"):
            print("SQLite")
            with sqlite_app(Path(tmp), "accountability") as app:
                run(app, records)
        if args.store in ("postgresql", "both"):
            why = pg_reachable(PG_URL)
            if why is not None:
                print(f"PostgreSQL not reachable ({why}); skipped")
            else:
                print("PostgreSQL")
                with pg_app(PG_URL) as app:
                    run(app, records)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
