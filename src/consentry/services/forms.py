"""Sign-up forms: saved as immutable versions, read back by key."""

from __future__ import annotations

from html import escape
from typing import Any

from consentry.domain.forms import Form, FormError, form_from_json
from consentry.domain.users import AuditAction, AuditEntry
from consentry.services.app import App
from consentry.services.errors import AlreadyExists, InputError


def save(app: App, doc: Any, actor: str | None = None) -> Form:
    """Save a form definition as its next version (unchanged definitions keep their version).

    With an `actor` (a user of the admin app) the admin audit log records a new version and
    who saved it, in the same transaction.
    """
    try:
        draft = form_from_json(doc, version=0)
    except FormError as exc:
        raise InputError(exc.field, exc.message) from None
    try:
        with app.store.writer() as w:
            for n, item in enumerate(draft.items):
                if w.purpose(item.purpose) is None:
                    raise InputError(f"items[{n}].purpose", f"unknown purpose {item.purpose!r}")
            current = w.form(draft.key)
            if current is not None:
                latest = form_from_json(current, current["version"])
                if _same(latest, draft):
                    return latest
            version = 1 if current is None else int(current["version"]) + 1
            form = form_from_json(doc, version)
            w.put_form(form.key, version, form.to_json())
            if actor is not None:
                entry = AuditEntry(
                    app.clock.now(), actor, AuditAction.FORM_SAVED, form.key, {"version": version}
                )
                w.record_audit(entry)
            return form
    except AlreadyExists:
        raise InputError("key", "the form was changed at the same time; try again") from None


def _same(a: Form, b: Form) -> bool:
    return {**a.to_json(), "version": 0} == {**b.to_json(), "version": 0}


def get(app: App, key: str, version: int | None = None) -> Form:
    """A form (its newest version unless one is named); InputError when unknown."""
    with app.store.reader() as r:
        doc = r.form(key, version)
    if doc is None:
        raise InputError("form", f"no form {key!r}" + (f" version {version}" if version else ""))
    return form_from_json(doc, int(doc["version"]))


def list_all(app: App) -> list[Form]:
    """The newest version of every form."""
    with app.store.reader() as r:
        return [form_from_json(d, int(d["version"])) for d in r.forms()]


def embed_snippet(app: App, form: Form) -> str:
    """HTML to paste into a website: the hosted form in a frame, with a plain link as fallback."""
    url = escape(f"{app.settings.base_url.rstrip('/')}/f/{form.key}")
    title = escape(form.title_nl)
    return (
        f'<iframe src="{url}?embed=1" title="{title}" loading="lazy" '
        'style="width:100%;min-height:32rem;border:0"></iframe>\n'
        f'<p><a href="{url}">{title}</a></p>\n'
    )
