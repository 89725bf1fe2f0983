"""Checkpoints every N seconds for a serving process (`checkpoint_every_s`).

The thread keeps the Merkle frontier in memory and reads only the events added since
its last checkpoint, so a checkpoint costs a few hashes per new event, not a pass over
the ledger. It signs only when the ledger has grown. With several worker processes
one of them signs at a time (a lock file beside the checkpoint file); the others
find nothing new afterwards, or sign the same head again, which is harmless.

Where `consentry serve` does not run, cron does the same job:
`*/5 * * * * consentry ledger checkpoint --quiet`.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path

from consentry.adapters.signing import Signer
from consentry.domain.merkle import Frontier
from consentry.services import checkpoints
from consentry.services.app import App
from consentry.services.checkpoints import Exported

log = logging.getLogger("consentry.checkpoints")


class PeriodicCheckpoints:
    """Signs and exports a checkpoint every `every_s` seconds while the ledger (or the admin
    audit log) grows."""

    def __init__(self, app: App, signer: Signer, every_s: float) -> None:
        self.app = app
        self.signer = signer
        self.every_s = every_s
        self._frontier: Frontier | None = None
        self._signed_size = -1
        self._signed_audit: tuple[int, str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, app: App) -> PeriodicCheckpoints | None:
        """The periodic checkpoints the settings ask for, or None (turned off)."""
        if app.settings.checkpoint_every_s <= 0:
            return None
        return cls(app, checkpoints.signer_for(app.settings), app.settings.checkpoint_every_s)

    def start(self) -> None:
        """Start signing in the background."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="ledger-checkpoints", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after one last checkpoint (if the ledger grew)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._safe_tick()
        self._safe_tick()

    def _safe_tick(self) -> None:
        try:
            self.tick()
        except checkpoints.CheckpointRefused as exc:
            self._frontier = None  # read the whole ledger again next time
            log.error("ledger checkpoint refused: %s", exc)
        except Exception:  # the thread must outlive a database hiccup
            self._frontier = None
            log.exception("ledger checkpoint failed")

    def tick(self) -> Exported | None:
        """Sign and export a checkpoint if the ledger or the admin audit log grew since the last one."""
        with _exclusive(self.app.settings.checkpoint_file) as mine:
            if not mine:
                return None
            if self._frontier is None:
                frontier = Frontier()
                head = checkpoints.grow(self.app, frontier, checkpoints.last_exported(self.app.settings))
                self._frontier = frontier
            else:
                head = checkpoints.grow(self.app, self._frontier, None)
            audit = checkpoints.audit_head(self.app)  # admin actions count as growth too
            if (self._frontier.size, audit) == (self._signed_size, self._signed_audit):
                return None
            last = checkpoints.last_exported(self.app.settings)
            if last is not None and (last.size, last.head, last.audit) == (self._frontier.size, head, audit):
                self._signed_size, self._signed_audit = last.size, last.audit  # another process signed it
                return None
            cp = checkpoints.sign(self.app, self.signer, self._frontier, head, audit)
            done = checkpoints.export(self.app, cp)
            self._signed_size, self._signed_audit = cp.size, cp.audit
            for failure in done.failed:
                log.error("ledger checkpoint #%d not delivered to %s", cp.size, failure)
            return done


class _exclusive:
    """A non-blocking lock on `<checkpoint file>.lock`; true when this process holds it."""

    def __init__(self, checkpoint_file: str | None) -> None:
        self.path = Path(checkpoint_file + ".lock") if checkpoint_file else None
        self.fd: int | None = None

    def __enter__(self) -> bool:
        if self.path is None:
            return True
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            self.fd = None
            return False
        return True

    def __exit__(self, *_: object) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
