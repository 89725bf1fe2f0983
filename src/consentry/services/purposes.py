"""Defining purposes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from consentry.domain.purposes import Purpose, PurposeError
from consentry.domain.users import AuditAction, AuditEntry
from consentry.domain.vocabulary import PurposeKind
from consentry.services.app import App
from consentry.services.errors import AlreadyExists, InputError, choice


def define(
    app: App,
    key: str,
    name_nl: str,
    name_en: str,
    kind: str = "commercial",
    categories: Iterable[str] = (),
    third_party: bool = False,
    replace: bool = False,
    actor: str | None = None,
) -> Purpose:
    """Define a purpose; with `replace`, redefine an existing one.

    With an `actor` (a user of the admin app) the admin audit log records who did it, in the
    same transaction as the change.
    """
    pk = choice(PurposeKind, "kind", kind)
    cats = frozenset(c.strip() for c in categories if c.strip())
    try:
        purpose = Purpose(key, name_nl, name_en, pk, cats, third_party)
    except PurposeError as exc:
        raise InputError("purpose", str(exc)) from None
    try:
        with app.store.writer() as w:
            if not replace and w.purpose(key) is not None:
                raise InputError("key", f"purpose {key!r} exists; use --replace to redefine it")
            w.put_purpose(purpose, replace=replace)
            if actor is not None:
                detail = {"name_nl": purpose.name_nl, "name_en": purpose.name_en, "replaced": replace}
                w.record_audit(AuditEntry(app.clock.now(), actor, AuditAction.PURPOSE_SAVED, key, detail))
    except AlreadyExists:
        raise InputError("key", f"purpose {key!r} exists; use --replace to redefine it") from None
    return purpose


def rename(app: App, key: str, name_nl: str, name_en: str, actor: str) -> Purpose:
    """Give a purpose new Dutch and English names (its key, kind and categories stay)."""
    try:
        with app.store.writer() as w:
            current = w.purpose(key)
            if current is None:
                raise InputError("key", f"no purpose {key!r}")
            try:
                renamed = replace(current, name_nl=name_nl.strip(), name_en=name_en.strip())
            except PurposeError as exc:
                raise InputError("purpose", str(exc)) from None
            w.put_purpose(renamed, replace=True)
            detail = {"name_nl": renamed.name_nl, "name_en": renamed.name_en, "replaced": True}
            w.record_audit(AuditEntry(app.clock.now(), actor, AuditAction.PURPOSE_SAVED, key, detail))
    except AlreadyExists:
        raise InputError("key", f"purpose {key!r} was changed at the same time; try again") from None
    return renamed


def get(app: App, key: str) -> Purpose:
    """A defined purpose; InputError when there is none."""
    with app.store.reader() as r:
        purpose = r.purpose(key)
    if purpose is None:
        raise InputError("key", f"no purpose {key!r}")
    return purpose


def list_all(app: App) -> list[Purpose]:
    """Every defined purpose."""
    with app.store.reader() as r:
        return r.purposes()
