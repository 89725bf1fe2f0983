"""Proofs a third party checks without the database: one event is in a checkpoint, one
checkpoint extends another.

An inclusion proof carries the event's canonical form (the bytes its chain hash
covers), the previous chain hash, the audit path and the signed checkpoint. A
consistency proof carries two signed checkpoints and the path between them.
`check` needs nothing but the proof and the public key; docs/ledger.md spells out
the same steps for anyone who wants to write their own verifier.
"""

from __future__ import annotations

import json
from typing import Any

from consentry.adapters.signing import PublicKey
from consentry.domain.chain import chain_hash
from consentry.domain.checkpoint import Checkpoint, CheckpointFormatError, from_json
from consentry.domain.merkle import (
    ProofError,
    check_consistency,
    check_inclusion,
    consistency_path,
    inclusion_path,
    leaf_of_chain_hash,
    root_of,
)
from consentry.services.app import App
from consentry.services.checkpoints import CheckpointRefused
from consentry.services.errors import InputError

INCLUSION = "consentry-inclusion-proof"
CONSISTENCY = "consentry-consistency-proof"


def _leaves(app: App, size: int) -> list[bytes]:
    with app.store.reader() as r:
        leaves = [leaf_of_chain_hash(h) for _, h in r.chain_hashes(size)]
    if len(leaves) < size:
        raise CheckpointRefused(f"the ledger has {len(leaves)} events, fewer than the checkpoint's {size}")
    return leaves


def _matching(leaves: list[bytes], cp: Checkpoint) -> None:
    if root_of(leaves[: cp.size]).hex() != cp.root:
        raise CheckpointRefused(
            f"the ledger no longer matches checkpoint #{cp.size}: run `consentry ledger verify --checkpoint`"
        )


def inclusion(app: App, event_id: str, cp: Checkpoint) -> dict[str, Any]:
    """The proof that event `event_id` is among the events checkpoint `cp` covers."""
    with app.store.reader() as r:
        row = r.event_by_id(event_id)
    if row is None:
        raise InputError("event", f"no event {event_id!r} in the ledger")
    if row.seq > cp.size:
        raise InputError(
            "event",
            f"event {event_id} is at seq {row.seq}, after checkpoint #{cp.size}: make a newer checkpoint",
        )
    leaves = _leaves(app, cp.size)
    _matching(leaves, cp)
    return {
        "format": INCLUSION,
        "v": 1,
        "checkpoint": cp.to_json(),
        "seq": row.seq,
        "event_id": row.event.id,
        "canonical": row.canonical().decode(),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "path": [p.hex() for p in inclusion_path(leaves, row.seq - 1, cp.size)],
    }


def consistency(app: App, old: Checkpoint, new: Checkpoint) -> dict[str, Any]:
    """The proof that checkpoint `new` covers the very events `old` covers, and maybe more."""
    if old.size > new.size:
        old, new = new, old
    leaves = _leaves(app, new.size)
    _matching(leaves, old)
    _matching(leaves, new)
    return {
        "format": CONSISTENCY,
        "v": 1,
        "old": old.to_json(),
        "new": new.to_json(),
        "path": [p.hex() for p in consistency_path(leaves, old.size, new.size)],
    }


def _signed(data: Any, key: PublicKey, what: str) -> Checkpoint:
    try:
        cp = from_json(data, what)
    except CheckpointFormatError as exc:
        raise ProofError(str(exc)) from None
    try:
        signature = cp.signature_bytes()
    except ValueError:
        signature = b""
    if not key.verifies(cp.signed_bytes(), signature):
        raise ProofError(f"{what}: the signature does not verify with key {key.id}")
    return cp


def _hashes(values: Any) -> list[bytes]:
    if not isinstance(values, list):
        raise ProofError("path: not a list of hashes")
    try:
        return [bytes.fromhex(v) for v in values]
    except (TypeError, ValueError):
        raise ProofError("path: a hash is not hex") from None


def check(text: str, key: PublicKey) -> str:
    """Check a proof (JSON text) with nothing but the public key: a sentence, or ProofError."""
    try:
        proof = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProofError(f"not JSON: {exc.msg}") from None
    if not isinstance(proof, dict) or proof.get("v") != 1:
        raise ProofError("not a consentry proof (version 1)")
    if proof.get("format") == INCLUSION:
        return _check_inclusion(proof, key)
    if proof.get("format") == CONSISTENCY:
        return _check_consistency(proof, key)
    raise ProofError(f"unknown proof format {proof.get('format')!r}")


def _check_inclusion(proof: dict[str, Any], key: PublicKey) -> str:
    cp = _signed(proof.get("checkpoint"), key, "checkpoint")
    seq, form = proof.get("seq"), proof.get("canonical")
    prev, stated = proof.get("prev_hash"), proof.get("hash")
    if not isinstance(seq, int) or not all(isinstance(v, str) for v in (form, prev, stated)):
        raise ProofError("seq, canonical, prev_hash or hash missing")
    assert isinstance(form, str) and isinstance(prev, str) and isinstance(stated, str)
    try:
        stated_seq = json.loads(form).get("seq")
    except (json.JSONDecodeError, AttributeError):
        raise ProofError("the event's canonical form is not a JSON object") from None
    if stated_seq != seq:
        raise ProofError("the event's canonical form is for another seq")
    if chain_hash(prev, form.encode()) != stated:
        raise ProofError("the event's canonical form does not hash to its chain hash")
    path = _hashes(proof.get("path"))
    check_inclusion(leaf_of_chain_hash(stated), seq - 1, cp.size, path, bytes.fromhex(cp.root))
    return (
        f"event {proof.get('event_id')} (seq {seq}) is in checkpoint #{cp.size} "
        f"of {cp.time.isoformat()}, signed by key {key.id}"
    )


def _check_consistency(proof: dict[str, Any], key: PublicKey) -> str:
    old = _signed(proof.get("old"), key, "old checkpoint")
    new = _signed(proof.get("new"), key, "new checkpoint")
    if old.origin != new.origin:
        raise ProofError(f"the checkpoints are of two ledgers ({old.origin!r}, {new.origin!r})")
    path = _hashes(proof.get("path"))
    check_consistency(old.size, bytes.fromhex(old.root), new.size, bytes.fromhex(new.root), path)
    return (
        f"checkpoint #{new.size} of {new.time.isoformat()} holds the {old.size} events of "
        f"checkpoint #{old.size} of {old.time.isoformat()} unchanged"
    )
