"""Retention once a day inside `consentry serve` (`CONSENTRY_RETENTION_SCHEDULE`, opt-in).

A background thread looks every minute whether the Dutch time of day has reached the
schedule. The first process to get there claims the day in the database (the setting
`retention_claim`, written under the ledger lock, so of two servers on one database
only one claims it) and runs the job; the others find the day claimed. A run that
stops halfway (a crash, a deploy) is not repeated the same day: the next day's run
carries on, since erased points are never selected again.

Where `consentry serve` does not run, cron does the same job (docs/retention.md):
`30 3 * * * consentry retention run --quiet` (cron's zone: set CRON_TZ=Europe/Amsterdam).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, time

from consentry.domain.clock import LOCAL_TZ
from consentry.services import retention
from consentry.services.app import App
from consentry.services.retention_policies import PolicySet

log = logging.getLogger("consentry.retention")

#: The setting that says which Dutch day's run was claimed, and by whom.
CLAIM = "retention_claim"


def parse_time(text: str) -> time:
    """`HH:MM` as a time of day."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def claim(app: App, at: datetime, by: str) -> bool:
    """Claim the run of `at`'s Dutch day; False when it was claimed already (here or elsewhere)."""
    day = at.astimezone(LOCAL_TZ).date().isoformat()
    with app.store.writer() as w:
        held = w.setting(CLAIM)
        if isinstance(held, dict) and held.get("day", "") >= day:
            return False
        w.put_setting(CLAIM, {"day": day, "by": by, "at": at.isoformat()})
    return True


class DailyRetention:
    """Runs retention once a Dutch day, from `at` on, in a background thread."""

    def __init__(
        self,
        app: App,
        policies: PolicySet,
        eraser: retention.Eraser,
        at: time,
        poll_s: float = 60.0,
        by: str | None = None,
    ) -> None:
        self.app = app
        self.policies = policies
        self.eraser = eraser
        self.at = at
        self.poll_s = poll_s
        self.by = by or f"{socket.gethostname()}:{os.getpid()}"
        self.last: retention.RunReport | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(
        cls, app: App, policies: Callable[[], PolicySet], eraser: Callable[[], retention.Eraser]
    ) -> DailyRetention | None:
        """The daily run the settings ask for, or None (off). A bad policy file stops the start."""
        schedule = app.settings.retention_schedule
        if not schedule:
            return None
        return cls(app, policies(), eraser(), parse_time(schedule))

    def start(self) -> None:
        """Start looking at the clock in the background."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="retention", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop looking; a run under way is waited for a minute (each batch is its own transaction)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the thread must outlive a database hiccup; the next tick tries again
                log.exception("retention run failed")
            self._stop.wait(self.poll_s)

    def tick(self) -> retention.RunReport | None:
        """Run retention if the Dutch time of day has reached the schedule and the day is not claimed."""
        now = self.app.clock.now()
        if now.astimezone(LOCAL_TZ).time() < self.at or not claim(self.app, now, self.by):
            return None
        report = retention.run(
            self.app,
            self.policies.policies,
            self.eraser,
            at=now,
            batch=self.app.settings.retention_batch,
        )
        self.last = report
        log.info(
            "retention run: %d considered, %d erased (%s)",
            report.considered,
            report.erased,
            ", ".join(f"{pid} {c.erased}" for pid, c in report.counts.items()),
        )
        return report
