"""The hash chain that makes the ledger tamper-evident.

Each event's hash covers its sequence number, its content and the previous
event's hash, so an edited, removed, inserted or reordered event breaks every
link after it. The canonical form is sorted-key compact JSON, identical on
every store.

The chain covers the events as stored: the clear payload, and the personal fields sealed
(encrypted under the contact's data key) as `sealed`, in base64 in its sorted place. So the
chain verifies without any key, also after a contact's key is destroyed (crypto-shredded);
an event without personal fields has no `sealed` key and hashes as before it existed.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from consentry.domain.events import Event

GENESIS = "0" * 64
#: What a new chain epoch's genesis hashes before the previous chain's head (see `epoch_genesis`).
EPOCH_PREFIX = "consentry-chain-v2:"


def epoch_genesis(previous_head_hash: str) -> str:
    """The `prev_hash` of the first event of a chain that continues an earlier one.

    When the storage upgrade rewrote the chain (storage v2 seals the personal fields, so
    every event's stored form changed), the new chain starts from this hash of the old
    chain's head: the new chain commits to the old one, and the old head printed or
    signed before the upgrade proves the continuity (docs/ledger.md).
    """
    return hashlib.sha256((EPOCH_PREFIX + previous_head_hash).encode("ascii")).hexdigest()


def _payload_encoder() -> Callable[[object], str]:
    """`json`'s own C encoder with the canonical options, called directly.

    `JSONEncoder.encode` reaches the same C encoder through two Python calls and a fresh
    circular-reference memo per payload; a payload comes from JSON, so it cannot hold
    itself. Without the C encoder (an interpreter built without `_json`) the encoder
    object is used: the same text either way.
    """
    encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    make: Any = getattr(json.encoder, "c_make_encoder", None)  # not in typeshed
    if make is None:  # pragma: no cover - CPython has it
        return encoder.encode
    chunks = make(None, encoder.default, json.encoder.encode_basestring, None, ":", ",", True, False, True)
    join = "".join

    def encode(payload: object) -> str:
        text: str = join(chunks(payload, 0))
        return text

    return encode


#: The canonical JSON of a payload: sorted keys, no spaces, UTF-8 kept. The encoder itself, not
#: a function calling it: the writer writes one an event.
payload_json: Callable[[object], str] = _payload_encoder()


def canonical(
    event: Event,
    seq: int,
    payload_text: str | None = None,
    recorded_text: str | None = None,
    sealed: bytes | bytearray | None = None,
    occurred_text: str | None = None,
) -> bytes:
    """The exact bytes that are hashed for an event at position `seq`.

    It is the canonical JSON of {cp, id, occurred_at, payload, recorded_at, sealed, seq,
    type, v}, written out in that (sorted) key order so the payload's JSON can be
    reused for storage instead of being encoded twice (and a batch's one
    `recorded_at` written out once). `event.payload` is the clear payload as stored;
    `sealed` (the stored ciphertext of the personal fields) is left out when None.
    `occurred_text`, when given, is `iso(event.occurred_at)` (the writer makes it
    once for the chain and the stored time).
    """
    if payload_text is None:
        payload_text = payload_json(event.payload)
    if recorded_text is None:
        recorded_text = iso(event.recorded_at)
    if occurred_text is None:
        occurred_text = iso(event.occurred_at)
    quoted_type = _QUOTED_TYPES.get(event.type)
    if quoted_type is None:
        quoted_type = _QUOTED_TYPES[event.type] = quote(event.type)
    # `base64.b64encode` is this call, made through a Python function an event.
    mid = "" if sealed is None else f',"sealed":"{binascii.b2a_base64(sealed, newline=False).decode()}"'
    # The two ids as `quote` writes them, its test made here instead of in two calls: an id
    # needs no escaping (one that does is escaped by `quote`, its quotes put back below).
    cp, eid = event.contact_point_id, event.id
    if not (cp.isprintable() and '"' not in cp and "\\" not in cp):
        cp = quote(cp)[1:-1]
    if not (eid.isprintable() and '"' not in eid and "\\" not in eid):
        eid = quote(eid)[1:-1]
    return (
        f'{{"cp":"{cp}","id":"{eid}","occurred_at":"{occurred_text}",'
        f'"payload":{payload_text},"recorded_at":"{recorded_text}"{mid},"seq":{seq},'
        f'"type":{quoted_type},"v":{event.schema_version}}}'
    ).encode()


#: Event type names as JSON strings (a handful of names, quoted once each).
_QUOTED_TYPES: dict[str, str] = {}


def quote(s: str) -> str:
    """A JSON string literal; ids and type names need no escaping, so skip the encoder.

    JSON (with UTF-8 kept) escapes only quotes, backslashes and control characters; a
    printable string without quotes or backslashes has none of them.
    """
    if s.isprintable() and '"' not in s and "\\" not in s:
        return f'"{s}"'
    return json.dumps(s, ensure_ascii=False)


#: The numbers 0-99 written with two digits (`iso`).
_TWO_DIGITS = tuple(f"{i:02d}" for i in range(100))


def iso(moment: datetime) -> str:
    """`moment.isoformat()`, the text the chain hashes, written out from its fields for a moment
    in UTC (how the clock and `parse_moment` give them) in years 1000-9999.

    `isoformat` writes through `printf` (11,000 instructions a call against about 6,000
    here): one an appended event, two a verified one. Any other moment by `isoformat`.
    """
    if moment.tzinfo is not UTC or type(moment) is not datetime or moment.year < 1000:
        return moment.isoformat()
    two = _TWO_DIGITS
    text = (
        f"{moment.year}-{two[moment.month]}-{two[moment.day]}"
        f"T{two[moment.hour]}:{two[moment.minute]}:{two[moment.second]}"
    )
    micro = moment.microsecond
    return f"{text}+00:00" if not micro else f"{text}.{micro:06d}+00:00"


def link(
    prev_hash: str,
    event: Event,
    seq: int,
    payload_text: str | None = None,
    recorded_text: str | None = None,
    sealed: bytes | bytearray | None = None,
    occurred_text: str | None = None,
) -> str:
    """Hash of an event (as stored: clear payload and sealed bytes) chained to its predecessor's hash."""
    form = canonical(event, seq, payload_text, recorded_text, sealed, occurred_text)
    return _sha256(prev_hash.encode("ascii") + form).hexdigest()  # `chain_hash`, one call less an event


def chain_hash(prev_hash: str, canonical_form: bytes) -> str:
    """The hash of an event's canonical form chained to its predecessor's hash."""
    return _sha256(prev_hash.encode("ascii") + canonical_form).hexdigest()


_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class ChainEpoch:
    """Where the chain was started anew, continuing an earlier chain: that chain's head.

    The first event of the epoch (`first_seq`) carries `genesis` as its previous hash,
    which commits to the earlier chain's head (`previous_head_seq`, `previous_head_hash`).
    """

    epoch: int
    first_seq: int
    previous_head_seq: int
    previous_head_hash: str
    started_at: datetime

    @property
    def genesis(self) -> str:
        """The previous hash the epoch's first event carries."""
        return epoch_genesis(self.previous_head_hash)


@dataclass(frozen=True, slots=True)
class ChainedRow:
    """An event as stored: with its position and the hashes around it.

    `event` carries the clear payload as stored; its personal fields are in `sealed`
    (None when it has none), as the chain hashes them.
    """

    seq: int
    event: Event
    prev_hash: str
    hash: str
    sealed: bytes | None = None

    def canonical(self) -> bytes:
        """The bytes whose hash, chained to `prev_hash`, is `hash`."""
        return canonical(self.event, self.seq, sealed=self.sealed)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One break in the chain, located by sequence number."""

    seq: int
    event_id: str
    problem: str


def verify(
    rows: Iterable[ChainedRow], head: tuple[int, str] | None, genesis: str = GENESIS
) -> list[ChainProblem]:
    """Walk stored rows in order and report every break; `head` is the recorded tip.

    `genesis` is the `prev_hash` the first event must carry: `GENESIS`, or for a chain
    that continues an earlier one the `epoch_genesis` of that chain's recorded head.
    """
    problems: list[ChainProblem] = []
    expected_prev = genesis
    expected_seq = 1
    last: tuple[int, str] = (0, genesis)
    for row in rows:
        if row.seq != expected_seq:
            problems.append(
                ChainProblem(row.seq, row.event.id, f"expected seq {expected_seq}: events missing")
            )
        if row.prev_hash != expected_prev:
            problems.append(
                ChainProblem(row.seq, row.event.id, "previous-hash does not match: removed or reordered")
            )
        actual = chain_hash(row.prev_hash, row.canonical())
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
