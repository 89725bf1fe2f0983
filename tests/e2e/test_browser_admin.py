"""The admin app in a real headless Chromium (Debian's) against uvicorn: a beheerder's first
login, switching on a second factor, and logging in with it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from test_browser import SCREENSHOTS, browser

from conftest import free_port, make_app, serving_app
from consentry.adapters.passwords import Totp
from consentry.bootstrap import App
from consentry.domain.clock import FixedClock
from consentry.domain.users import AuditAction, Role
from consentry.entrypoints.accounts import accounts
from consentry.services import users

__all__ = ["browser"]  # the system Chromium fixture, shared with the public flow's test
PASSWORD = "correct horse battery staple"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[App, str]]:
    """The real ASGI app under uvicorn in a background thread, on SQLite, with one beheerder."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(f"sqlite:///{tmp_path / 'consentry.db'}", base_url=base)
    users.create_user(accounts(app), "anna@example.nl", Role.BEHEERDER, PASSWORD, actor=None)
    try:
        with serving_app(app, port):
            yield app, base
    finally:
        app.store.engine.dispose()


def test_a_beheerder_logs_in_for_the_first_time_switches_on_a_second_factor_and_logs_in_with_it(
    served: tuple[App, str], browser: Browser
) -> None:
    app, base = served
    assert isinstance(app.clock, FixedClock)
    context = browser.new_context(locale="nl-NL", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(10_000)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    # The front door leads to the Dutch login page; the form is filled in with the keyboard.
    page.goto(f"{base}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")
    page.get_by_label("E-mailadres").fill("anna@example.nl")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overzicht")
    expect(page.get_by_text("Ingelogd als anna@example.nl, rol: Beheerder.")).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == "consentry_admin")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/admin"

    # The second factor: the secret is shown once, a code from it switches it on.
    page.get_by_role("link", name="Een tweede factor aanzetten (authenticator-app)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tweede factor")
    secret = page.locator("#totp-secret").inner_text()
    assert page.locator("#totp-uri").inner_text().startswith("otpauth://totp/consentry:anna%40example.nl?")
    page.get_by_label("Code uit je authenticator-app").fill(Totp().code(secret, app.clock.now().timestamp()))
    page.get_by_role("button", name="Aanzetten").click()
    expect(page.get_by_role("status")).to_have_text(
        "Je tweede factor staat aan: vanaf nu vraagt inloggen ook om een code."
    )
    page.screenshot(path=str(SCREENSHOTS / "consentry-admin-overview.png"), full_page=True)
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inloggen")

    # The next login asks for the code after the password (the phone shows the next one).
    app.clock.moment += timedelta(seconds=30)
    page.get_by_label("E-mailadres").fill("anna@example.nl")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verificatiecode")
    page.get_by_label("Code uit je authenticator-app").fill(Totp().code(secret, app.clock.now().timestamp()))
    page.get_by_role("button", name="Bevestigen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overzicht")
    expect(page.get_by_role("link", name="Een tweede factor aanzetten (authenticator-app)")).to_have_count(0)
    context.close()

    assert requested and all(url.startswith(f"{base}/") for url in requested), requested
    actions = [e.action for e in reversed(users.audit_log(accounts(app)))]
    assert actions == [
        AuditAction.USER_CREATED,
        AuditAction.LOGIN,
        AuditAction.TOTP_ENROLLED,
        AuditAction.LOGOUT,
        AuditAction.LOGIN,
    ]
