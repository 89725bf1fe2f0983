"""Work the admin app runs in the background (an import, a campaign's send), and how far it got.

A job runs in a thread of the serving process; its page polls `/progress` (a little
same-origin script, `static/admin-progress.js`) until it is done. Jobs live in this process only:
serve the admin app from one worker process (`consentry serve --workers 1`, the default).
A job with the same key as one still running is not started twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from consentry.domain.errors import FieldError

log = logging.getLogger(__name__)
#: How long a finished job's outcome stays to be read.
KEEP_S = 24 * 60 * 60


@dataclass
class Job:
    """One piece of background work: who started it, how far it got, and how it ended."""

    key: str
    owner: str
    phase: str
    total: int = 0
    done: int = 0
    state: str = "running"
    result: Any = None
    #: The field and message of an input error that stopped it, or a general failure.
    error: tuple[str, str] | None = None
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None

    def advance(self, n: int) -> None:
        """Count `n` more items done (called from the job's thread)."""
        self.done += n

    @property
    def running(self) -> bool:
        """True until the work returned or failed."""
        return self.state == "running"


class Jobs:
    """The jobs of one serving process."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Job | None:
        """The job with this key, running or finished."""
        with self._lock:
            return self._jobs.get(key)

    def start(self, key: str, owner: str, phase: str, work: Callable[[Job], Any], total: int = 0) -> Job:
        """Run `work(job)` in a thread; the running job when one with this key runs already."""
        with self._lock:
            self._forget_old()
            running = self._jobs.get(key)
            if running is not None and running.running:
                return running
            job = self._jobs[key] = Job(key, owner, phase, total)
        threading.Thread(target=self._run, args=(job, work), name=f"job {key}", daemon=True).start()
        return job

    @staticmethod
    def _run(job: Job, work: Callable[[Job], Any]) -> None:
        try:
            job.result = work(job)
            job.state = "done"
        except FieldError as exc:
            job.error, job.state = (exc.field, exc.message), "failed"
        except Exception as exc:  # the page says it failed; the log has the details
            log.exception("background job %s failed", job.key)
            job.error, job.state = ("", type(exc).__name__), "failed"
        finally:
            job.ended = time.monotonic()

    def _forget_old(self) -> None:
        cutoff = time.monotonic() - KEEP_S
        for key in [k for k, j in self._jobs.items() if j.ended is not None and j.ended < cutoff]:
            del self._jobs[key]


def jobs(request: Request) -> Jobs:
    """The jobs of the application serving `request`."""
    found: Jobs = request.app.state.admin_jobs
    return found
