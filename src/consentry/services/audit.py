"""Holding the ledger against signed checkpoints, and the projections against the ledger.

The hash chain alone proves only that the stored events agree with each other:
whoever can write to the database can delete the tail, or remove one objection and
recompute every hash after it, and the chain is whole again. A checkpoint signed
with a key the database never held pins the first `size` events; the Merkle root
of their stored chain hashes must still come out as it was signed.

The projections (`contact_state`, `point_facts`) are what decisions, audiences and
exports read; an edit there changes answers without touching the ledger, so they
are folded again from the ledger and compared column by column.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from consentry.adapters.signing import PublicKey
from consentry.domain.chain import ChainEpoch
from consentry.domain.checkpoint import Checkpoint
from consentry.domain.fold import fold
from consentry.domain.merkle import Frontier, leaf_of_chain_hash
from consentry.services.app import App
from consentry.services.states import with_person, with_prior_suppression


@dataclass(frozen=True, slots=True)
class CheckpointReport:
    """How many checkpoints were held against the ledger, and what failed."""

    checked: int
    events: int
    problems: list[str]
    #: What checkpoints of an earlier chain (before the storage upgrade) say about it.
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the ledger holds every checkpoint unchanged."""
        return not self.problems


def _name(cp: Checkpoint) -> str:
    return f"checkpoint #{cp.size} of {cp.time.isoformat()}"


def _signature_problem(app: App, cp: Checkpoint, key: PublicKey) -> str | None:
    if cp.key_id and cp.key_id != key.id:
        return f"{_name(cp)} was signed by key {cp.key_id}, not by the given key {key.id}"
    try:
        signature = cp.signature_bytes()
    except ValueError:
        signature = b""
    if not key.verifies(cp.signed_bytes(), signature):
        return f"{_name(cp)}: the signature does not verify: the checkpoint was forged or altered"
    if cp.origin != app.settings.checkpoint_origin:
        return f"{_name(cp)} is for ledger {cp.origin!r}, this one is {app.settings.checkpoint_origin!r}"
    return None


def verify_checkpoints(app: App, checkpoints: Sequence[Checkpoint], key: PublicKey) -> CheckpointReport:
    """Prove the ledger still holds, unchanged, every event each checkpoint covers."""
    problems: list[str] = []
    trusted: list[Checkpoint] = []
    for cp in checkpoints:
        problem = _signature_problem(app, cp, key)
        if problem:
            problems.append(problem)
        else:
            trusted.append(cp)
    with app.store.reader() as r:
        epoch = r.chain_epoch()
    notes: list[str] = []
    if epoch is not None:
        earlier = [cp for cp in trusted if cp.time < epoch.started_at]
        trusted = [cp for cp in trusted if cp.time >= epoch.started_at]
        problems.extend(_earlier_chain(earlier, epoch, notes))
    wanted: dict[int, list[Checkpoint]] = {}
    for cp in trusted:
        wanted.setdefault(cp.size, []).append(cp)
    frontier = Frontier()
    roots: dict[int, tuple[str, str]] = {0: (frontier.root().hex(), "0" * 64)}
    upto = max(wanted, default=0)
    with app.store.reader() as r:
        for _, h in r.chain_hashes(upto):
            frontier.append(leaf_of_chain_hash(h))
            if frontier.size in wanted:
                roots[frontier.size] = (frontier.root().hex(), h)
        total = r.head()[0]
        events = frontier.size
    matched = 0  # the largest checkpoint size that still matches
    for cp in sorted(trusted, key=lambda c: c.size):
        if cp.size > events:
            if events == 0:
                problems.append(
                    f"{_name(cp)} covers {cp.size} events but the ledger has none (head at seq {total}): "
                    "the ledger was wiped"
                )
            else:
                problems.append(
                    f"{_name(cp)} covers {cp.size} events but the ledger has {events} (head at seq {total}): "
                    f"events after seq {events} were deleted (truncated)"
                )
            continue
        root, head = roots[cp.size]
        if (root, head) == (cp.root, cp.head if cp.size else "0" * 64):
            matched = max(matched, cp.size)
            continue
        where = f"seq {matched + 1}-{cp.size}" if matched else f"seq 1-{cp.size}"
        problems.append(
            f"{_name(cp)}: the ledger's first {cp.size} events differ from what was signed: "
            f"events in {where} were changed, removed or inserted and the chain recomputed"
        )
    problems.extend(_audit_log_problems(app, trusted))
    return CheckpointReport(len(checkpoints), events, problems, notes)


def _audit_log_problems(app: App, checkpoints: Sequence[Checkpoint]) -> list[str]:
    """Hold the admin audit log against the heads signed in (version 2) checkpoints.

    Its chain (`integrity.verify_audit_log`) shows an entry edited in place; a signed head
    shows what the chain cannot: entries removed from the end, or the log rewritten with
    every hash after the change recomputed.
    """
    problems: list[str] = []
    with app.store.reader() as r:
        for cp in sorted((c for c in checkpoints if c.audit is not None), key=lambda c: c.audit or (0, "")):
            assert cp.audit is not None
            size, head = cp.audit
            if size == 0:
                continue
            stored = r.audit_log_hash_at(size)
            if stored is None:
                problems.append(
                    f"{_name(cp)} signed {size} admin audit entries but entry #{size} is gone: "
                    "audit entries were deleted"
                )
            elif stored != head:
                problems.append(
                    f"{_name(cp)}: the admin audit log's first {size} entries differ from what was signed: "
                    f"entries up to #{size} were changed, removed or inserted and the chain recomputed"
                )
    return problems


def _earlier_chain(checkpoints: Sequence[Checkpoint], epoch: ChainEpoch, notes: list[str]) -> list[str]:
    """Hold checkpoints signed before the chain was started anew against the head it recorded.

    The earlier chain's hashes are gone (the upgrade rewrote every event's stored form); what
    remains is its head, which the new chain's first link commits to. A checkpoint of that
    head proves the continuity; an earlier one covers a prefix of it (nothing to hold it
    against any more); one that covers more events than the head, or the same number with
    another hash, shows that the chain was changed before the upgrade.
    """
    problems: list[str] = []
    seq, head = epoch.previous_head_seq, epoch.previous_head_hash
    for cp in sorted(checkpoints, key=lambda c: c.size):
        if cp.size > seq:
            problems.append(
                f"{_name(cp)} covers {cp.size} events, but the chain upgraded on "
                f"{epoch.started_at.isoformat()} ended at seq {seq}: events were removed before the upgrade"
            )
        elif cp.size == seq and cp.head != head:
            problems.append(
                f"{_name(cp)} signed head {cp.head} at seq {seq}, but the upgrade recorded {head}: "
                "the chain was changed before the upgrade"
            )
        elif cp.size == seq:
            notes.append(
                f"{_name(cp)} signed the head of the chain before epoch {epoch.epoch} (seq {seq}, {head}): "
                "the new chain continues it"
            )
        else:
            notes.append(f"{_name(cp)} covers the chain before epoch {epoch.epoch} up to seq {cp.size}")
    return problems


@dataclass(frozen=True, slots=True)
class ProjectionReport:
    """How many contact points were folded again, and where their stored projection differs."""

    checked: int
    of: int
    differences: list[str]

    @property
    def ok(self) -> bool:
        """True when every checked projection row equals the fold of its ledger."""
        return not self.differences


def verify_projection(app: App, sample: int | None = None, seed: int | None = None) -> ProjectionReport:
    """Fold contact points again from the ledger (all, or `sample` at random) and compare their rows."""
    differences: list[str] = []
    with app.store.reader() as r:
        ids = r.point_ids()
        known = set(ids)
        differences.extend(
            f"{pid}: has projection rows but is not a contact point in the ledger"
            for pid in sorted(r.projected_ids() - known)
        )
        chosen = ids if sample is None or sample >= len(ids) else random.Random(seed).sample(ids, sample)
        for i in range(0, len(chosen), 500):
            part = chosen[i : i + 500]
            events = r.events_for_many(part)
            states = with_prior_suppression(r, [fold(pid, events.get(pid, [])) for pid in part])
            # The objections of the other points of each person, as the audience judges them.
            states = list(with_person(r, {s.id: s for s in states}).values())
            by_point: dict[str, list[tuple[str, str, object, object]]] = {}
            for pid, table, column, stored, folded in r.projection_differences(states):
                by_point.setdefault(pid, []).append((table, column, stored, folded))
            for pid, found in by_point.items():
                differences.append(_described(pid, found, pid in events))
    return ProjectionReport(len(chosen), len(ids), differences)


#: Columns holding personal data: named when they differ, their values never printed.
PERSONAL = frozenset({"value", "value_hash", "name", "source_detail", "state", "tags", "attrs"})


def _described(pid: str, found: list[tuple[str, str, object, object]], has_events: bool) -> str:
    """One line for one contact point's differing projection."""
    if not has_events:
        return f"{pid}: has projection rows but no events in the ledger"
    kept = [table for table, column, stored, _ in found if column == "*" and stored is not None]
    if kept:
        return f"{pid}: was erased, yet has a {' and a '.join(kept)} row"
    missing = [table for table, column, _, _ in found if column == "*"]
    if missing:
        return f"{pid}: no {' and no '.join(missing)} row, the ledger has events for it"
    if len(found) > 3 or any(column in PERSONAL for _, column, _, _ in found):
        names = ", ".join(f"{table}.{column}" for table, column, _, _ in found)
        return f"{pid}: differs from the ledger in {names}"
    return "; ".join(
        f"{pid}: {table}.{column} is {_short(stored)}, the ledger says {_short(folded)}"
        for table, column, stored, folded in found
    )


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
