"""The wired application one `consentry` run works with, made when first needed."""

from __future__ import annotations

from consentry.bootstrap import App, bootstrap
from consentry.settings import Settings

_state: dict[str, App] = {}
_named: dict[str, str] = {}


def use(database_url: str | None) -> None:
    """Start a run: forget the last run's app and remember the database named, if any.

    The app is wired when the command first asks for it, inside the command's error
    handling, so a missing key or setting is reported as a message, not a traceback.
    """
    _state.pop("app", None)
    _named.pop("url", None)
    if database_url:
        _named["url"] = database_url


def current() -> App:
    """The run's app, wired from the settings (environment) and the database named."""
    if "app" not in _state:
        url = _named.get("url")
        _state["app"] = bootstrap(Settings(database_url=url) if url else Settings())
    return _state["app"]
