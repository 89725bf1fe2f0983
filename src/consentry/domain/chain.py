"""The hash chain that makes the ledger tamper-evident.

Each event's hash covers its sequence number, its content and the previous
event's hash, so an edited, removed, inserted or reordered event breaks every
link after it. The canonical form is sorted-key compact JSON, identical on
every store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from consentry.domain.events import Event

GENESIS = "0" * 64


def canonical(event: Event, seq: int) -> bytes:
    """The exact bytes that are hashed for an event at position `seq`."""
    doc = {
        "seq": seq,
        "id": event.id,
        "type": event.type,
        "cp": event.contact_point_id,
        "occurred_at": event.occurred_at.isoformat(),
        "recorded_at": event.recorded_at.isoformat(),
        "v": event.schema_version,
        "payload": event.payload,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(prev_hash: str, event: Event, seq: int) -> str:
    """Hash of an event chained to its predecessor's hash."""
    h = hashlib.sha256(prev_hash.encode("ascii"))
    h.update(canonical(event, seq))
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class ChainedRow:
    """An event as stored: with its position and the hashes around it."""

    seq: int
    event: Event
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One break in the chain, located by sequence number."""

    seq: int
    event_id: str
    problem: str


def verify(rows: Iterable[ChainedRow], head: tuple[int, str] | None) -> list[ChainProblem]:
    """Walk stored rows in order and report every break; `head` is the recorded tip."""
    problems: list[ChainProblem] = []
    expected_prev = GENESIS
    expected_seq = 1
    last: tuple[int, str] = (0, GENESIS)
    for row in rows:
        if row.seq != expected_seq:
            problems.append(
                ChainProblem(row.seq, row.event.id, f"expected seq {expected_seq}: events missing")
            )
        if row.prev_hash != expected_prev:
            problems.append(
                ChainProblem(row.seq, row.event.id, "previous-hash does not match: removed or reordered")
            )
        actual = link(row.prev_hash, row.event, row.seq)
        if actual != row.hash:
            problems.append(ChainProblem(row.seq, row.event.id, "content does not match its hash: edited"))
        expected_prev = row.hash
        expected_seq = row.seq + 1
        last = (row.seq, row.hash)
    if head is not None and head != last:
        problems.append(
            ChainProblem(
                last[0],
                "-",
                f"ledger head says seq {head[0]}; events after seq {last[0]} are missing",
            )
        )
    return problems
