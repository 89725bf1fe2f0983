"""The admin app's pages over HTTP: Doelen, Formulieren, Instellingen (identity, mail sender,
API keys, users) and the audit log, with the roles that may open and change them.

The new texts are checked in English (?lang=en): the Dutch catalog gains them when the
integrator re-extracts it.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import Inbox, body_text, make_app
from consentry.bootstrap import App
from consentry.domain.users import AuditAction, AuditEntry, Role
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.http import create_app
from consentry.services import apikeys, forms, public, purposes, setup, users
from consentry.services.public import Evidence

BASE = "http://127.0.0.1:8000"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def site(tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[tuple[App, TestClient]]:
    app = make_app(f"sqlite:///{tmp_path / 'consentry.db'}", base_url=BASE, smtp_port=smtp[1])
    for role in Role:
        users.create_user(accounts(app), f"{role.value}@example.nl", role, PASSWORD, actor=None)
    with TestClient(create_app(app), base_url=BASE) as client:
        yield app, client
    app.store.engine.dispose()


def token_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def log_in(client: TestClient, role: Role) -> None:
    form = client.get("/admin/login")
    done = client.post(
        "/admin/login",
        data={"email": f"{role.value}@example.nl", "password": PASSWORD, "csrf": token_of(form)},
        follow_redirects=False,
    )
    assert done.status_code == 303


def post(client: TestClient, page: str, path: str, data: dict[str, object]) -> httpx.Response:
    """Open `page`, then post `data` to `path` with the page's form token, as a browser would."""
    opened = client.get(page)
    assert opened.status_code == 200, opened.text
    return client.post(path, data={**data, "csrf": token_of(opened)}, follow_redirects=False)


def actions(app: App) -> list[tuple[AuditAction, str | None, str | None]]:
    return [(e.action, e.actor, e.subject) for e in reversed(users.audit_log(accounts(app)))]


def test_a_marketer_defines_and_renames_a_purpose_and_makes_a_form_in_versions_each_recorded(
    site: tuple[App, TestClient],
) -> None:
    app, client = site
    log_in(client, Role.MARKETEER)
    page = "/admin/purposes?lang=en"
    made = post(
        client, page, "/admin/purposes?lang=en", {"key": "nieuws", "name_nl": "Nieuws", "name_en": "News"}
    )
    assert made.status_code == 303 and "done=defined" in made.headers["location"]
    assert "Purpose nieuws was defined." in client.get(made.headers["location"]).text
    bad = post(client, page, "/admin/purposes?lang=en", {"key": "Not A Key", "name_nl": "x", "name_en": "y"})
    assert bad.status_code == 422 and "Nothing was saved" in bad.text and 'value="Not A Key"' in bad.text
    renamed = post(
        client,
        "/admin/purposes/nieuws",
        "/admin/purposes/nieuws",
        {"name_nl": "Nieuwsbrief", "name_en": "Newsletter"},
    )
    assert renamed.status_code == 303
    assert purposes.get(app, "nieuws").name_nl == "Nieuwsbrief"

    item = {"slot": ["nieuws"], "asked": ["nieuws"], "text_nl": ["Ja, graag."], "text_en": ["Yes, please."]}
    doc = {"key": "footer", "title_nl": "Blijf op de hoogte", "title_en": "Stay informed", **item}
    created = post(client, "/admin/forms/_new", "/admin/forms", doc)
    assert created.status_code == 303 and created.headers["location"].startswith("/admin/forms/footer?")
    assert forms.get(app, "footer").version == 1
    same = post(client, "/admin/forms/footer?lang=en", "/admin/forms?lang=en", doc)
    assert "done=unchanged" in same.headers["location"]
    changed = post(
        client, "/admin/forms/footer?lang=en", "/admin/forms?lang=en", {**doc, "title_en": "Keep up"}
    )
    shown = client.get(changed.headers["location"])
    assert "Version 2 was saved." in shown.text and forms.get(app, "footer").title_en == "Keep up"
    # The page previews the public form in a frame and offers the embed code with a copy button.
    assert 'src="/f/footer?embed=1&amp;lang=en"' in shown.text
    assert (
        "http://127.0.0.1:8000/f/footer?embed=1" in shown.text and 'data-copy="embed-snippet"' in shown.text
    )
    policy = shown.headers["content-security-policy"]
    assert (
        "script-src 'self'" in policy and "frame-src 'self'" in policy and "frame-ancestors 'none'" in policy
    )
    assert client.get("/f/footer?embed=1").status_code == 200
    assert client.get("/static/admin.js").status_code == 200
    nothing = post(client, "/admin/forms/_new", "/admin/forms?lang=en", {**doc, "key": "empty", "asked": []})
    assert nothing.status_code == 422 and "Purposes asked" in nothing.text
    assert forms.list_all(app)[0].key == "footer" and len(forms.list_all(app)) == 1

    mine = [(a, s) for a, who, s in actions(app) if who == "marketeer@example.nl"]
    assert mine == [
        (AuditAction.LOGIN, "marketeer@example.nl"),
        (AuditAction.PURPOSE_SAVED, "nieuws"),
        (AuditAction.PURPOSE_SAVED, "nieuws"),
        (AuditAction.FORM_SAVED, "footer"),
        (AuditAction.FORM_SAVED, "footer"),
    ]


def _png() -> bytes:
    """A 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0\0\0\0"))
        + chunk(b"IEND", b"")
    )


def test_the_senders_identity_set_by_a_beheerder_shows_on_the_public_form_and_in_the_confirmation_mail(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    purposes.define(app, "nieuws", "Nieuws", "News")
    forms.save(
        app,
        {
            "key": "f",
            "title_nl": "T",
            "title_en": "T",
            "items": [{"purpose": "nieuws", "text_nl": "Ja", "text_en": "Yes"}],
        },
    )
    log_in(client, Role.BEHEERDER)
    identity = {
        "name": "Koffiebranderij De Boon",
        "kvk": "1234 5678",
        "address": "Markt 1, 1234 AB Utrecht",
        "privacy_url": "https://deboon.example/privacy",
        "colour": "#ffee00",
    }
    opened = client.get("/admin/settings?lang=en")
    too_light = client.post(
        "/admin/settings/identity?lang=en",
        data={**identity, "csrf": token_of(opened)},
        files={"logo": ("logo.png", _png(), "image/png")},
    )
    assert too_light.status_code == 422 and "Colour" in too_light.text and "4.5:1" in too_light.text
    assert "De Boon" not in client.get("/f/f").text
    saved = client.post(
        "/admin/settings/identity?lang=en",
        data={**identity, "colour": "#7a3b00", "csrf": token_of(opened)},
        files={"logo": ("logo.png", _png(), "image/png")},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with app.store.reader() as r:  # the controller profile names the same organisation
        assert setup.controller(r).name == "Koffiebranderij De Boon"
    mail = post(
        client,
        "/admin/settings",
        "/admin/settings/mail",
        {"mail_from_name": "De Boon", "mail_from": "Nieuws@DeBoon.example"},
    )
    assert mail.status_code == 303
    injected = post(
        client,
        "/admin/settings",
        "/admin/settings/mail?lang=en",
        {"mail_from_name": "X\r\nBcc: a@b.nl", "mail_from": "a@b.nl"},
    )
    assert injected.status_code == 422

    form = client.get("/f/f")
    assert 'src="/brand/logo" alt="Koffiebranderij De Boon"' in form.text and "KvK 12345678" in form.text
    assert 'href="https://deboon.example/privacy"' in form.text and 'href="/brand.css"' in form.text
    assert client.get("/brand/logo").content == _png()
    assert "--accent: #7a3b00;" in client.get("/brand.css").text

    public.sign_up(app, "f", "jan@example.nl", ["nieuws"], "nl", Evidence())
    msg = smtp[0].wait_for(1)[0]
    assert msg["From"] == "De Boon <nieuws@deboon.example>"
    text = body_text(msg)
    assert (
        "Koffiebranderij De Boon" in text
        and "KvK 12345678" in text
        and "https://deboon.example/privacy" in text
    )
    changes = [
        s for a, who, s in actions(app) if a is AuditAction.SETTINGS_CHANGED and who == "beheerder@example.nl"
    ]
    assert changes == ["sender", "mail_sender"]


def test_a_beheerder_makes_and_revokes_an_api_key_and_manages_users_each_recorded(
    site: tuple[App, TestClient],
) -> None:
    app, client = site
    log_in(client, Role.BEHEERDER)
    made = post(
        client,
        "/admin/settings/keys?lang=en",
        "/admin/settings/keys?lang=en",
        {"name": "webshop", "scope": "write"},
    )
    secret = re.search(r'<code id="new-secret">(cs_[^<]+)</code>', made.text)
    assert made.status_code == 200 and secret and made.headers["cache-control"] == "no-store"
    key = apikeys.authenticate(app, secret.group(1), apikeys.Scope.WRITE)
    assert secret.group(1) not in client.get("/admin/settings/keys").text
    revoked = post(client, "/admin/settings/keys", f"/admin/settings/keys/{key.id}/revoke", {})
    assert revoked.status_code == 303
    with pytest.raises(apikeys.NotAuthorised, match="revoked"):
        apikeys.authenticate(app, secret.group(1), apikeys.Scope.READ)

    page = "/admin/settings/users?lang=en"
    added = post(
        client,
        page,
        "/admin/settings/users",
        {"email": "Piet@Example.nl", "role": "marketeer", "password": PASSWORD},
    )
    assert added.status_code == 303
    short = post(
        client,
        page,
        "/admin/settings/users?lang=en",
        {"email": "k@example.nl", "role": "marketeer", "password": "short"},
    )
    assert short.status_code == 422 and "Password" in short.text
    post(client, page, "/admin/settings/users/role", {"email": "piet@example.nl", "role": "privacy_officer"})
    assert users.find(accounts(app), "piet@example.nl").role is Role.PRIVACY_OFFICER
    acc = accounts(app)
    secret_totp, _ = users.new_totp(acc, users.find(acc, "piet@example.nl"))
    acc.users.update_user(users.find(acc, "piet@example.nl").id, totp_secret=secret_totp)
    post(client, page, "/admin/settings/users/totp-reset", {"email": "piet@example.nl"})
    assert not users.find(acc, "piet@example.nl").has_second_factor
    post(client, page, "/admin/settings/users/disable", {"email": "piet@example.nl"})
    assert not users.find(acc, "piet@example.nl").active
    # The last active beheerder keeps the role: nobody else could manage users and settings.
    last = post(
        client,
        page,
        "/admin/settings/users/role?lang=en",
        {"email": "beheerder@example.nl", "role": "read_only"},
    )
    assert last.status_code == 422 and "last active beheerder" in last.text
    assert users.find(acc, "beheerder@example.nl").role is Role.BEHEERDER

    mine = [
        (a, s) for a, who, s in actions(app) if who == "beheerder@example.nl" and a is not AuditAction.LOGIN
    ]
    assert mine == [
        (AuditAction.API_KEY_CREATED, key.id),
        (AuditAction.API_KEY_REVOKED, key.id),
        (AuditAction.USER_CREATED, "piet@example.nl"),
        (AuditAction.ROLE_CHANGED, "piet@example.nl"),
        (AuditAction.TOTP_RESET, "piet@example.nl"),
        (AuditAction.USER_DISABLED, "piet@example.nl"),
    ]


MENU = {
    Role.BEHEERDER: [
        "Overview",
        "Contacts",
        "Purposes",
        "Forms",
        "Import",
        "Audiences and campaigns",
        "Requests",
        "Retention periods",
        "Registers",
        "Audit log",
        "Settings",
    ],
    Role.MARKETEER: [
        "Overview",
        "Contacts",
        "Purposes",
        "Forms",
        "Import",
        "Audiences and campaigns",
        "Registers",
    ],
    Role.PRIVACY_OFFICER: [
        "Overview",
        "Contacts",
        "Purposes",
        "Forms",
        "Requests",
        "Retention periods",
        "Registers",
        "Audit log",
    ],
    Role.READ_ONLY: ["Overview", "Contacts", "Purposes", "Forms", "Requests", "Registers"],
}
BEHEERDER_ONLY = ["/admin/settings", "/admin/settings/keys", "/admin/settings/users"]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_only_the_pages_it_may_open_and_changes_only_what_it_may(
    site: tuple[App, TestClient], role: Role
) -> None:
    app, client = site
    purposes.define(app, "nieuws", "Nieuws", "News")
    log_in(client, role)
    overview = client.get("/admin?lang=en")
    menu = re.search(r'<nav class="admin-menu".*?</nav>', overview.text, re.S)
    assert menu and re.findall(r">([^<>]+)</a>", menu.group(0)) == MENU[role]
    for path in BEHEERDER_ONLY:
        assert client.get(path).status_code == (200 if role is Role.BEHEERDER else 403), path
    assert client.get("/admin/audit").status_code == (
        200 if role in (Role.BEHEERDER, Role.PRIVACY_OFFICER) else 403
    )
    may_change = role in (Role.BEHEERDER, Role.MARKETEER)
    listing = client.get("/admin/purposes?lang=en")
    assert listing.status_code == 200 and ("New purpose" in listing.text) is may_change
    assert ("New form" in client.get("/admin/forms?lang=en").text) is may_change
    tried = post(client, "/admin/purposes", "/admin/purposes", {"key": "x", "name_nl": "X", "name_en": "X"})
    assert tried.status_code == (303 if may_change else 403)
    key = post(client, "/admin/purposes", "/admin/settings/keys", {"name": "sneaky", "scope": "admin"})
    assert key.status_code == (200 if role is Role.BEHEERDER else 403)
    assert bool(apikeys.list_all(app)) is (role is Role.BEHEERDER)


def test_a_post_without_the_users_form_token_changes_nothing(site: tuple[App, TestClient]) -> None:
    app, client = site
    log_in(client, Role.BEHEERDER)
    refused = client.post("/admin/purposes", data={"key": "x", "name_nl": "X", "name_en": "X"})
    assert refused.status_code == 403 and purposes.list_all(app) == []
    forged = client.post(
        "/admin/settings/keys",
        data={"name": "k", "scope": "read", "csrf": token_of(client.get("/admin/login"))},
    )
    assert forged.status_code == 403 and apikeys.list_all(app) == []


def test_the_audit_page_shows_the_log_newest_first_a_page_at_a_time_in_dutch_time(
    site: tuple[App, TestClient],
) -> None:
    app, client = site
    acc = accounts(app)
    for n in range(120):
        entry = AuditEntry(
            app.clock.now(), "beheerder@example.nl", AuditAction.USER_CREATED, f"u{n:03}@example.nl"
        )
        acc.users.record(entry)
    log_in(client, Role.PRIVACY_OFFICER)
    first = client.get("/admin/audit?lang=en")
    rows = re.findall(
        r"<tr>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>", first.text
    )
    assert len(rows) == 50
    # The tests' clock says 2026-11-23 12:00 UTC: 13:00 in Amsterdam, winter time.
    assert rows[0] == (
        "23 Nov 2026 13:00 CET",
        "privacy_officer@example.nl",
        "Logged in",
        "privacy_officer@example.nl",
    )
    assert rows[1][3] == "u119@example.nl" and rows[49][3] == "u071@example.nl"
    older = re.search(r'href="(/admin/audit\?[^"]*before=\d+)"', first.text)
    assert older
    second = client.get(older.group(1).replace("&amp;", "&"))
    subjects = re.findall(r"<td>(u\d{3}@example.nl)</td>", second.text)
    assert subjects[0] == "u070@example.nl" and len(subjects) == 50
    assert client.get("/admin/audit?before=0").status_code == 422
