"""Benchmark: one retention run that erases 100,000 contact points, on SQLite and PostgreSQL.

Target (issue #17): erasing 100,000 contacts in one run <= 60 s.

The ledger gets `--due` e-mail addresses that the Dutch default policies erase today, in
equal parts: unsubscribed over 30 days ago (`afgemeld-geen-grondslag`), prospects without an
event for over 12 months (`prospect-stil`) and customers whose relationship ended over three
years ago (`oud-klant`); and `--kept` addresses (default a quarter of `--due`) that a basis
keeps: a valid consent, a running contract, a former customer inside the three-year window,
an address unsubscribed half a year ago with a data-subject request received last week and
not yet closed (`--requests` of them, default 400: a realistic number of open requests; the
other addresses of that share unsubscribed ten days ago, inside the 30 days). Among the due
unsubscribed addresses, `--requests` / 4 had a request that was withdrawn: a closed request
keeps nothing. Everything goes through the real ledger (appended, hashed, folded, projected)
and the requests through the request service before the clock starts.

For each store it times, on a fresh database:

- the dry run: selecting (set-wise facts from the projection and the events, decided per
  point), counts per policy checked against what was generated;
- with --reference, the same selection by reading and folding every point's events (the
  per-point path the set-wise facts are held equal to), which must count the same;
- the real run through the erasure service, in batches of `--batch` (one write transaction
  each: `contact_point.erased` appended, a suppression record per point, projection rows and
  lookups removed, data keys destroyed; the store scrubbed once after the last batch), with
  the client CPU seconds, the PostgreSQL backends' CPU seconds (read from /proc when the
  server runs on this machine) and the load average;
- a second run, which must find nothing left.

    python benchmarks/retention.py                        # 100,000 due, both stores
    python benchmarks/retention.py --due 20000 --store sqlite

It prints the figures with the target and a PASS/FAIL line per store, and exits 0.
"""

from __future__ import annotations

import argparse
import base64
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pgdb import scratch_database

from consentry.bootstrap import App, bootstrap
from consentry.domain.fold import fold
from consentry.domain.retention import facts_of, select
from consentry.domain.state import local_day
from consentry.services import dsr, dsr_handling, ledger, purposes, retention, setup
from consentry.services.retention_erasure import eraser_for
from consentry.services.retention_policies import load
from consentry.settings import Settings

TARGET_S = 60.0
#: Storage v2 seals personal fields under a master key and keeps suppression records by a blind
#: index: fixed keys for the benchmark's scratch data (unless the environment sets its own).
os.environ.setdefault("CONSENTRY_MASTER_KEY", base64.b64encode(b"benchmark-master-key-32-bytes!!!").decode())
os.environ.setdefault(
    "CONSENTRY_BLIND_INDEX_KEY", base64.b64encode(b"benchmark-blind-index-secret-32b!").decode()
)
POLICIES = load(None).policies
NOW = datetime.now(UTC)


def _at(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


Records = tuple[list[dict[str, Any]], dict[str, int], list[str], list[str]]


def records(due: int, kept: int, requests: int) -> Records:
    """Ledger records for `due` points the defaults erase today and `kept` that a basis keeps, and
    the addresses to open a request on that stays open and on one that is withdrawn."""
    out: list[dict[str, Any]] = []
    held: list[str] = []
    withdrawn: list[str] = []
    expected = {p.id: 0 for p in POLICIES}

    def reg(n: int, source: str, days_ago: int) -> str:
        value = f"persoon{n}@voorbeeld.nl"
        out.append({"type": "contact_point.registered", "kind": "email", "value": value, "source": source,
                    "occurred_at": _at(days_ago)})  # fmt: skip
        return value

    def consent(value: str, days_ago: int) -> None:
        given = {
            "type": "consent.given",
            "purpose": "nieuwsbrief",
            "channels": ["email"],
            "method": "single_opt_in",
        }
        out.append({**given, "contact": value, "occurred_at": _at(days_ago)})

    for n in range(due):
        shape = n % 3
        if shape == 0:  # unsubscribed 45-400 days ago, no other basis
            value = reg(n, "web_form", 900)
            consent(value, 899)
            out.append({"type": "unsubscribed", "contact": value, "occurred_at": _at(45 + n % 355)})
            expected["afgemeld-geen-grondslag"] += 1
            if len(withdrawn) < requests // 4:
                withdrawn.append(value)
        elif shape == 1:  # imported prospect, nothing since 13-30 months
            reg(n, "import", 400 + n % 500)
            expected["prospect-stil"] += 1
        else:  # one-off purchase 3.5-6 years ago
            value = reg(n, "purchase", 1300 + n % 900)
            out.append({"type": "purchase.recorded", "contact": value, "categories": ["koffie"],
                        "opt_out_offered": True, "occurred_at": _at(1300 + n % 900)})  # fmt: skip
            expected["oud-klant"] += 1
    for n in range(due, due + kept):
        shape = n % 4
        if shape == 0:
            consent(reg(n, "web_form", 800), 799)
        elif shape == 1:
            value = reg(n, "purchase", 700)
            out.append({"type": "purchase.recorded", "contact": value, "categories": ["koffie"],
                        "opt_out_offered": True, "contract": True, "occurred_at": _at(700)})  # fmt: skip
        elif shape == 2:
            value = reg(n, "purchase", 500)
            out.append({"type": "purchase.recorded", "contact": value, "categories": ["koffie"],
                        "opt_out_offered": True, "occurred_at": _at(500)})  # fmt: skip
        elif len(held) < requests:
            value = reg(n, "web_form", 300)
            out.append({"type": "unsubscribed", "contact": value, "occurred_at": _at(200)})
            held.append(value)
        else:
            value = reg(n, "web_form", 300)
            out.append({"type": "unsubscribed", "contact": value, "occurred_at": _at(10)})
    return out, expected, held, withdrawn


def _requests(app: App, held: list[str], withdrawn: list[str]) -> None:
    """Access requests received last week: open on `held`, withdrawn on `withdrawn`."""
    for value in held + withdrawn:
        q = dsr.open_request(app, value, "access", via="email", received_at=_at(7))
        if value in withdrawn:
            dsr_handling.close(app, q.id, "withdrawn", by="benchmark", reason=None)


def _app(url: str) -> App:
    app = bootstrap(Settings(database_url=url, secret_key="bench-secret-key-0123456789"))
    setup.init(app, name="Benchmark BV", sector="commercial")
    purposes.define(app, "nieuwsbrief", "Nieuwsbrief", "Newsletter", categories=["koffie"])
    return app


def _fold_selection(app: App, batch: int) -> dict[str, int]:
    """The dry run's counts the per-point way: every point's events read and folded (the reference)."""
    day = local_day(app.clock.now())
    counts = {p.id: 0 for p in POLICIES}
    with app.store.reader() as r:
        ids = r.point_ids()
    for start in range(0, len(ids), batch):
        with app.store.reader() as r:
            events = r.events_for_many(ids[start : start + batch])
            held = r.open_requests_of(ids[start : start + batch])
        facts = [
            f for pid, evs in events.items() if (f := facts_of(fold(pid, evs), held.get(pid, ()))) is not None
        ]
        for _, policy in select(POLICIES, facts, day):
            counts[policy.id] += 1
    return counts


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _backends(app: App) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving this database (read from /proc when
    the server runs on this machine; empty on SQLite or when /proc cannot be read)."""
    engine = app.store.engine
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        pids = conn.exec_driver_sql(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        ).scalars()
        found: dict[int, float] = {}
        tick = os.sysconf("SC_CLK_TCK")
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[pid] = (int(fields[11]) + int(fields[12])) / tick
    return found


def _server_cpu(before: dict[int, float], after: dict[int, float]) -> str:
    if not after:
        return ""
    spent = sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
    return f"; server backends CPU {spent:.1f} s"


def bench(name: str, url: str, due: int, kept: int, batch: int, reference: bool, requests: int) -> bool:
    """Load, dry-run, run and run again on one store; True when the run met the target."""
    app = _app(url)
    recs, expected, held, withdrawn = records(due, kept, requests)
    t0 = time.perf_counter()
    ledger.append_records(app, enumerate(recs, 1))
    _requests(app, held, withdrawn)
    load_s = time.perf_counter() - t0
    print(
        f"[{name}] ledger: {len(recs):,} events for {due + kept:,} points appended, {len(held):,} open and "
        f"{len(withdrawn):,} withdrawn requests, in {load_s:.1f} s"
    )

    b0 = _backends(app)
    t0, c0 = time.perf_counter(), _cpu()
    dry = retention.run(app, POLICIES, None, dry_run=True, batch=batch)
    dry_s, dry_cpu = time.perf_counter() - t0, _cpu() - c0
    dry_server = _server_cpu(b0, _backends(app))
    counts = {pid: c.selected for pid, c in dry.counts.items()}
    assert counts == expected, (counts, expected)
    print(
        f"[{name}] dry run: {dry.selected:,} selected of {dry.considered:,} considered in {dry_s:.2f} s "
        f"(client CPU {dry_cpu:.2f} s{dry_server}; load {os.getloadavg()[0]:.1f}) {counts}"
    )

    if reference:
        t0 = time.perf_counter()
        folded = _fold_selection(app, batch)
        fold_s = time.perf_counter() - t0
        assert folded == counts, (folded, counts)
        print(f"[{name}] the same selection by folding every point's events: {fold_s:.2f} s (reference)")

    b0 = _backends(app)
    t0, c0 = time.perf_counter(), _cpu()
    report = retention.run(app, POLICIES, eraser_for(app), batch=batch)
    run_s, run_cpu = time.perf_counter() - t0, _cpu() - c0
    server = _server_cpu(b0, _backends(app))
    assert report.erased == due, (report.erased, due)
    rate = report.erased / run_s
    print(
        f"[{name}] run: {report.erased:,} erased in {report.batches} batches of {batch} in {run_s:.1f} s "
        f"({rate:,.0f}/s; client CPU {run_cpu:.1f} s{server}; load average {os.getloadavg()[0]:.1f})"
    )
    t0 = time.perf_counter()
    again = retention.run(app, POLICIES, eraser_for(app), batch=batch)
    assert again.selected == 0
    again_s = time.perf_counter() - t0
    print(f"[{name}] second run: nothing left ({again.considered:,} considered, {again_s:.2f} s)")
    app.store.engine.dispose()
    ok = run_s <= TARGET_S * due / 100_000
    verdict = "PASS" if ok else "FAIL"
    print(f"[{name}] {verdict}: {due:,} erased in {run_s:.1f} s (target: 100,000 in <= {TARGET_S:.0f} s)")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--due", type=int, default=100_000, help="points the defaults erase today")
    parser.add_argument("--kept", type=int, default=None, help="points a basis keeps (default due/4)")
    parser.add_argument("--batch", type=int, default=1000, help="points per batch (one transaction)")
    parser.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--reference", action="store_true", help="also time the selection by folding")
    parser.add_argument("--requests", type=int, default=400, help="open requests that keep points")
    args = parser.parse_args()
    kept = args.due // 4 if args.kept is None else args.kept
    if args.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            bench(
                "sqlite",
                f"sqlite:///{Path(tmp) / 'retention.db'}",
                args.due,
                kept,
                args.batch,
                args.reference,
                args.requests,
            )
    if args.store in ("postgresql", "both"):
        with scratch_database(f"consentry_bench_{os.getpid()}") as url:
            if url is not None:
                bench("postgresql", url, args.due, kept, args.batch, args.reference, args.requests)


if __name__ == "__main__":
    main()
