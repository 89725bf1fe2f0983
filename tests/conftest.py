"""Shared fixtures: applications on SQLite and on PostgreSQL, with a fixed clock.

PostgreSQL tests need the server at CONSENTRY_TEST_PG_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test). Where it is missing they
are skipped with a message; under CI=true they fail instead, so CI can never
pass without having run them.
"""

from __future__ import annotations

import email.policy
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from aiosmtpd.controller import Controller as SmtpController
from aiosmtpd.smtp import Envelope

from consentry.bootstrap import App, bootstrap
from consentry.domain.clock import FixedClock
from consentry.domain.ids import counting_ids
from consentry.services import purposes, setup
from consentry.settings import Settings

PG_ADMIN_URL = os.environ.get("CONSENTRY_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: One database per test process, so parallel runs (CI and a developer's) never collide.
PG_TEST_DB = f"consentry_test_{os.getpid()}"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
#: The fixed keys every test runs with (base64): the master key and the blind index secret.
TEST_MASTER_KEY = "dGVzdC1tYXN0ZXIta2V5LW9mLXRoaXJ0eS10d28hISE="
TEST_BLIND_INDEX_KEY = "dGVzdC1ibGluZC1pbmRleC1zZWNyZXQtMzItYnl0ZXMhIQ=="
# Also for what test modules wire while they are collected, before any fixture runs.
os.environ.setdefault("CONSENTRY_MASTER_KEY", TEST_MASTER_KEY)
os.environ.setdefault("CONSENTRY_BLIND_INDEX_KEY", TEST_BLIND_INDEX_KEY)


@pytest.fixture(autouse=True)
def test_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test's settings carry fixed keys (a test of the key settings removes them)."""
    monkeypatch.setenv("CONSENTRY_MASTER_KEY", TEST_MASTER_KEY)
    monkeypatch.setenv("CONSENTRY_BLIND_INDEX_KEY", TEST_BLIND_INDEX_KEY)


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
def pg_url() -> Iterator[str]:
    """The URL of an empty-able PostgreSQL database, or skip (fail under CI)."""
    try:
        url = _pg_test_url()
    except Exception as exc:  # any connection failure means: no PostgreSQL here
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true requires the PostgreSQL tests to run)")
        pytest.skip(f"{message}; PostgreSQL tests skipped")
    yield url
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}" WITH (FORCE)'))
    admin.dispose()


def _reset_pg(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def make_app(url: str, **settings: object) -> App:
    """An initialised application on `url` with a fixed clock and counting ids."""
    config = Settings(database_url=url, secret_key="test-secret-key-0123456789", **settings)  # type: ignore[arg-type]
    app = bootstrap(config, clock=FixedClock(NOW), ids=counting_ids())
    setup.init(app, name="Testbedrijf BV", sector="commercial")
    return app


#: The sign-up form the public-flow and page tests use.
FORM = {
    "key": "nieuwsbrief-footer",
    "title_nl": "Blijf op de hoogte",
    "title_en": "Stay informed",
    "intro_nl": "Twee keer per maand koffienieuws.",
    "intro_en": "Coffee news twice a month.",
    "lead_magnet_url": "https://example.nl/koffie-ebook.pdf",
    "lead_magnet_title_nl": "E-book koffie zetten",
    "lead_magnet_title_en": "Coffee brewing e-book",
    "items": [
        {
            "purpose": "nieuwsbrief",
            "text_nl": "Ja, stuur mij de nieuwsbrief.",
            "text_en": "Yes, send me the newsletter.",
        },
        {
            "purpose": "aanbiedingen",
            "text_nl": "Ja, stuur mij aanbiedingen.",
            "text_en": "Yes, send me offers.",
        },
    ],
}


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


class Inbox:
    """Messages received by the in-process SMTP server, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        raw = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        self.messages.append(message_from_bytes(raw, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until `count` messages arrived (the server runs in its own thread)."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.messages) >= count, f"expected {count} message(s), got {len(self.messages)}"
        return self.messages


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a free loopback port, and what it received."""
    inbox = Inbox()
    with serving_smtp(inbox) as port:
        yield inbox, port


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving_smtp(handler: object, **options: Any) -> Iterator[int]:
    """Run a real SMTP server (aiosmtpd) with this handler on a free loopback port; yields the port.

    `options` go to aiosmtpd's server (e.g. `auth_required`, `authenticator`)."""
    port = free_port()
    controller = SmtpController(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@contextmanager
def serving_app(app: App, port: int) -> Iterator[None]:
    """Serve the real ASGI app of `app` under uvicorn in a background thread on a loopback port."""
    from consentry.entrypoints.http import create_app

    config = uvicorn.Config(create_app(app), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def power_cut(target: object, name: str, on_call: int) -> Iterator[None]:
    """Inside the block `target.name` runs for real until its `on_call`-th call, which raises
    RuntimeError("power cut") instead; the block must end with that error, and the real
    function is back afterwards."""
    real = getattr(target, name)
    calls = 0

    def cut(*args: Any, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == on_call:
            raise RuntimeError("power cut")
        return real(*args, **kw)

    with pytest.MonkeyPatch.context() as mp, pytest.raises(RuntimeError, match="power cut"):
        mp.setattr(target, name, cut)
        yield


def body_text(msg: EmailMessage) -> str:
    """The plain-text body of a message."""
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def module_caches() -> dict[str, Any]:
    """Every `functools` cache at module level in consentry's loaded modules, by qualified name.

    Such a cache lives as long as the process (the web app's: days), after an erasure too:
    the privacy tests hold that none grows with the persons a service handles.
    """
    found: dict[str, Any] = {}
    for name, module in list(sys.modules.items()):
        if name.startswith("consentry") and module is not None:
            for attr, value in list(vars(module).items()):
                if hasattr(value, "cache_info") and hasattr(value, "cache_clear"):
                    found[f"{name}.{attr}"] = value
    return found


def cache_sizes() -> dict[str, int]:
    """How many entries each module-level cache (`module_caches`) holds now."""
    return {name: cache.cache_info().currsize for name, cache in module_caches().items()}


def caches_grown(before: dict[str, int], by: int) -> dict[str, int]:
    """The module-level caches that grew by `by` entries or more since `before` (`cache_sizes`)."""
    grown = {name: n - before.get(name, 0) for name, n in cache_sizes().items()}
    return {name: n for name, n in grown.items() if n >= by}


def sqlite_file_after_plain_upgrade(app: App, revision: str) -> bytes:
    """SQLite: `app`'s database upgraded to `revision` as `alembic upgrade` on an engine of its
    own with `secure_delete` off (stock SQLite's default), its log folded in; the file's bytes.
    A migration that writes a table again must still leave no copy of the old rows in it."""
    from alembic import command

    from consentry.adapters.sql import schema

    app.store.engine.dispose()
    plain = sa.create_engine(app.store.engine.url)
    sa.event.listen(plain, "connect", lambda raw, _record: raw.execute("PRAGMA secure_delete=OFF"))
    cfg = schema.alembic_config(plain)
    with plain.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    with plain.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    plain.dispose()
    path = app.store.engine.url.database
    assert path
    return Path(path).read_bytes()


def point_facts_indexes(app: App) -> set[str]:
    """The names of `point_facts`' indexes as the store has them."""
    with app.store.engine.connect() as conn:
        return {str(i["name"]) for i in sa.inspect(conn).get_indexes("point_facts")}


def report_answers(app: App) -> list[tuple[object, ...]]:
    """The audience reports of the contact people's questions (e-mail and phone, two
    purposes): considered, included and the exclusions by rule, to compare across a migration."""
    from consentry.domain.campaigns import Selection
    from consentry.services import audience

    out: list[tuple[object, ...]] = []
    for channel in ("email", "phone"):
        for purpose in ("nieuwsbrief", "aanbiedingen"):
            report = audience.report(app, audience.Target.of(channel, purpose), Selection())
            excluded = sorted((c.rule.id, c.count) for c in report.excluded)
            out.append((report.considered, report.included_count, excluded))
    return out
