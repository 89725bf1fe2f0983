"""The machine's reference for an import: a lean schema that still carries proof, written by a minimal script.

`import.py --floor` prints these figures beside the import's own, so the ratio between what
consentry does and what this machine can do is honest. The lean schema is what proof needs
at the least:

- `contact_points`: id, kind, a 16-byte lookup (unique with the kind), the owning contact;
- `events`: one event a contact (`facts`: 2.8; seq, id, point, type, occurred_at, a ~300-byte
  JSON payload, the previous hash and its own SHA-256 hash).

Six variants, each in a fresh child process on a fresh database, committing as many contacts
at a time as a big import does (`imports.COMMIT_BLOCKS * imports.BLOCK_ROWS`):

- `store`: the rows are built before the clock starts (payloads, lookups, the chain), so only
  the writing is timed: `executemany` on SQLite with the import's pragmas, psycopg's COPY
  (`write_row`) on PostgreSQL;
- `python`: the same, with building each row's JSON (one `json.JSONEncoder`, sorted keys), its
  lookup (HMAC-SHA-256) and the hash chain (SHA-256 over the canonical text, the fields the
  product's chain covers) done in the timed loop, in one thread of Python: what a minimal
  importer pays for proof;
- `sealed`: `python`, and what issue #16 asks of every contact's personal data besides: a
  data key of its own (32 random bytes, wrapped by a master key with AES-256-GCM, in a
  `data_keys` row), the address (in its contact point's row) and the payload's personal fields
  (name, IP, the source system's fields) sealed with it (AES-256-GCM, bound to the point's and
  the event's id), and the chain hashing the sealed form; keys and nonces drawn from the random
  source a thousand contacts at a time: what a minimal importer pays for proof that can be
  forgotten;
- `facts`: `sealed`, with a member's events as the Mailchimp import writes them instead of one
  event: its registration, its opt-in and, for four members in five, the confirmation of its
  double opt-in (2.8 events a member, each with its JSON, its sealed part and its link in the
  chain). The import keeps these as three events because they are three facts at two moments
  (docs/performance.md, "A confirmed double opt-in as one event"); this is what a minimal
  importer pays for the same proof, still without a projection, payload checks or the CSV;
- `parallel`: `facts` on two processes: a worker process (forked) builds and seals the members
  a thousand at a time, writes out their events' canonical texts but for what the ledger's head
  gives (number, recorded moment, link), and queues them, up to two transactions' worth ahead,
  so that it goes on while this one writes; this one numbers, links and writes them. What the
  same work gives when it uses a second core, paying for handing the members over (pickled
  through a pipe). On PostgreSQL the server's backend shares the two cores with both;
- `sealed-parallel`: `sealed` split the same way over two processes (building, sealing and the
  texts in the worker, numbering, linking and writing here, the hand-over paid as `parallel`
  pays it): what the issue's own lean design (one event a contact) with the privacy it asks for
  gives on both cores with this split.

Each prints rows/s (wall), rows per CPU-second of the writing process (with the two-process
variants' worker; and on PostgreSQL the server backend's CPU, read from /proc), bytes per contact
(database size / contacts), the process's peak memory (with the worker's added), and
the rows/s that its CPU (the server's included) would allow if it were split perfectly over
every core of the machine: a bound for this script's work as written (a leaner build of the
same bytes would raise it), not for every importer. To show how far above the unavoidable
work each variant's CPU is, a first line prints what the primitives of a sealed contact cost
alone, in µs a contact (its key and seals, blind index, JSON and chain link: `primitives`).

    python benchmarks/lean.py --rows 1000000 --store both
"""

from __future__ import annotations

import argparse
import binascii
import hashlib
import hmac
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from queue import Empty
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
#: The sealed variants' own tables (all but `store` and `python`): the points with their address
#: sealed, the data keys, and the events with their sealed part.
_SEALED_SCHEMA = (
    _SCHEMA[0].replace("NOT NULL, UNIQUE", "NOT NULL, value_ct {blob} NOT NULL, UNIQUE"),
    "CREATE TABLE data_keys (contact_ref VARCHAR(40) PRIMARY KEY, wrapped {blob} NOT NULL)",
    _SCHEMA[1].replace("payload {json} NOT NULL,", "payload {json} NOT NULL, sealed {blob} NOT NULL,"),
    _SCHEMA[2],
)
#: The payload's fields `sealed` and `sealed-parallel` keep sealed (personal data).
_PERSONAL = ("display_name", "ip", "source_fields")
_MASTER = AESGCM(b"lean-reference-master-key-32byte")
#: Contacts whose random bytes are drawn in one read of the random source (the product draws a
#: batch's keys and nonces at once too).
_DRAW_BATCH = 1000
#: Blocks a two-process variant's worker may have queued and not yet taken: two transactions' worth.
_AHEAD = 2 * COMMIT_ROWS // _DRAW_BATCH
_START = datetime(2023, 1, 1, tzinfo=UTC)
#: The sealed variants, each as (a member's events as the import writes them, not one event;
#: built and sealed by a forked worker, `_from_worker`).
_SEALED_VARIANTS = {
    "sealed": (False, False),
    "facts": (True, False),
    "parallel": (True, True),
    "sealed-parallel": (False, True),
}
#: Every variant, in the order `reference` runs them, with the label its line is printed under.
_LABELS = {
    "store": "writing only",
    "python": "+ JSON and chain in Python",
    "sealed": "+ a key a contact, sealed",
    "facts": "sealed, a member's events",
    "parallel": "the same on two processes",
    "sealed-parallel": "+ a key a contact, two processes",
}


def _payload(i: int) -> dict[str, Any]:
    """About 300 bytes of JSON, like an imported consent with its evidence."""
    ip = _ip(i)
    return {
        "purpose": "nieuwsbrief",
        "channels": ["email"],
        "method": "double_opt_in",
        "collection_point": "mailchimp",
        "ip": ip,
        "source_fields": {
            "OPTIN_TIME": "2023-05-17 10:15:00",
            "OPTIN_IP": ip,
            "CONFIRM_TIME": "2023-05-17 10:19:00",
            "LEID": str(100000 + i),
            "EUID": f"{i:010x}",
        },
        "display_name": "Sanne de Vries",
    }


def _split_payload(i: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Contact `i`'s payload (`_payload`) as its clear part and its personal part (`_PERSONAL`),
    which the sealed variants seal."""
    clear = _payload(i)
    return clear, {k: clear.pop(k) for k in _PERSONAL}


def _drawn_size(events: int) -> int:
    """A sealed contact's random bytes: its key, then a nonce for the key's wrapping, one for
    its address and one for each of its `events`."""
    return 32 + 12 * (2 + events)


def _ip(i: int) -> str:
    return f"198.51.{i % 256}.{i % 254 + 1}"


#: The clear parts of a member's registration and opt-in (`_member`).
_REGISTERED: dict[str, Any] = {
    "kind": "email",
    "role_address": False,
    "source": "import",
    "stated_basis": "consent",
    "tags": ["Klant"],
}
_OPTED_IN: dict[str, Any] = {
    "channels": ["email"],
    "collection_point": "mailchimp",
    "method": "double_opt_in",
    "purpose": "nieuwsbrief",
}


def _member(
    i: int, value: str, consent_id: str
) -> list[tuple[str, timedelta, dict[str, Any], dict[str, Any]]]:
    """The `facts` variant's events of member `i` (address `value`), as (type, time after its
    opt-in, the payload's clear part, its personal part): what the Mailchimp import proves of a
    member. Its registration (tags in clear; the address, name, attributes and source detail
    personal), its opt-in (the IP and the export's evidence columns personal) and, for four
    members in five, the confirmation of its double opt-in (the confirming IP personal)."""
    leid, ip, confirming_ip = str(100000 + i), _ip(i), _ip(i + 7)
    events = [
        (
            "contact_point.registered",
            timedelta(0),
            _REGISTERED,
            {
                "value": value,
                "display_name": "Sanne de Vries",
                "source_detail": f"mailchimp, LEID {leid}",
                "attributes": {"mailchimp.MEMBER_RATING": "4", "plaats": "Utrecht"},
            },
        ),
        (
            "consent.given",
            timedelta(0),
            _OPTED_IN,
            {
                "ip": ip,
                "source_fields": {
                    "OPTIN_TIME": "2023-05-17 10:15:00",
                    "OPTIN_IP": ip,
                    "CONFIRM_TIME": "2023-05-17 10:19:00",
                    "CONFIRM_IP": confirming_ip,
                    "LEID": leid,
                    "EUID": f"{i:010x}",
                    "LAST_CHANGED": "2024-06-01 10:00:00",
                },
            },
        ),
    ]
    if i % 5:
        events.append(
            (
                "consent.confirmed",
                timedelta(minutes=4),
                {"consent_event": consent_id, "purpose": "nieuwsbrief"},
                {"ip": confirming_ip},
            )
        )
    return events


#: The canonical JSON text: sorted keys, no spaces, UTF-8 as is (one encoder made once).
_json = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode


Row = tuple[Any, ...]


class _Chain:
    """The hash chain over the events' canonical text, one link an event: the fields the
    product's chain covers (`consentry.domain.chain.canonical`), in its order, the sealed part
    in base64 as there. `sqlite`: the rows carry the time as SQLite keeps it, ISO text.

    Most of an event's canonical text depends on the event alone (`_unnumbered`); its number, the
    moment it is recorded and its link depend on the ledger's head, which the product's writer
    reads once it holds the ledger's lock. So the sealed variants write out those parts where
    they build the event (in the two-process variants, the worker), and the writing process
    numbers the event, puts the number and its recorded moment in, and links it (`link`)."""

    def __init__(self, sqlite: bool) -> None:
        self.prev = "0" * 64
        self.seq = 0
        self.sqlite = sqlite
        self.recorded = datetime.now(UTC).isoformat().encode()  # one a run, as the product's a batch

    def link(self, event: Unnumbered) -> Row:
        """The event's row, numbered and linked to the one before."""
        head, middle, tail, unlinked = event
        self.seq += 1
        canon = b"".join((head, self.recorded, middle, str(self.seq).encode(), tail))
        h = hashlib.sha256(self.prev.encode() + canon).hexdigest()
        row: Row = (self.seq, *unlinked, self.prev, h)
        self.prev = h
        return row

    def event(self, eid: str, pid: str, kind: str, at: datetime, text: str, seal: bytes | None) -> Row:
        """The event's row, numbered and linked to the one before."""
        return self.link(_unnumbered(eid, pid, kind, at, text, seal, self.sqlite))


#: An event's canonical text (UTF-8) in the three parts around its recorded moment and its
#: number, and its row without its number and its two hashes (`_Chain.link` adds them).
Unnumbered = tuple[bytes, bytes, bytes, Row]


def _unnumbered(
    eid: str, pid: str, kind: str, at: datetime, text: str, seal: bytes | None, sqlite: bool
) -> Unnumbered:
    """What an event's canonical text and row are without the ledger's head (`_Chain`)."""
    at_text = at.isoformat()
    mid = "" if seal is None else f',"sealed":"{binascii.b2a_base64(seal, newline=False).decode()}"'
    head = f'{{"cp":"{pid}","id":"{eid}","occurred_at":"{at_text}","payload":{text},"recorded_at":"'
    tail = f',"type":"{kind}","v":1}}'
    stored = at_text if sqlite else at
    return (
        head.encode(),
        f'"{mid},"seq":'.encode(),
        tail.encode(),
        (eid, pid, kind, stored, text, *(() if seal is None else (seal,))),
    )


def _contact(i: int, mac: Any) -> tuple[str, str, bytes, datetime]:
    """Contact `i`'s point id, address, lookup (HMAC-SHA-256, 16 bytes) and first moment."""
    value = f"sanne.devries{i}@example.nl"
    m = mac.copy()
    m.update(value.encode())
    return f"cp{i:012d}", value, m.digest()[:16], _START + timedelta(seconds=i)


#: A sealed variant's member, all but what the ledger's head gives its events: (contact point
#: row, data key row, its events `_unnumbered`).
Built = tuple[Row, Row, list[Unnumbered]]


def _built(lo: int, hi: int, mac: Any, facts: bool, sqlite: bool) -> list[Built]:
    """Members `lo` to `hi` (excluded) of `sealed` or `facts`, their random bytes drawn at once:
    each one's key and its address and personal fields sealed with it, its events written out
    but for their numbers, recorded moments and links."""
    size = _drawn_size(3 if facts else 1)
    drawn = os.urandom((hi - lo) * size)
    block = []
    for i in range(lo, hi):
        pid, value, lookup, at = _contact(i, mac)
        mine = drawn[(i - lo) * size : (i - lo + 1) * size]
        key, nonces = mine[:32], [mine[o : o + 12] for o in range(32, size, 12)]
        cipher = AESGCM(key)
        key_row = (pid, nonces[0] + _MASTER.encrypt(nonces[0], key, pid.encode()))
        point = (
            pid,
            "email",
            lookup,
            pid,
            nonces[1] + cipher.encrypt(nonces[1], value.encode(), pid.encode()),
        )
        if facts:
            parts = _member(i, value, f"ev{i:012d}b")
        else:
            parts = [("consent.given", timedelta(0), *_split_payload(i))]
        events = []
        for (kind, later, clear, personal), nonce, letter in zip(
            parts, nonces[2 : 2 + len(parts)], "abc"[: len(parts)] if facts else [""], strict=True
        ):
            eid = f"ev{i:012d}{letter}"
            seal = nonce + cipher.encrypt(nonce, _json(personal).encode(), eid.encode())
            events.append(_unnumbered(eid, pid, kind, at + later, _json(clear), seal, sqlite))
        block.append((point, key_row, events))
    return block


def _blocks(n: int, mac: Any, facts: bool, sqlite: bool) -> Iterator[list[Built]]:
    """`_built` a block of `_DRAW_BATCH` members at a time, in this process."""
    for lo in range(0, n, _DRAW_BATCH):
        yield _built(lo, min(n, lo + _DRAW_BATCH), mac, facts, sqlite)


def _work(queue: Any, n: int, facts: bool, sqlite: bool) -> None:
    """A two-process variant's worker process: the blocks of `facts` (`parallel`) or of `sealed`
    (`sealed-parallel`) built and queued."""
    for block in _blocks(n, hmac.new(_SECRET, digestmod=hashlib.sha256), facts, sqlite):
        queue.put(block)
    queue.close()
    queue.join_thread()


def _from_worker(n: int, facts: bool, sqlite: bool) -> Iterator[list[Built]]:
    """The blocks of `facts` (or of `sealed`) built by a worker process (forked), in order, as they
    arrive. The worker may run two transactions' worth of members ahead (`_AHEAD`), so that it
    goes on while this process writes; a worker that ends early fails the run instead of leaving
    it waiting. It is a daemon: a run that fails here takes it down on leaving."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue(maxsize=_AHEAD)
    worker = context.Process(target=_work, args=(queue, n, facts, sqlite), daemon=True)
    worker.start()
    got = 0
    while got < n:
        try:
            block = queue.get(timeout=1.0)
        except Empty:
            if worker.is_alive():
                continue
            raise RuntimeError(
                f"the worker ended (exit code {worker.exitcode}) after {got:,} members"
            ) from None
        got += len(block)
        if got >= n:  # reaped before the last block is written, so its CPU is counted
            worker.join()
        yield block


def _rows(n: int, mac: Any, variant: str, sqlite: bool) -> Iterator[tuple[Row, list[Row], Row | None]]:
    """(contact point row, its event rows, data key row or None) per contact, the chain included;
    the sealed variants: each contact's address and personal fields sealed with a data key of its
    own; `facts` and `parallel`: a member's events as the import writes them (`_member`), not one;
    `parallel` and `sealed-parallel`: built, sealed and written out in a worker process, numbered
    and linked here."""
    chain = _Chain(sqlite)
    if variant not in _SEALED_VARIANTS:
        for i in range(n):
            pid, _, lookup, at = _contact(i, mac)
            event = chain.event(f"ev{i:012d}", pid, "consent.given", at, _json(_payload(i)), None)
            yield (pid, "email", lookup, pid), [event], None
        return
    facts, worker = _SEALED_VARIANTS[variant]
    blocks = _from_worker(n, facts, sqlite) if worker else _blocks(n, mac, facts, sqlite)
    for block in blocks:
        for point, key_row, events in block:
            yield point, [chain.link(event) for event in events], key_row


def _cpu() -> float:
    """CPU seconds of this process and of its children it has waited for (a two-process variant's
    worker, reaped before the last block is written)."""
    me, ended = (resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + ended.ru_utime + ended.ru_stime


def child(url: str, rows: int, variant: str) -> dict[str, Any]:
    """Create the lean schema at `url`, write `rows` contacts, return the figures."""
    if variant not in _LABELS:
        raise SystemExit(f"unknown variant {variant!r}: one of {', '.join(_LABELS)}")
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
    for ddl in _SEALED_SCHEMA if variant in _SEALED_VARIANTS else _SCHEMA:
        db.execute(ddl.format(**types))
    if not sqlite:
        db.commit()
    built = None if variant != "store" else list(_rows(rows, mac, variant, sqlite))
    server0 = backend_cpu(backend)
    cpu0, wall0 = _cpu(), time.perf_counter()
    source = iter(built) if built is not None else _rows(rows, mac, variant, sqlite)
    done = written_events = 0
    while done < rows:
        take = min(COMMIT_ROWS, rows - done)
        points, events, keys = [], [], []
        for _ in range(take):
            p, e, k = next(source)
            points.append(p)
            events.extend(e)
            if k is not None:
                keys.append(k)
        written_events += len(events)
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
    wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    server1 = backend_cpu(backend)
    if sqlite:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = sum(p.stat().st_size for p in (Path(path), Path(f"{path}-wal")) if p.exists())
    else:
        size = int(db.execute("SELECT pg_database_size(current_database())").fetchone()[0])
    db.close()
    return {
        "rows": rows,
        "sqlite": sqlite,
        "events": written_events,
        "wall": wall,
        "cpu": cpu,
        "server_cpu": None if server0 is None or server1 is None else server1 - server0,
        "bytes": size,
        # with the worker's added: an upper bound (the pages they share count twice)
        "peak_mb": sum(
            resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
        )
        / 1024,
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
    if fig["events"] != n:
        text += f"; {fig['events'] / n:.1f} events a contact"
    # the ceiling of a perfect split over every core: all the CPU it took, the server's included
    # (SQLite's is the process's own; a PostgreSQL server whose CPU could not be read is left out)
    cpus = os.cpu_count() or 1
    ceiling = cpus * n / (fig["cpu"] + (fig["server_cpu"] or 0.0))
    unread = " (the client's CPU alone)" if fig["server_cpu"] is None and not fig["sqlite"] else ""
    return (
        text + f"); {fig['bytes'] / n:,.0f} bytes a contact; peak {fig['peak_mb']:.0f} MB; "
        f"its CPU spread over all {cpus} CPUs{unread} at most {ceiling:,.0f} rows/s"
    )


def primitives(n: int = 100_000) -> str:
    """What the primitives of a sealed contact cost alone on this machine, in µs a contact, over
    `n` contacts in a loop: its data key wrapped, its cipher made and its address and personal
    fields sealed (AES-256-GCM: three seals and a key set up); its blind index (HMAC-SHA-256); its
    payload's canonical JSON, the clear part and the personal part; its chain link (SHA-256 over
    the previous hash and the `sealed` variant's canonical text of an event, numbered). The sealed
    variants pay these and more (their rows, ids, texts and the store). Set beside a variant's
    CPU a contact (its CPU-seconds over its contacts), it says how much of that is the work no
    build can avoid, so that a variant's bound is not read as the machine's."""
    mac = hmac.new(_SECRET, digestmod=hashlib.sha256)
    values = [_contact(i, mac)[1].encode() for i in range(n)]
    clear, personal = (list(parts) for parts in zip(*(_split_payload(i) for i in range(n)), strict=True))
    sealed_texts = [_json(p).encode() for p in personal]
    head, middle, tail, _ = _built(0, 1, mac, False, sqlite=False)[0][2][0]
    text = b"".join((head, datetime.now(UTC).isoformat().encode(), middle, b"1", tail))
    size = _drawn_size(1)
    drawn = os.urandom(n * size)

    def seal() -> None:
        for i in range(n):
            o = size * i
            key = drawn[o : o + 32]
            _MASTER.encrypt(drawn[o + 32 : o + 44], key, b"cp")
            cipher = AESGCM(key)
            cipher.encrypt(drawn[o + 44 : o + 56], values[i], b"cp")
            cipher.encrypt(drawn[o + 56 : o + 68], sealed_texts[i], b"ev")

    def blind() -> None:
        for value in values:
            m = mac.copy()
            m.update(value)
            m.digest()

    def texts() -> None:
        for i in range(n):
            _json(clear[i])
            _json(personal[i])

    def link() -> None:
        prev = b"0" * 64
        for _ in range(n):
            prev = hashlib.sha256(prev + text).hexdigest().encode()

    spent = []
    for step in (seal, blind, texts, link):
        t0 = time.process_time()
        step()
        spent.append((time.process_time() - t0) / n * 1e6)
    return (
        f"a sealed contact's primitives alone ({n:,} in a loop): key and seals {spent[0]:.1f} µs, "
        f"blind index {spent[1]:.1f}, JSON {spent[2]:.1f}, chain link {spent[3]:.1f}; "
        f"{sum(spent):.1f} µs in all"
    )


def reference(store: str, rows: int, tmp: Path) -> list[str]:
    """The lean reference's lines for one store ("sqlite" or "postgresql"), every variant."""
    lines = []
    for variant, label in _LABELS.items():
        if store == "sqlite":
            db = tmp / f"lean-{variant}.db"
            for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                p.unlink(missing_ok=True)
            fig = measure(f"sqlite:///{db}", rows, variant)
        else:
            with scratch_database(LEAN_DB) as url:
                fig = None if url is None else measure(url, rows, variant)
        if fig is not None:
            lines.append(describe(f"lean reference, {label:33}", fig))
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
    print(primitives())
    with tempfile.TemporaryDirectory() as tmp:
        for store in ("sqlite", "postgresql"):
            if args.store in (store, "both"):
                print(store)
                for line in reference(store, args.rows, Path(tmp)):
                    print(f"  {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
