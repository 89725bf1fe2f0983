"""Benchmark: the Verzoeken and Bewaartermijnen pages of the admin app.

Target (issue #19): every page answers in <= 200 ms at the 95th percentile. For each store, on
a fresh database with N contact points (default 2,000), each with one access request
back-dated over the last 40 days (some overdue), a privacy officer logs in and each page is
asked for `--rounds` times through the real ASGI app (FastAPI's TestClient, in process: the
server's time plus a little client overhead). The list pages read the requests table by
deadline, so they depend on the number of open requests, not on the number of contacts.
The retention dry run reads every contact point's retention facts: it is a button, not a
page, and its time is printed apart (one run).

    python benchmarks/admin_request_pages.py [--requests 2000] [--rounds 40] [--store sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pgdb import scratch_database

from consentry.bootstrap import bootstrap
from consentry.domain.clock import FixedClock
from consentry.domain.users import Role
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.http import create_app
from consentry.services import dsr, ledger, setup, users
from consentry.settings import Settings

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


def p95(samples: list[float]) -> float:
    """The 95th percentile of `samples` (seconds)."""
    return statistics.quantiles(samples, n=20)[-1] if len(samples) > 1 else samples[0]


def run(url: str, n: int, rounds: int) -> bool:
    from fastapi.testclient import TestClient

    settings = Settings(
        database_url=url, secret_key="bench-secret-key-0123456789", base_url="http://testserver"
    )
    app = bootstrap(settings, clock=FixedClock(NOW))
    setup.init(app, name="Bench BV", sector="commercial")
    lines = (
        json.dumps({"type": "contact_point.registered", "kind": "email", "value": f"p{i}@example.nl",
                    "source": "import", "occurred_at": "2025-01-05"})
        for i in range(n)
    )  # fmt: skip
    ledger.append_lines(app, lines)
    first = None
    for i in range(n):
        received = NOW - timedelta(minutes=(i * 40 * 24 * 60) // n)
        q = dsr.open_request(app, f"p{i}@example.nl", "access", received_at=received, already_overdue=True)
        first = first or q.id
    users.create_user(accounts(app), "po@example.nl", Role.PRIVACY_OFFICER, PASSWORD, actor=None)
    ok = True
    with TestClient(create_app(app)) as client:
        form = client.get("/admin/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token
        client.post("/admin/login", data={"email": "po@example.nl", "password": PASSWORD, "csrf": token[1]})
        for path in (
            "/admin/requests",
            "/admin/requests?show=overdue",
            "/admin/requests?show=due&days=7",
            f"/admin/requests/{first}",
            "/admin/retention",
        ):
            times = []
            for _ in range(rounds):
                t = time.perf_counter()
                page = client.get(path)
                times.append(time.perf_counter() - t)
                assert page.status_code == 200, (path, page.status_code)
            took = p95(times) * 1000
            ok = ok and took <= 200
            print(f"  {path:36} p95 {took:7.1f} ms, median {statistics.median(times) * 1000:7.1f} ms")
        page = client.get("/admin/retention").text
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token
        t = time.perf_counter()
        dry = client.post("/admin/retention/dry-run", data={"csrf": token[1]})
        print(f"  retention dry run (button, {n} points)  {(time.perf_counter() - t) * 1000:7.1f} ms")
        assert dry.status_code == 200
    app.store.engine.dispose()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    if args.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            print(f"SQLite, {args.requests} open requests")
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.requests, args.rounds)
    if args.store in ("postgresql", "both"):
        with scratch_database(f"consentry_bench_admin_req_{os.getpid()}") as url:
            if url is not None:
                print(f"PostgreSQL, {args.requests} open requests")
                run(url, args.requests, args.rounds)


if __name__ == "__main__":
    main()
