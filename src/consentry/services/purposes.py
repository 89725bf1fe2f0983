"""Defining purposes."""

from __future__ import annotations

from collections.abc import Iterable

from consentry.domain.purposes import Purpose, PurposeError
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
) -> Purpose:
    """Define a purpose; with `replace`, redefine an existing one."""
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
    except AlreadyExists:
        raise InputError("key", f"purpose {key!r} exists; use --replace to redefine it") from None
    return purpose


def list_all(app: App) -> list[Purpose]:
    """Every defined purpose."""
    with app.store.reader() as r:
        return r.purposes()
