"""Wiring: the one place that builds the store, clock and id factory from settings."""

from __future__ import annotations

from dataclasses import dataclass

from consentry.adapters.sql_store import SqlStore, create_engine
from consentry.domain.clock import Clock, SystemClock
from consentry.domain.ids import IdFactory, random_ids
from consentry.policy.nl import PACK
from consentry.policy.rules import RulePack
from consentry.settings import Settings


@dataclass
class App:
    """What the services need, wired once; used by the CLI, the API and the tests."""

    settings: Settings
    store: SqlStore
    clock: Clock
    ids: IdFactory
    pack: RulePack


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
) -> App:
    """Build the application from settings (read from the environment when not given)."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    return App(settings, SqlStore(engine, now=clock.now), clock, ids or random_ids, PACK)
