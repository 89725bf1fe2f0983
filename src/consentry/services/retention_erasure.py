"""The erasure port of retention, wired to the erasure service (issue #16)."""

from __future__ import annotations

from consentry.services.app import App
from consentry.services.errors import InputError
from consentry.services.retention import Eraser


def eraser_for(app: App) -> Eraser:
    """The erasure service as retention's port."""
    raise InputError("erasure", "the erasure service (issue #16) is not part of this build; run with --dry-run")
