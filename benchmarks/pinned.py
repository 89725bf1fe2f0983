"""Run a benchmark with its process on one vCPU and every PostgreSQL backend it connects to on another.

On this 2-vCPU VM a round trip to PostgreSQL over TCP takes ~18 µs when the client and its server
backend run on the same vCPU and ~50 µs when they run on different ones (the idle vCPU's wake-up,
see docs/performance.md). Unpinned, the scheduler places them either way, and may switch within a
run: a decision's median moves by ~35 µs with it, more than most changes measured. Pinned, an A/B
compares like with like, in each placement.

Every connection made by `psycopg.connect` (SQLAlchemy's psycopg dialect makes its connections by
it) has its backend pinned once connected. Setting another process's CPUs needs the right to
(root, or the server's own user).

    python benchmarks/pinned.py 0 0 benchmarks/decide.py --store postgresql   # the same vCPU
    python benchmarks/pinned.py 0 1 benchmarks/decide.py --store postgresql   # different vCPUs
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import Any


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        sys.exit(__doc__)
    client, backend, script = int(argv[0]), int(argv[1]), argv[2]
    import psycopg

    connect = psycopg.connect

    def pinned(*args: Any, **kwargs: Any) -> Any:
        conn = connect(*args, **kwargs)
        try:
            os.sched_setaffinity(conn.info.backend_pid, {backend})
        except PermissionError:
            conn.close()
            sys.exit(f"pinned.py: may not pin PostgreSQL's backend {conn.info.backend_pid}: run as root")
        return conn

    psycopg.connect = pinned
    os.sched_setaffinity(0, {client})
    sys.argv = [script, *argv[3:]]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
