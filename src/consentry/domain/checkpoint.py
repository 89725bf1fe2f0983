"""Checkpoints: the ledger's head and Merkle root at one moment, signed outside the database.

A checkpoint says "the ledger had `size` events, the last one's chain hash was `head`
and the Merkle tree of their chain hashes had `root`, at `time`". What is signed is
`signed_bytes()`: the canonical JSON of those fields, the origin (which ledger) and the
format version. The signature and the signing key's id travel beside it; checking
the signature needs a key (see adapters/signing.py), checking the rest does not.

Version 2 also signs the admin audit log's head (`audit`: its number of entries and the last
entry's hash, `domain/audit_chain.py`), so a rewritten or truncated audit log fails the
checkpoint like a rewritten ledger. A version 1 checkpoint (signed before the audit log was
chained) has no `audit` and is signed and checked exactly as before.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

VERSION = 2
#: The versions read: 1 (the ledger alone) and 2 (with the audit log's head).
VERSIONS = (1, 2)
FORMAT = "consentry-checkpoint"


class CheckpointFormatError(ValueError):
    """A checkpoint or proof file that cannot be read."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One signed statement of the ledger's size, head hash and Merkle root."""

    origin: str
    size: int
    head: str
    root: str
    time: datetime
    key_id: str = ""
    signature: str = ""
    #: The admin audit log's head when signed: (entries, last entry's hash); None in version 1.
    audit: tuple[int, str] | None = None

    @property
    def version(self) -> int:
        """2 when the checkpoint signs the audit log's head, 1 when it does not."""
        return 1 if self.audit is None else VERSION

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "format": FORMAT,
            "v": self.version,
            "origin": self.origin,
            "size": self.size,
            "head": self.head,
            "root": self.root,
            "time": self.time.isoformat(),
        }
        if self.audit is not None:
            body["audit"] = {"head": self.audit[1], "size": self.audit[0]}
        return body

    def signed_bytes(self) -> bytes:
        """The exact bytes the signature covers."""
        return json.dumps(self._body(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def signature_bytes(self) -> bytes:
        """The signature, decoded."""
        return base64.b64decode(self.signature)

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as written to a file, a webhook or an e-mail."""
        return {**self._body(), "key_id": self.key_id, "signature": self.signature}

    def line(self) -> str:
        """One JSON line (checkpoint files are JSON lines, appended to): `format` first, so that a
        line is recognised at a glance (and in a mail), then the other keys sorted."""
        data = self.to_json()
        ordered = {"format": data.pop("format"), **dict(sorted(data.items()))}
        return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)


def from_json(data: Any, where: str = "checkpoint") -> Checkpoint:
    """Read a checkpoint written by `Checkpoint.to_json`; a clear error says what is wrong."""
    if not isinstance(data, dict):
        raise CheckpointFormatError(f"{where}: not a JSON object")
    if data.get("format") != FORMAT or data.get("v") not in VERSIONS:
        raise CheckpointFormatError(f"{where}: not a {FORMAT} version {' or '.join(map(str, VERSIONS))}")
    try:
        audit = None
        if data["v"] >= 2:
            audit = (int(data["audit"]["size"]), str(data["audit"]["head"]))
        cp = Checkpoint(
            origin=str(data["origin"]),
            size=int(data["size"]),
            head=str(data["head"]),
            root=str(data["root"]),
            time=datetime.fromisoformat(str(data["time"])),
            key_id=str(data.get("key_id", "")),
            signature=str(data.get("signature", "")),
            audit=audit,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointFormatError(f"{where}: missing or bad field ({exc})") from None
    if cp.size < 0 or len(cp.head) != 64 or len(cp.root) != 64:
        raise CheckpointFormatError(f"{where}: size, head or root out of form")
    if cp.audit is not None and (cp.audit[0] < 0 or len(cp.audit[1]) != 64):
        raise CheckpointFormatError(f"{where}: the audit log's size or head out of form")
    return cp


def read_lines(text: str, name: str) -> list[Checkpoint]:
    """Every checkpoint in a file: one JSON object, or JSON lines (a checkpoint log)."""
    stripped = text.strip()
    if not stripped:
        raise CheckpointFormatError(f"{name}: empty, no checkpoint in it")
    if stripped.startswith("{") and "\n" in stripped:
        try:
            return [from_json(json.loads(stripped), name)]
        except json.JSONDecodeError:
            pass  # not one (pretty-printed) object: JSON lines
    found: list[Checkpoint] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CheckpointFormatError(f"{name}, line {n}: not JSON ({exc.msg})") from None
        found.append(from_json(data, f"{name}, line {n}"))
    return found
