"""The admin audit log's record of a step on a data-subject request, taken by a user of the admin app."""

from __future__ import annotations

from typing import Any

from consentry.domain.dsr import DsrRequest
from consentry.domain.users import AuditAction, AuditEntry
from consentry.services.app import App
from consentry.services.ports import Writing


def audited(app: App, w: Writing, actor: str | None, req: DsrRequest, step: str, **detail: Any) -> None:
    """With an `actor`, record `step` on `req` in the audit log, in the caller's write transaction."""
    if actor is not None:
        entry = {"step": step, "kind": req.kind.value, **{k: v for k, v in detail.items() if v is not None}}
        w.record_audit(AuditEntry(app.clock.now(), actor, AuditAction.REQUEST_CHANGED, req.id, entry))
