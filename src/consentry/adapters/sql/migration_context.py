"""What a data migration takes from whoever runs it: the keys and the moment.

`schema.upgrade` hands Alembic the store's keys (`vault`) and its clock's moment (`now`) in the
config's attributes; `alembic upgrade` run by hand gives neither, so the keys come from the
settings (the environment, or a local SQLite database's key file) and the moment is the time.
The keys are read only when called: a migration with nothing to open asks for none.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alembic import op

from consentry.adapters.crypto.vault import Vault, vault
from consentry.settings import Settings

__all__ = ["keys", "now"]


def _given(name: str) -> Any:
    config = op.get_context().config
    return config.attributes.get(name) if config is not None else None


def keys() -> Vault:
    """The keys the caller gave, or those of the settings for the database being upgraded."""
    given = _given("vault")
    if isinstance(given, Vault):
        return given
    url = op.get_bind().engine.url.render_as_string(hide_password=False)
    return vault(Settings(database_url=url))


def now() -> datetime:
    """The moment the caller gave, or now."""
    given = _given("now")
    return given if isinstance(given, datetime) else datetime.now(UTC)
