"""Setting a database up, and the controller profile kept in it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from consentry.domain.vocabulary import Sector
from consentry.policy.facts import Controller
from consentry.services import integrity
from consentry.services.app import App
from consentry.services.errors import choice
from consentry.services.ports import Catalog


def init(
    app: App, name: str | None = None, sector: str | None = None, postal_sector: str | None = None
) -> str:
    """Create or upgrade the schema and store the controller profile; returns the revision.

    `postal_sector` is the Postfilter sector the sender's addressed mail falls in,
    as the Postfilter file names it ("" clears it: every listing then counts).
    """
    revision = app.store.migrate()
    _fill_point_facts(app)
    if name is not None or sector is not None or postal_sector is not None:
        sec = choice(Sector, "sector", sector) if sector is not None else None
        with app.store.writer() as w:
            current = w.setting("controller") or {}
            profile = {
                "name": name or current.get("name", Controller().name),
                "sector": (sec or Sector(current.get("sector", Sector.COMMERCIAL))).value,
            }
            kept = current.get("postal_sector") if postal_sector is None else postal_sector.strip()
            if kept:
                profile["postal_sector"] = kept
            w.put_setting("controller", profile)
    return revision


def _fill_point_facts(app: App) -> None:
    """After the upgrade that adds the audience projection, compute it once from the ledger."""
    with app.store.reader() as r:
        complete = r.projection_complete()
    if not complete:
        integrity.rebuild_projection(app)


def controller(r: Catalog) -> Controller:
    """The controller profile, or the default when none was stored."""
    return controller_of(r.setting("controller"))


def controller_of(raw: Any) -> Controller:
    """The controller profile from its stored setting (None: the default)."""
    if not raw:
        return Controller()
    return _controller(raw["name"], raw["sector"], raw.get("postal_sector") or None)


@lru_cache(maxsize=64)
def _controller(name: str, sector: str, postal_sector: str | None) -> Controller:
    """The (frozen) profile of these fields, made and its sector checked once: every decision reads
    the setting, and making it each time cost ~13,000 instructions (session 11)."""
    return Controller(name=name, sector=Sector(sector), postal_sector=postal_sector)
