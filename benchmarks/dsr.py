"""Benchmark: data-subject requests — opening them, and listing and reminding by deadline.

No target in the issue; this keeps the figures a privacy officer's daily commands depend on
in view. For each store, on a freshly initialised database with N contact points (default
2,000), it times:

- `dsr.open_request` for N requests, one write transaction each (as the API and the
  preference centre open them), back-dated over the last 40 days (some already overdue);
- `dsr.list_requests` of the open ones, `--overdue` and `--due-within 7` (median of 5 runs);
- `dsr_mails.remind` picking the due ones (the mail goes to a sink that keeps it).

SQLite is a file in a temp directory; PostgreSQL a scratch database `consentry_bench_dsr_<pid>`
(see pgdb.py), skipped when the server cannot be reached. Run from the repository root:

    python benchmarks/dsr.py [--requests 2000] [--store sqlite|postgresql|both]

It prints requests/s and milliseconds per listing, and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pgdb import scratch_database

from consentry.adapters.mime import Mail
from consentry.bootstrap import bootstrap
from consentry.domain.clock import FixedClock
from consentry.services import dsr, dsr_mails, ledger, setup
from consentry.settings import Settings

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


class Sink:
    """Keeps the messages instead of sending them."""

    def __init__(self, real: object) -> None:
        self.real, self.sent = real, []  # type: ignore[var-annotated]

    def new_message(self, *args: object, **kw: object) -> Mail:
        return self.real.new_message(*args, **kw)  # type: ignore[attr-defined]

    def send(self, msg: Mail) -> None:
        self.sent.append(msg)


def run(url: str, n: int) -> None:
    settings = Settings(
        database_url=url, secret_key="bench-secret-key-0123456789", privacy_officer_email="po@x.nl"
    )
    app = bootstrap(settings, clock=FixedClock(NOW))
    setup.init(app, name="Bench BV", sector="commercial")
    lines = (
        json.dumps({"type": "contact_point.registered", "kind": "email", "value": f"p{i}@example.nl",
                    "source": "web_form", "occurred_at": "2026-01-05"})
        for i in range(n)
    )  # fmt: skip
    ledger.append_lines(app, lines)
    started = time.perf_counter()
    for i in range(n):
        received = NOW - timedelta(minutes=(i * 40 * 24 * 60) // n)
        dsr.open_request(app, f"p{i}@example.nl", "access", received_at=received, already_overdue=True)
    opened = time.perf_counter() - started
    print(f"  open_request: {n / opened:,.0f} requests/s ({n} in {opened:.1f} s)")
    for label, kw in (
        ("list", {}),
        ("list --overdue", {"overdue": True}),
        ("list --due-within 7", {"due_within": 7}),
    ):
        times, found = [], 0
        for _ in range(5):
            t = time.perf_counter()
            found = len(dsr.list_requests(app, **kw))
            times.append(time.perf_counter() - t)
        print(f"  {label:20} {statistics.median(times) * 1000:7.1f} ms ({found} requests)")
    app.mailer = Sink(app.mailer)  # type: ignore[assignment]
    t = time.perf_counter()
    reminded = dsr_mails.remind(app)
    print(
        f"  remind: {(time.perf_counter() - t) * 1000:.1f} ms ({len(reminded.requests)} requests in one mail)"
    )
    app.store.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    if args.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print("SQLite")
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.requests)
    if args.store in ("postgresql", "both"):
        with scratch_database(f"consentry_bench_dsr_{os.getpid()}") as url:
            if url is not None:
                print("PostgreSQL")
                run(url, args.requests)


if __name__ == "__main__":
    main()
