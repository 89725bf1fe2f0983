"""The machine's reference for an import: a lean schema that still carries proof, written by a minimal script.

`import.py --floor` prints these figures beside the import's own, so the ratio between what
consentry does and what this machine can do is honest. The lean schema is what proof needs
at the least:

- `contact_points`: id, kind, a 16-byte lookup (unique with the kind), the owning contact;
- `events`: one event a contact (seq, id, point, type, occurred_at, a ~300-byte JSON payload,
  the previous hash and its own SHA-256 hash).

Three variants, each in a fresh child process on a fresh database, committing as many contacts
at a time as a big import does (`imports.COMMIT_BLOCKS * imports.BLOCK_ROWS`):

- `store`: the rows are built before the clock starts (payloads, lookups, the chain), so only
  the writing is timed: `executemany` on SQLite with the import's pragmas, psycopg's COPY
  (`write_row`) on PostgreSQL;
- `python`: the same, with building each row's JSON (`json.dumps`, sorted keys), its lookup
  (HMAC-SHA-256) and the hash chain (SHA-256 over the canonical text) done in the timed loop,
  in one thread of Python: what a minimal importer pays for proof;
- `sealed`: `python`, and what issue #16 asks of every contact's personal data besides: a
  data key of its own (32 random bytes, wrapped by a master key with AES-256-GCM, in a
  `data_keys` row), the address (in its contact point's row) and the payload's personal fields
  (name, IP, the source system's fields) sealed with it (AES-256-GCM, bound to the point's and
  the event's id), and the chain hashing the sealed form; keys and nonces drawn from the random
  source a thousand contacts at a time: what a minimal importer pays for proof that can be
  forgotten.

Each prints rows/s (wall), rows per CPU-second of the writing process (and on PostgreSQL
the server backend's CPU, read from /proc), bytes per contact (database size / contacts)
and the process's peak memory.

    python benchmarks/lean.py --rows 1000000 --store both
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pgdb import backend_cpu, scratch_database

LEAN_DB = f"consentry_bench_lean_{os.getpid()}"
#: Contacts a transaction: what a big import commits at once (imports.runner).
COMMIT_ROWS = 20_000
_SECRET = b"lean-reference-blind-index-secret-0123456789"
_SCHEMA = (
    "CREATE TABLE contact_points (id VARCHAR(40) PRIMARY KEY, kind VARCHAR(16) NOT NULL, "
    "lookup {blob} NOT NULL, contact_ref VARCHAR(40) NOT NULL, UNIQUE (kind, lookup))",
    "CREATE TABLE events (seq BIGINT PRIMARY KEY, id VARCHAR(40) NOT NULL UNIQUE, "
    "contact_point_id VARCHAR(40) NOT NULL, type VARCHAR(64) NOT NULL, occurred_at {time} NOT NULL, "
    "payload {json} NOT NULL, prev_hash CHAR(64) NOT NULL, hash CHAR(64) NOT NULL)",
    "CREATE INDEX events_point ON events (contact_point_id, occurred_at)",
)
#: The `sealed` variant's own tables: the points with their address sealed, the data keys, and
#: the events with their sealed part.
_SEALED_SCHEMA = (
    _SCHEMA[0].replace("NOT NULL, UNIQUE", "NOT NULL, value_ct {blob} NOT NULL, UNIQUE"),
    "CREATE TABLE data_keys (contact_ref VARCHAR(40) PRIMARY KEY, wrapped {blob} NOT NULL)",
    _SCHEMA[1].replace("payload {json} NOT NULL,", "payload {json} NOT NULL, sealed {blob} NOT NULL,"),
    _SCHEMA[2],
)
#: The payload's fields the `sealed` variant keeps sealed (personal data).
_PERSONAL = ("display_name", "ip", "source_fields")
_MASTER = AESGCM(b"lean-reference-master-key-32byte")
#: Random bytes a contact of the `sealed` variant: its key and three nonces.
_DRAWN = 32 + 3 * 12
#: Contacts whose random bytes are drawn in one read of the random source (the product draws a
#: batch's keys and nonces at once too).
_DRAW_BATCH = 1000
#: Where in a contact's random bytes its key and nonces are: (offset, length).
_PARTS = ((0, 32), (32, 12), (44, 12), (56, 12))
_START = datetime(2023, 1, 1, tzinfo=UTC)


def _payload(i: int) -> dict[str, Any]:
    """About 300 bytes of JSON, like an imported consent with its evidence."""
    return {
        "purpose": "nieuwsbrief",
        "channels": ["email"],
        "method": "double_opt_in",
        "collection_point": "mailchimp",
        "ip": f"198.51.{i % 256}.{i % 254 + 1}",
        "source_fields": {
            "OPTIN_TIME": "2023-05-17 10:15:00",
            "OPTIN_IP": f"198.51.{i % 256}.{i % 254 + 1}",
            "CONFIRM_TIME": "2023-05-17 10:19:00",
            "LEID": str(100000 + i),
            "EUID": f"{i:010x}",
        },
        "display_name": "Sanne de Vries",
    }


def _json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


Row = tuple[Any, ...]


def _rows(n: int, mac: Any, sealed: bool = False) -> Iterator[tuple[Row, Row, Row | None]]:
    """(contact point row, event row, data key row or None) per contact, the chain included;
    `sealed`: each contact's address and personal fields sealed with a data key of its own."""
    prev = "0" * 64
    drawn = b""
    for i in range(n):
        pid = f"cp{i:012d}"
        value = f"sanne.devries{i}@example.nl"
        m = mac.copy()
        m.update(value.encode())
        at = _START + timedelta(seconds=i)
        eid = f"ev{i:012d}"
        payload = _payload(i)
        key_row: Row | None = None
        point: Row = (pid, "email", m.digest()[:16], pid)
        seal = b""
        if sealed:
            at_draw = i % _DRAW_BATCH * _DRAWN
            if at_draw == 0:
                drawn = os.urandom(_DRAW_BATCH * _DRAWN)
            key, n1, n2, n3 = (drawn[at_draw + a : at_draw + a + size] for a, size in _PARTS)
            cipher = AESGCM(key)
            key_row = (pid, n1 + _MASTER.encrypt(n1, key, pid.encode()))
            point = (*point, n2 + cipher.encrypt(n2, value.encode(), pid.encode()))
            personal = _json({k: payload.pop(k) for k in _PERSONAL})
            seal = n3 + cipher.encrypt(n3, personal.encode(), eid.encode())
        text = _json(payload)
        head = f'{{"cp":"{pid}","id":"{eid}","occurred_at":"{at.isoformat()}"'
        tail = f',"sealed":"{seal.hex()}"' if sealed else ""
        canon = f'{head},"payload":{text}{tail},"seq":{i + 1}}}'
        h = hashlib.sha256(prev.encode() + canon.encode()).hexdigest()
        event: Row = (i + 1, eid, pid, "consent.given", at, text, *((seal,) if sealed else ()), prev, h)
        yield point, event, key_row
        prev = h


def child(url: str, rows: int, variant: str) -> dict[str, Any]:
    """Create the lean schema at `url`, write `rows` contacts, return the figures."""
    mac = hmac.new(_SECRET, digestmod=hashlib.sha256)
    sqlite = url.startswith("sqlite")
    if sqlite:
        import sqlite3

        path = url.removeprefix("sqlite:///")
        db: Any = sqlite3.connect(path, isolation_level=None)
        for pragma in (
            "page_size=4096",
            "journal_mode=WAL",
            "synchronous=FULL",
            "cache_size=-262144",
            "wal_autocheckpoint=100000",
        ):
            db.execute(f"PRAGMA {pragma}")
        types = {"blob": "BLOB", "time": "TEXT", "json": "TEXT"}
        backend = None
    else:
        import psycopg

        db = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        types = {"blob": "BYTEA", "time": "TIMESTAMP", "json": "JSONB"}
        backend = db.info.backend_pid
    sealed = variant == "sealed"
    for ddl in _SEALED_SCHEMA if sealed else _SCHEMA:
        db.execute(ddl.format(**types))
    if not sqlite:
        db.commit()
    built = None if variant != "store" else list(_rows(rows, mac))
    server0 = backend_cpu(backend)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    source = iter(built) if built is not None else _rows(rows, mac, sealed)
    done = 0
    while done < rows:
        take = min(COMMIT_ROWS, rows - done)
        points, events, keys = [], [], []
        for _ in range(take):
            p, e, k = next(source)
            points.append(p)
            events.append(e)
            if k is not None:
                keys.append(k)
        if sqlite:  # times as SQLite keeps them: ISO text
            events = [(*e[:4], e[4].isoformat(), *e[5:]) for e in events]
        tables = [
            (name, written)
            for name, written in (("data_keys", keys), ("contact_points", points), ("events", events))
            if written
        ]
        if sqlite:
            db.execute("BEGIN IMMEDIATE")
            for name, written in tables:
                db.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(written[0]))})", written)
            db.execute("COMMIT")
        else:
            with db.cursor() as cur:
                for name, written in tables:
                    with cur.copy(f"COPY {name} FROM STDIN") as copy:
                        for row in written:
                            copy.write_row(row)
            db.commit()
        done += take
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    server1 = backend_cpu(backend)
    if sqlite:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in (Path(path), Path(f"{path}-wal")) if p.exists())
    else:
        size = int(db.execute("SELECT pg_database_size(current_database())").fetchone()[0])
    db.close()
    return {
        "rows": rows,
        "wall": wall,
        "cpu": cpu,
        "server_cpu": None if server0 is None or server1 is None else server1 - server0,
        "bytes": size,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(url: str, rows: int, variant: str) -> dict[str, Any] | None:
    """Run one variant in a fresh process; its figures, or None when it failed (said on stdout)."""
    command = [sys.executable, __file__, "--child", url, str(rows), variant]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"lean reference {variant}: FAILED\n{done.stderr[-2000:]}")
        return None
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def describe(label: str, fig: dict[str, Any]) -> str:
    """One line of a variant's figures."""
    n = fig["rows"]
    text = (
        f"{label}: {n / fig['wall']:>9,.0f} rows/s wall, {n / fig['cpu']:>9,.0f} rows per CPU-second "
        f"({fig['cpu']:.1f} CPU-s"
    )
    if fig["server_cpu"] is not None:
        text += f", server {fig['server_cpu']:.1f} CPU-s"
    return text + f"); {fig['bytes'] / n:,.0f} bytes a contact; peak {fig['peak_mb']:.0f} MB"


def reference(store: str, rows: int, tmp: Path) -> list[str]:
    """The lean reference's lines for one store ("sqlite" or "postgresql"), every variant."""
    lines = []
    for variant, label in (
        ("store", "writing only"),
        ("python", "+ JSON and chain in Python"),
        ("sealed", "+ a key a contact, sealed"),
    ):
        if store == "sqlite":
            db = tmp / f"lean-{variant}.db"
            for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                p.unlink(missing_ok=True)
            fig = measure(f"sqlite:///{db}", rows, variant)
        else:
            with scratch_database(LEAN_DB) as url:
                fig = None if url is None else measure(url, rows, variant)
        if fig is not None:
            lines.append(describe(f"lean reference, {label:27}", fig))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        url, rows, variant = args.child
        print(json.dumps(child(url, int(rows), variant)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for store in ("sqlite", "postgresql"):
            if args.store in (store, "both"):
                print(store)
                for line in reference(store, args.rows, Path(tmp)):
                    print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
