"""What carries out erasure and access requests (`services/dsr_handling.Hooks`), for the CLI and the API.

The erasure (storage v2's `services/erasure.py`) and the access export (`services/access.py`)
are separate services; this is the one place that hands them to request handling. The
erasure runs inside the request's write transaction (append `contact_point.erased`, keep the
suppression records, destroy the key) and the store's files are scrubbed after it commits.
The copy of an access or portability request is written to `CONSENTRY_ACCESS_EXPORT_DIR`
(JSON and HTML in the person's language, mode 0600) for the privacy officer to deliver; without
that setting such a request cannot be handled here, and handling says so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from consentry.domain.dsr import DsrRequest
from consentry.entrypoints.web import reports
from consentry.services import access, erasure
from consentry.services.app import App
from consentry.services.dsr_handling import Exporter, Hooks
from consentry.services.ports import Writing


def _erase(app: App, w: Writing, point_ids: Sequence[str], reason: str) -> None:
    erasure.erase_within(app, w, point_ids, reason)


def _scrub(app: App) -> None:
    app.store.scrub_erased()


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def _exporter(directory: Path) -> Exporter:
    def export(app: App, request: DsrRequest, point_ids: Sequence[str]) -> str:
        doc = access.person(app, point_ids[0])
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        base = directory / f"{request.id}-{request.kind.value}"
        _write(base.with_suffix(".json"), json.dumps(doc, ensure_ascii=False, indent=2, default=str))
        _write(base.with_suffix(".html"), reports.render("access", doc, request.language))
        return str(base.with_suffix(".json"))

    return export


def hooks(app: App) -> Hooks:
    """The erase and export services of this installation."""
    folder = app.settings.access_export_dir
    export = _exporter(Path(folder)) if folder else None
    return Hooks(erase=_erase, scrub=_scrub, export=export)
