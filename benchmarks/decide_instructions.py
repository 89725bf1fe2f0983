"""Instructions of one cached decision (or of a statement reader opened and closed), for callgrind.

Wall time on this 2-vCPU VM moves by tens of µs with where the scheduler puts the client and its
PostgreSQL backend (see benchmarks/pinned.py); instructions counted by callgrind do not. The
measured runs happen inside one `functools.reduce` call, so callgrind can count them alone:

    valgrind --tool=callgrind --toggle-collect=functools_reduce --callgrind-out-file=/tmp/cg.out \\
        python benchmarks/decide_instructions.py --runs 300 --what typed --store postgresql

Divide the "Collected" count by `--runs`. `--what`: `typed` (the first question of
benchmarks/decide.py, its address as typed), `id` (by point id), `open` (a statement reader
opened and closed, nothing read). Each run follows 200 untimed ones (the state cached, psycopg's
statement prepared, the pool warm). The PostgreSQL database is a scratch one (benchmarks/pgdb.py).
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from decide import build
from pgdb import scratch_database

from consentry.bootstrap import bootstrap
from consentry.services.decide import decide
from consentry.settings import Settings


def runs(url: str, what: str, n: int) -> None:
    app = bootstrap(Settings(database_url=url))
    p = build(app)[0]
    c = p.case
    ref = p.point_id if what == "id" else c.contact

    def one() -> object:
        if what == "open":
            with app.store.statement_reader():
                return None
        return decide(app, ref, c.channel, c.purpose, at=c.at)

    for _ in range(200):
        one()
    step: Callable[[object, int], object] = lambda _done, _i: one()  # noqa: E731
    functools.reduce(step, range(n), None)  # what callgrind counts (--toggle-collect)
    app.store.engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--what", choices=("typed", "id", "open"), default="typed")
    ap.add_argument("--store", choices=("sqlite", "postgresql"), default="postgresql")
    args = ap.parse_args()
    if args.store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="consentry-cg-") as tmp:
            runs(f"sqlite:///{Path(tmp) / 'cg.db'}", args.what, args.runs)
        return
    with scratch_database(f"consentry_bench_instructions_{os.getpid()}") as url:
        if url is not None:
            runs(url, args.what, args.runs)


if __name__ == "__main__":
    main()
