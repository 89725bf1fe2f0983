"""Benchmark: what signed checkpoints cost, on SQLite and PostgreSQL.

On a ledger of N events (default 200,000; the append benchmark's generator: about N/10
contact points with ten events each), freshly appended, it times:

- `checkpoints.make`: read every stored chain hash, build the Merkle tree, sign;
- `audit.verify_checkpoints`: hold the ledger against that checkpoint (the Merkle part
  of `ledger verify --checkpoint`; the chain recomputation is the append benchmark's
  verify figure);
- `proofs.inclusion` for one event and `proofs.check` of the result (no database);
- `ledger_guard.check`: the quick look before a send (and every 5 s before decisions);
- `audit.verify_projection`: fold every contact point again and compare its rows (and a
  sample of 1,000, as `--quick` does);
- a serving process's periodic checkpoint after 1,000 more events (reads only those);
- the Merkle root of 1,000,000 leaves in memory (hashing alone, no database).

Each figure is wall-clock seconds with the benchmark process's CPU seconds beside it.

    python benchmarks/checkpoint.py                       # 200,000 events, both stores
    python benchmarks/checkpoint.py --events 50000 --store sqlite
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import benchkeys  # noqa: F401  (the stores' keys, before any store is built)
from append import generate, pg_app, pg_reachable, sqlite_app

from consentry.adapters import signing
from consentry.bootstrap import App
from consentry.domain.merkle import leaf_hash, root_of
from consentry.services import audit, checkpoints, ledger_guard, proofs
from consentry.services.checkpointing import PeriodicCheckpoints
from consentry.services.ledger import append_records

T = TypeVar("T")
PG_URL = os.environ.get("CONSENTRY_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def timed(label: str, fn: Callable[[], T]) -> T:
    """Run fn once and print its wall-clock and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    print(f"  {label:<48} {time.perf_counter() - wall:8.3f} s wall  {time.process_time() - cpu:8.3f} s cpu")
    return out


def run(app: App, records: list[dict[str, Any]], extra: list[dict[str, Any]], tmp: Path) -> None:
    """Every measurement on one freshly prepared store."""
    append_records(app, list(enumerate(records, start=1)))
    signing.generate(tmp / "key.pem")
    app.settings = app.settings.model_copy(
        update={"checkpoint_key_file": str(tmp / "key.pem"), "checkpoint_file": str(tmp / "cps.jsonl")}
    )
    signer = checkpoints.signer_for(app.settings)
    cp = timed(f"checkpoints.make ({len(records)} events)", lambda: checkpoints.make(app, signer))
    checkpoints.export(app, cp)
    report = timed("audit.verify_checkpoints", lambda: audit.verify_checkpoints(app, [cp], signer.public))
    assert report.ok, report.problems
    with app.store.reader() as r:
        event_id = next(row.event.id for row in r.chain() if row.seq == cp.size // 2)
    proof = timed("proofs.inclusion (one event)", lambda: proofs.inclusion(app, event_id, cp))
    print(f"  (the proof: {len(proof['path'])} hashes in its path, {len(json.dumps(proof))} bytes of JSON)")
    timed("proofs.check (no database)", lambda: proofs.check(json.dumps(proof), signer.public))
    timed("ledger_guard.check", lambda: ledger_guard.check_now(app))
    folded = timed("audit.verify_projection (every contact point)", lambda: audit.verify_projection(app))
    assert folded.ok, folded.differences[:5]
    print(f"  (folded and compared {folded.checked} contact points)")
    timed("audit.verify_projection --quick (1,000)", lambda: audit.verify_projection(app, 1000))
    periodic = PeriodicCheckpoints(app, signer, every_s=60)
    timed("periodic: first tick (reads the whole ledger)", periodic.tick)
    append_records(app, list(enumerate(extra, start=1)))
    done = timed(f"periodic: tick after {len(extra)} more events", periodic.tick)
    assert done is not None and done.checkpoint.root == checkpoints.make(app, signer).root


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args(argv)
    everything = generate(args.events + 1_000)
    # The last contact points' events, whole, come after the checkpoint.
    cut = args.events
    while cut < len(everything) and everything[cut].get("type") != "contact_point.registered":
        cut += 1
    records, extra = everything[:cut], everything[cut:]
    leaves = [leaf_hash(hashlib.sha256(i.to_bytes(8, "big")).digest()) for i in range(1_000_000)]
    timed("Merkle root of 1,000,000 leaves (memory only)", lambda: root_of(leaves))
    with tempfile.TemporaryDirectory() as tmp:
        if args.store in ("sqlite", "both"):
            print("SQLite")
            with sqlite_app(Path(tmp), "checkpoint") as app:
                run(app, records, extra, Path(tmp) / "sqlite")
        if args.store in ("postgresql", "both"):
            why = pg_reachable(PG_URL)
            if why is not None:
                print(f"PostgreSQL not reachable ({why}); skipped")
            else:
                print("PostgreSQL")
                with pg_app(PG_URL) as app:
                    run(app, records, extra, Path(tmp) / "pg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
