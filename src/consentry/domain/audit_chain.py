"""The hash chain of the admin audit log: who did what in the admin app, tamper-evident.

The audit log lives in the database beside the ledger, so whoever can write to the database
could rewrite it: drop the erasure a user did, change who did it. Each entry therefore carries
a hash over its canonical content and the previous entry's hash, like the ledger's events
(`domain/chain.py`), and the head (the last entry's number and hash) is kept apart and signed
in checkpoints. An edited, removed, inserted or reordered entry breaks every link after it;
`consentry ledger verify` walks the chain and names the first entry of each break.

The canonical form is sorted-key compact JSON of {action, actor, at (UTC, ISO 8601), detail,
seq, subject}: what the stored row says, with nothing the store adds (its id) and nothing a
store keeps differently (key order in JSON, time zones).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from consentry.domain.chain import payload_json

GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One stored audit entry as the chain sees it: raw fields, its place and its hashes."""

    seq: int
    id: int
    at: datetime
    actor: str | None
    action: str
    subject: str | None
    detail: Any
    prev_hash: str
    hash: str

    def canonical(self) -> bytes:
        """The bytes whose hash, chained to `prev_hash`, is `hash`."""
        return canonical(self.seq, self.at, self.actor, self.action, self.subject, self.detail)

    def name(self) -> str:
        """How a report names the entry: its number, what was done and when."""
        return f"audit entry #{self.seq} (id {self.id}, {self.action} at {self.at.isoformat()})"


def canonical(
    seq: int, at: datetime, actor: str | None, action: str, subject: str | None, detail: Any
) -> bytes:
    """The exact bytes hashed for an audit entry at place `seq`."""
    body = {
        "action": action,
        "actor": actor,
        "at": at.astimezone(UTC).isoformat(),
        "detail": detail,
        "seq": seq,
        "subject": subject,
    }
    return payload_json(body).encode()


def link(prev_hash: str, canonical_form: bytes) -> str:
    """An entry's hash: its canonical form chained to the previous entry's hash."""
    h = hashlib.sha256(prev_hash.encode("ascii"))
    h.update(canonical_form)
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class AuditProblem:
    """One break in the audit log's chain, located by entry number."""

    seq: int
    where: str
    problem: str


def verify(rows: Iterable[AuditRow], head: tuple[int, str] | None) -> list[AuditProblem]:
    """Walk the stored entries in order of `seq` and report every break; `head` is the recorded tip.

    None for `head` means its row is gone, which is itself reported.
    """
    problems: list[AuditProblem] = []
    expected_prev, expected_seq = GENESIS, 1
    last: tuple[int, str] = (0, GENESIS)
    for row in rows:
        if row.seq != expected_seq:
            gap = "entries missing" if row.seq > expected_seq else "an entry inserted or renumbered"
            problems.append(AuditProblem(row.seq, row.name(), f"expected #{expected_seq}: {gap}"))
        if row.prev_hash != expected_prev:
            problems.append(
                AuditProblem(
                    row.seq, row.name(), "previous-hash does not match: an entry removed or reordered"
                )
            )
        if link(row.prev_hash, row.canonical()) != row.hash:
            problems.append(AuditProblem(row.seq, row.name(), "content does not match its hash: edited"))
        expected_prev, expected_seq = row.hash, row.seq + 1
        last = (row.seq, row.hash)
    if head is None:
        problems.append(
            AuditProblem(last[0], "the audit log's head", "is missing: removed from the database")
        )
    elif head != last:
        problems.append(
            AuditProblem(
                last[0],
                "the audit log's head",
                f"says #{head[0]}, the last entry is #{last[0]}: entries after #{last[0]} were removed "
                "or the head was changed",
            )
        )
    return problems
