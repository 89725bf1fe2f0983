"""The admin app's login pages over HTTP (FastAPI's TestClient): login, lockout, CSRF, logout,
expiry, the role guard and the session cookie."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient

from conftest import make_app
from consentry.adapters.passwords import Totp
from consentry.bootstrap import App
from consentry.domain.clock import FixedClock
from consentry.domain.users import AuditAction, Role, User
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.http import create_app
from consentry.entrypoints.web import admin_session
from consentry.entrypoints.web.admin import AdminRoute
from consentry.services import users

BASE = "http://127.0.0.1:8000"
PASSWORD = "correct horse battery staple"


def _guarded_page() -> APIRouter:
    """A page only privacy officers (and beheerders) reach, as later admin pages will be."""
    router = APIRouter(route_class=AdminRoute)

    @router.get("/admin/test-privacy")
    def privacy_page(user: User = Depends(admin_session.allow(Role.PRIVACY_OFFICER))) -> dict[str, str]:
        return {"email": user.email}

    return router


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[App, TestClient]]:
    app = make_app(f"sqlite:///{tmp_path / 'consentry.db'}", base_url=BASE)
    for role in Role:
        users.create_user(accounts(app), f"{role.value}@example.nl", role, PASSWORD, actor=None)
    api = create_app(app)
    api.include_router(_guarded_page())
    with TestClient(api, base_url=BASE) as client:
        yield app, client
    app.store.engine.dispose()


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD, **headers: str) -> httpx.Response:
    form = client.get("/admin/login")
    return client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf": csrf_of(form)},
        headers=headers,
        follow_redirects=False,
    )


def _advance(app: App, **delta: float) -> None:
    assert isinstance(app.clock, FixedClock)
    app.clock.moment += timedelta(**delta)


def test_the_front_door_leads_to_the_admin_app_and_without_a_session_to_the_dutch_login(
    site: tuple[App, TestClient],
) -> None:
    _, client = site
    assert client.get("/", follow_redirects=False).headers["location"] == "/admin"
    to_login = client.get("/admin", follow_redirects=False)
    assert to_login.status_code == 303 and to_login.headers["location"].startswith("/admin/login")
    page = client.get("/admin/login")
    assert page.status_code == 200 and '<html lang="nl">' in page.text
    assert "<h1>Inloggen</h1>" in page.text and 'for="password">Wachtwoord</label>' in page.text
    assert "<h1>Log in</h1>" in client.get("/admin/login?lang=en").text


def test_a_login_sets_a_signed_httponly_lax_cookie_and_shows_who_is_logged_in(
    site: tuple[App, TestClient],
) -> None:
    _, client = site
    answer = log_in(client, "Marketeer@Example.nl")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/admin")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{admin_session.COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/admin" in cookie
    assert "Secure" not in cookie and "Max-Age=28800" in cookie
    overview = client.get("/admin")
    assert overview.status_code == 200 and "<h1>Overzicht</h1>" in overview.text
    assert "Ingelogd als marketeer@example.nl, rol: Marketeer." in overview.text


def test_in_production_the_session_cookie_is_secure(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'prod.db'}", base_url=BASE, env="production")
    users.create_user(accounts(app), "anna@example.nl", Role.BEHEERDER, PASSWORD, actor=None)
    with TestClient(create_app(app), base_url=BASE) as client:
        assert "Secure" in log_in(client, "anna@example.nl").headers["set-cookie"]
    app.store.engine.dispose()


def test_a_wrong_password_shows_the_form_again_with_one_message_for_both_mistakes(
    site: tuple[App, TestClient],
) -> None:
    _, client = site
    wrong = log_in(client, "marketeer@example.nl", "not the password")
    unknown = log_in(client, "nobody@example.nl")
    for answer in (wrong, unknown):
        assert answer.status_code == 401 and "set-cookie" not in answer.headers
        assert "Het e-mailadres of het wachtwoord klopt niet." in answer.text
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_too_many_failures_lock_the_user_out_with_a_429_that_says_how_long(
    site: tuple[App, TestClient],
) -> None:
    app, client = site
    for _ in range(app.settings.admin_login_max_failures - 1):
        assert log_in(client, "beheerder@example.nl", "not the password").status_code == 401
    locked = log_in(client, "beheerder@example.nl", "not the password")
    assert locked.status_code == 429 and locked.headers["retry-after"] == "900"
    assert "Te veel mislukte pogingen. Probeer het over 15 min. opnieuw." in locked.text
    assert log_in(client, "beheerder@example.nl").status_code == 429
    actions = [e.action for e in users.audit_log(accounts(app))]
    assert AuditAction.LOCKOUT in actions


def test_one_client_trying_many_addresses_is_held_back_with_a_429(tmp_path: Path) -> None:
    app = make_app(
        f"sqlite:///{tmp_path / 'limited.db'}", base_url=BASE, admin_login_limit_per_client="2/hour"
    )
    with TestClient(create_app(app), base_url=BASE) as client:
        assert log_in(client, "one@example.nl").status_code == 401
        assert log_in(client, "two@example.nl").status_code == 401
        held = log_in(client, "three@example.nl")
    assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
    assert "Te veel mislukte pogingen." in held.text
    assert users.audit_log(accounts(app))[0].action is AuditAction.RATE_LIMITED
    app.store.engine.dispose()


def test_a_post_without_a_valid_token_or_from_another_site_is_refused(site: tuple[App, TestClient]) -> None:
    _, client = site
    data = {"email": "beheerder@example.nl", "password": PASSWORD}
    assert client.post("/admin/login", data=data).status_code == 403
    assert client.post("/admin/login", data={**data, "csrf": "forged"}).status_code == 403
    token = csrf_of(client.get("/admin/login"))
    cross = client.post(
        "/admin/login", data={**data, "csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status_code == 403 and "Dit formulier is verlopen" in cross.text
    assert "set-cookie" not in cross.headers

    assert log_in(client, "beheerder@example.nl").status_code == 303
    assert client.post("/admin/logout", follow_redirects=False).status_code == 403
    assert client.get("/admin").status_code == 200  # still logged in


def test_logout_ends_the_session_even_for_a_copy_of_its_cookie(site: tuple[App, TestClient]) -> None:
    app, client = site
    log_in(client, "read_only@example.nl")
    copy = client.cookies.get(admin_session.COOKIE)
    overview = client.get("/admin")
    out = client.post("/admin/logout", data={"csrf": csrf_of(overview)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/admin/login")
    assert f'{admin_session.COOKIE}=""' in out.headers["set-cookie"]
    assert copy is not None
    client.cookies.set(admin_session.COOKIE, copy, path="/admin")
    assert client.get("/admin", follow_redirects=False).status_code == 303
    assert users.audit_log(accounts(app))[0].action is AuditAction.LOGOUT


def test_a_session_expires_after_the_configured_minutes(site: tuple[App, TestClient]) -> None:
    app, client = site
    log_in(client, "marketeer@example.nl")
    _advance(app, minutes=app.settings.admin_session_minutes - 1)
    assert client.get("/admin").status_code == 200
    _advance(app, minutes=2)
    assert client.get("/admin", follow_redirects=False).status_code == 303


def test_a_forged_cookie_is_no_session(site: tuple[App, TestClient]) -> None:
    _, client = site
    client.cookies.set(admin_session.COOKIE, "eyJjIjoidTEifQ.forged", path="/admin")
    assert client.get("/admin", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.PRIVACY_OFFICER, 200), (Role.BEHEERDER, 200), (Role.MARKETEER, 403), (Role.READ_ONLY, 403)],
)
def test_the_role_guard_lets_only_its_roles_and_the_beheerder_through(
    site: tuple[App, TestClient], role: Role, status: int
) -> None:
    _, client = site
    log_in(client, f"{role.value}@example.nl")
    answer = client.get("/admin/test-privacy")
    assert answer.status_code == status
    if status == 403:
        assert "Niet voor jouw rol" in answer.text


def test_a_user_with_a_second_factor_needs_the_code_after_the_password(site: tuple[App, TestClient]) -> None:
    app, client = site
    log_in(client, "beheerder@example.nl")
    enrol = client.get("/admin/account/totp")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', enrol.text)
    assert secret, enrol.text
    code = Totp().code(secret.group(1), app.clock.now().timestamp())
    done = client.post(
        "/admin/account/totp", data={"csrf": csrf_of(enrol), "enrol": _field(enrol, "enrol"), "code": code}
    )
    assert done.status_code == 200 and "Je tweede factor staat aan" in done.text
    client.post("/admin/logout", data={"csrf": csrf_of(done)})

    _advance(app, seconds=30)
    asked = log_in(client, "beheerder@example.nl")
    assert asked.status_code == 200 and "<h1>Verificatiecode</h1>" in asked.text
    assert "set-cookie" not in asked.headers
    code = Totp().code(secret.group(1), app.clock.now().timestamp())
    form = {"csrf": csrf_of(asked), "pending": _field(asked, "pending")}
    wrong = client.post("/admin/login/code", data={**form, "code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 401 and "Die code klopt niet" in wrong.text
    right = client.post("/admin/login/code", data={**form, "code": code}, follow_redirects=False)
    assert right.status_code == 303 and admin_session.COOKIE in right.headers["set-cookie"]
    assert "Ingelogd als beheerder@example.nl" in client.get("/admin").text


def _field(page: httpx.Response, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)
