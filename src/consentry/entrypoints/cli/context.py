"""The wired application one `consentry` run works with, made when first needed."""

from __future__ import annotations

from consentry.bootstrap import App, bootstrap
from consentry.settings import Settings

_state: dict[str, App] = {}


def use(database_url: str | None) -> None:
    """Start a run: forget the last run's app; wire one now when a database is named."""
    _state.pop("app", None)
    if database_url:
        _state["app"] = bootstrap(Settings(database_url=database_url))


def current() -> App:
    """The run's app, wired from the settings (environment) when no database was named."""
    if "app" not in _state:
        _state["app"] = bootstrap(Settings())
    return _state["app"]
