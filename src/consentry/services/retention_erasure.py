"""Retention's erasure port, wired to the erasure service (`services.erasure.erase_points`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from consentry.services import erasure
from consentry.services.app import App
from consentry.services.retention import Erased, Eraser


def eraser_for(app: App) -> Eraser:
    """The erasure service as retention's port: a batch in one transaction, suppression records kept."""

    def erase(point_ids: Sequence[str], reason: str, now: datetime) -> Erased:
        # `now` is the app clock's, which the erasure service reads itself.
        # Not scrubbed a batch at a time: the run scrubs the store once after its last batch.
        report = erasure.erase_points(app, point_ids, reason=reason, scrub=False)
        return Erased(len(report.erased), len(report.already))

    return erase
