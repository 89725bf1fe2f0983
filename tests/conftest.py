"""Shared fixtures: applications on SQLite and on PostgreSQL, with a fixed clock.

PostgreSQL tests need the server at CONSENTRY_TEST_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test). Where it is missing they
are skipped with a message; under CI=true they fail instead, so CI can never
pass without having run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from consentry.bootstrap import App, bootstrap
from consentry.domain.clock import FixedClock
from consentry.domain.ids import counting_ids
from consentry.services import purposes, setup
from consentry.settings import Settings

PG_ADMIN_URL = os.environ.get("CONSENTRY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_TEST_DB = "consentry_test"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _pg_test_url() -> str:
    """Create (once) a dedicated database for the tests and return its URL."""
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_TEST_DB}
            ).first()
            if not exists:
                conn.execute(sa.text(f'CREATE DATABASE "{PG_TEST_DB}"'))
    finally:
        admin.dispose()
    return sa.make_url(PG_ADMIN_URL).set(database=PG_TEST_DB).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The URL of an empty-able PostgreSQL database, or skip (fail under CI)."""
    try:
        return _pg_test_url()
    except Exception as exc:  # any connection failure means: no PostgreSQL here
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true requires the PostgreSQL tests to run)")
        pytest.skip(f"{message}; PostgreSQL tests skipped")


def _reset_pg(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def make_app(url: str) -> App:
    """An initialised application on `url` with a fixed clock and counting ids."""
    app = bootstrap(Settings(database_url=url), clock=FixedClock(NOW), ids=counting_ids())
    setup.init(app, name="Testbedrijf BV", sector="commercial")
    return app


def define_purposes(app: App) -> None:
    """The purposes the tests use."""
    purposes.define(app, "nieuwsbrief", "Nieuwsbrief", "Newsletter", categories=["koffie", "thee"])
    purposes.define(app, "aanbiedingen", "Aanbiedingen", "Offers", categories=["koffie"])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'consentry.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'consentry.db'}"
        return
    url = request.getfixturevalue("pg_url")
    _reset_pg(url)
    yield url


@pytest.fixture
def app(store_url: str) -> Iterator[App]:
    """An initialised application with the test purposes, on each backend."""
    application = make_app(store_url)
    define_purposes(application)
    yield application
    application.store.engine.dispose()
