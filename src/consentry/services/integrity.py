"""Verifying the hash chains (the ledger's and the admin audit log's), and rebuilding the projection
from the ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consentry.domain import audit_chain
from consentry.domain.chain import GENESIS, ChainEpoch, ChainProblem, verify
from consentry.domain.fold import fold
from consentry.services.app import App


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of walking the chain."""

    events: int
    head_seq: int
    problems: list[ChainProblem]
    #: Where the chain continues an earlier one (the storage upgrade): its first event's
    #: previous hash was checked against that chain's recorded head.
    epoch: ChainEpoch | None = None

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


def verify_ledger(app: App, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Walk every event in order, recomputing each hash; report every break.

    A chain that continues an earlier one (`ChainEpoch`) must start from the genesis that
    commits to the earlier chain's recorded head.
    """
    counted = 0

    with app.store.reader() as r:
        head = r.head()
        epoch = r.chain_epoch()

        def rows() -> Any:
            nonlocal counted
            for row in r.chain():
                counted += 1
                if progress and counted % 10000 == 0:
                    progress(10000)
                yield row

        problems = verify(rows(), head, GENESIS if epoch is None else epoch.genesis)
    return VerifyReport(counted, head[0], problems, epoch)


@dataclass(frozen=True, slots=True)
class AuditLogReport:
    """The outcome of walking the admin audit log's chain."""

    entries: int
    head: tuple[int, str] | None
    problems: list[audit_chain.AuditProblem]

    @property
    def ok(self) -> bool:
        """True when the audit log's chain is intact."""
        return not self.problems


def verify_audit_log(app: App) -> AuditLogReport:
    """Walk every admin audit entry in order, recomputing each hash; report every break."""
    counted = 0
    with app.store.reader() as r:
        head = r.audit_log_head()

        def rows() -> Any:
            nonlocal counted
            for row in r.audit_log_rows():
                counted += 1
                yield row

        problems = audit_chain.verify(rows(), head)
    return AuditLogReport(counted, head, problems)


def rebuild_projection(app: App) -> int:
    """Recompute every contact point's state from its events; returns how many."""
    with app.store.writer() as w:
        ids = w.point_ids()
        for i in range(0, len(ids), 1000):
            w.write_states(fold(pid, w.events_for(pid)) for pid in ids[i : i + 1000])
            w.drop_caches()  # one transaction over the whole ledger: its caches kept to a chunk
    return len(ids)
