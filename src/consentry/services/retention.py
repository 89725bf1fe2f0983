"""Running retention: find the contact points a policy erases today, and erase them in batches.

The points are read a batch at a time, in id order, from the store's retention facts
(set-wise on the SQL store); `domain.retention` decides per point. A dry run only
counts and lists them. A real run hands each policy's points, a batch at a time, to the
erasure port (`Eraser`: one write transaction a call, reason `retention:<policy id>`),
so a run stopped halfway leaves whole batches erased and the next run carries on where
it stopped: erased points are no longer selected. A point is erased within a few reads
of being selected (about a second); a consent recorded in that window is not seen.
Each real run leaves a summary in the settings (`retention_last_run`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from consentry.domain.retention import RetentionPolicy, select
from consentry.domain.state import local_day
from consentry.domain.users import AuditAction, AuditEntry
from consentry.services.app import App
from consentry.services.errors import InputError

#: Contact points read (and at most erased) per batch.
DEFAULT_BATCH = 1000
#: The setting that holds the summary of the last real run.
LAST_RUN = "retention_last_run"
#: The erasure reason of a policy's erasures.
REASON_PREFIX = "retention:"


@dataclass(frozen=True, slots=True)
class Erased:
    """What one erasure call did: points erased now, and points that were erased already."""

    erased: int
    already: int = 0


class Eraser(Protocol):
    """The erasure port: erase these contact points in one transaction, keeping their suppression records."""

    def __call__(self, point_ids: Sequence[str], reason: str, now: datetime) -> Erased:
        """Erase the points (`reason` e.g. `retention:oud-klant`); already-erased points are counted."""


@dataclass
class PolicyCount:
    """One policy's share of a run."""

    policy: RetentionPolicy
    selected: int = 0
    erased: int = 0
    already: int = 0
    point_ids: list[str] = field(default_factory=list)


@dataclass
class RunReport:
    """What a retention run found and did, per policy, in policy order."""

    at: datetime
    dry_run: bool
    counts: dict[str, PolicyCount]
    #: Points read that might be due (not erased, no open consent or contract).
    considered: int = 0
    batches: int = 0

    @property
    def selected(self) -> int:
        """Points selected by any policy."""
        return sum(c.selected for c in self.counts.values())

    @property
    def erased(self) -> int:
        """Points erased by this run."""
        return sum(c.erased for c in self.counts.values())

    def summary(self) -> dict[str, object]:
        """The run as JSON (without the ids): what `retention_last_run` keeps."""
        return {
            "at": self.at.isoformat(),
            "day": local_day(self.at).isoformat(),
            "dry_run": self.dry_run,
            "considered": self.considered,
            "batches": self.batches,
            "policies": {
                pid: {"selected": c.selected, "erased": c.erased, "already_erased": c.already}
                for pid, c in self.counts.items()
            },
        }


def due_batches(
    app: App, policies: Sequence[RetentionPolicy], at: datetime, batch: int = DEFAULT_BATCH
) -> Iterator[tuple[int, list[tuple[str, RetentionPolicy]]]]:
    """Per batch: how many points might be due, and (point id, policy) for those due on `at`'s Dutch day."""
    day = local_day(at)
    after: str | None = None
    while True:
        with app.store.reader() as r:
            facts, last = r.retention_facts(after, batch)
        if last is None:
            return
        after = last
        yield len(facts), list(select(policies, facts, day))


def run(
    app: App,
    policies: Sequence[RetentionPolicy],
    eraser: Eraser | None,
    *,
    at: datetime | None = None,
    dry_run: bool = False,
    batch: int = DEFAULT_BATCH,
    keep_ids: bool = False,
    on_batch: Callable[[int], None] | None = None,
    actor: str | None = None,
) -> RunReport:
    """Select what the policies erase as of `at` (default now) and, unless a dry run, erase it.

    `keep_ids` keeps the selected ids in the report (the dry run's list). With an `actor` (a
    user of the admin app) a real run's summary goes to the audit log with the last-run setting.
    """
    if not policies:
        raise InputError("policies", "no retention policies to run")
    if batch < 1:
        raise InputError("batch", f"{batch} is not a batch size; give at least 1")
    if eraser is None and not dry_run:
        raise InputError("eraser", "no erasure service is wired; only a dry run can be made")
    moment = at or app.clock.now()
    report = RunReport(moment, dry_run, {p.id: PolicyCount(p) for p in policies})
    pending: dict[str, list[str]] = {p.id: [] for p in policies}

    def erase(pid: str) -> None:
        ids, pending[pid] = pending[pid], []
        if ids and eraser is not None and not dry_run:
            done = eraser(ids, REASON_PREFIX + pid, app.clock.now())
            report.counts[pid].erased += done.erased
            report.counts[pid].already += done.already

    for considered, chosen in due_batches(app, policies, moment, batch):
        report.considered += considered
        report.batches += 1
        for point_id, policy in chosen:
            count = report.counts[policy.id]
            count.selected += 1
            if keep_ids:
                count.point_ids.append(point_id)
            # A policy's points are erased `batch` at a time: full transactions, whatever the mix.
            pending[policy.id].append(point_id)
            if len(pending[policy.id]) >= batch:
                erase(policy.id)
        if on_batch is not None:
            on_batch(considered)
    for pid in pending:
        erase(pid)
    if report.erased:
        # Once a run, not once a batch: what the deletes left in the files (SQLite's log; on
        # PostgreSQL a VACUUM of the keys' table) goes now; a run stopped halfway leaves it to
        # the next run or the nightly scrub (docs/privacy.md).
        app.store.scrub_erased()
    if not dry_run:
        with app.store.writer() as w:
            w.put_setting(LAST_RUN, report.summary())
            if actor is not None:
                entry = AuditEntry(app.clock.now(), actor, AuditAction.RETENTION_RUN, None, report.summary())
                w.record_audit(entry)
    return report


def last_run(app: App) -> dict[str, object] | None:
    """The summary of the last real run, if any."""
    with app.store.reader() as r:
        found = r.setting(LAST_RUN)
    return dict(found) if isinstance(found, dict) else None
