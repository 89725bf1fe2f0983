"""Verifying the hash chain, and rebuilding the projection from the ledger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consentry.domain.chain import ChainProblem, verify
from consentry.domain.fold import fold
from consentry.services.app import App


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of walking the chain."""

    events: int
    head_seq: int
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return not self.problems


def verify_ledger(app: App, progress: Callable[[int], None] | None = None) -> VerifyReport:
    """Walk every event in order, recomputing each hash; report every break."""
    counted = 0

    with app.store.reader() as r:
        head = r.head()

        def rows() -> Any:
            nonlocal counted
            for row in r.chain():
                counted += 1
                if progress and counted % 10000 == 0:
                    progress(10000)
                yield row

        problems = verify(rows(), head)
    return VerifyReport(counted, head[0], problems)


def rebuild_projection(app: App) -> int:
    """Recompute every contact point's state from its events; returns how many."""
    with app.store.writer() as w:
        ids = w.point_ids()
        for i in range(0, len(ids), 1000):
            w.write_states(fold(pid, w.events_for(pid)) for pid in ids[i : i + 1000])
    return len(ids)
