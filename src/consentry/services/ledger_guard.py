"""A quick look at the ledger before deciding or sending on it: refuse a wiped or cut-short one.

This is not `ledger verify` (which recomputes every hash); it is a handful of indexed
reads: the head row is there, the last stored event is the head, contact points do not
outlive their events, and the ledger still reaches the last exported checkpoint with
the same chain hash there. A decision taken on a ledger that fails them could allow
what an erased objection forbade, so it is refused with a message saying what is wrong.
"""

from __future__ import annotations

import time
from pathlib import Path
from threading import Lock

from consentry.domain.checkpoint import Checkpoint
from consentry.services import checkpoints
from consentry.services.app import App
from consentry.services.errors import VERIFY, LedgerDamaged
from consentry.services.ports import LedgerAudit, Store

__all__ = ["RECHECK_S", "VERIFY", "LedgerDamaged", "check", "check_now", "check_often"]

#: A serving process looks again at most this often (seconds) while all is well.
RECHECK_S = 5.0

_checked: dict[int, float] = {}
_exported: dict[tuple[str, float, int], Checkpoint | None] = {}
_lock = Lock()


def check(app: App, r: LedgerAudit) -> None:
    """Raise LedgerDamaged, saying what is wrong, unless the ledger looks whole."""
    head = r.head_row()
    if head is None:
        raise LedgerDamaged(f"the ledger head is missing: the ledger was wiped or damaged; {VERIFY}")
    last = r.last_event() or (0, head[1] if head[0] == 0 else "")
    if last[0] != head[0]:
        raise LedgerDamaged(
            f"the ledger head says seq {head[0]} but the last stored event is seq {last[0]}: "
            f"events were removed or added around the head; {VERIFY}"
        )
    if last[1] != head[1]:
        raise LedgerDamaged(
            f"the last event's hash is not the ledger head's: the chain was altered; {VERIFY}"
        )
    if head[0] == 0 and r.any_point():
        raise LedgerDamaged(
            f"contact points are registered but the ledger holds no events: the ledger was wiped; {VERIFY}"
        )
    cp = _last_exported(app)
    if cp is not None:
        if head[0] < cp.size:
            raise LedgerDamaged(
                f"the ledger has {head[0]} events but the checkpoint of {cp.time.isoformat()} covers "
                f"{cp.size}: events were deleted; {VERIFY}"
            )
        if cp.size and r.hash_at(cp.size) != cp.head:
            raise LedgerDamaged(
                f"the ledger no longer matches the checkpoint of {cp.time.isoformat()} at seq {cp.size}: "
                f"it was rewritten; {VERIFY}"
            )


def check_audit_log(app: App, r: LedgerAudit) -> None:
    """Raise LedgerDamaged unless the admin audit log looks whole: its head is there and is its
    last entry, and the last exported checkpoint's audit head still matches (a few point reads;
    `ledger verify` walks the whole chain). Not part of `check`: decisions do not wait on it."""
    head = r.audit_log_head()
    if head is None:
        raise LedgerDamaged(
            f"the admin audit log's head is missing: the audit log was wiped or damaged; {VERIFY}"
        )
    seq, digest = head
    if (seq and r.audit_log_hash_at(seq) != digest) or r.audit_log_hash_at(seq + 1) is not None:
        raise LedgerDamaged(
            f"the admin audit log's head (#{seq}) is not its last entry: entries were removed, added or "
            f"altered; {VERIFY}"
        )
    cp = _last_exported(app)
    signed = cp.audit if cp is not None and cp.audit is not None and cp.audit[0] else None
    if cp is not None and signed is not None and r.audit_log_hash_at(signed[0]) != signed[1]:
        raise LedgerDamaged(
            f"the admin audit log no longer matches the checkpoint of {cp.time.isoformat()} at entry "
            f"#{signed[0]}: it was rewritten or cut short; {VERIFY}"
        )


def check_now(app: App) -> None:
    """`check` in a read transaction of its own (before a campaign is sent, say)."""
    with app.store.reader() as r:
        check(app, r)


def check_often(app: App, r: LedgerAudit | None = None) -> None:
    """`check`, but at most every RECHECK_S seconds per store while it passes (for every decision).

    Without `r`, a check that is due runs in a read transaction of its own: its reads must
    see one snapshot (a decision's own reads run outside a transaction).
    """
    key = _key(app.store)
    now = time.monotonic()
    with _lock:
        if now - _checked.get(key, -RECHECK_S) < RECHECK_S:
            return
    if r is None:
        check_now(app)
    else:
        check(app, r)
    with _lock:
        _checked[key] = now


def _key(store: Store) -> int:
    return id(store)


def _last_exported(app: App) -> Checkpoint | None:
    """The last exported checkpoint, read again only when the file changed."""
    name = app.settings.checkpoint_file
    if not name:
        return None
    try:
        st = Path(name).stat()
    except OSError:
        return None
    key = (name, st.st_mtime, st.st_size)
    with _lock:
        if key in _exported:
            return _exported[key]
    found = checkpoints.last_exported(app.settings)
    with _lock:
        _exported.clear()
        _exported[key] = found
    return found
