"""Contacten and Overzicht over HTTP: who may search, open, export and record; what the pages show.

The new texts are checked in English (?lang=en): the Dutch catalog gains them when the
integrator re-extracts it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_admin_app_pages import BASE, PASSWORD, log_in, post

from conftest import define_purposes, make_app
from consentry.bootstrap import App
from consentry.domain.users import AuditAction, Role
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.http import create_app
from consentry.services import search, users
from contact_people import people


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[App, TestClient]]:
    app = make_app(f"sqlite:///{tmp_path / 'consentry.db'}", base_url=BASE)
    define_purposes(app)
    people(app)
    for role in Role:
        users.create_user(accounts(app), f"{role.value}@example.nl", role, PASSWORD, actor=None)
    with TestClient(create_app(app), base_url=BASE) as client:
        yield app, client
    app.store.engine.dispose()


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_privacy_officer_searches_opens_a_contact_and_records_an_objection_by_phone(
    site: tuple[App, TestClient],
) -> None:
    app, client = site
    log_in(client, Role.PRIVACY_OFFICER)
    by_name = client.get("/admin/contacts", params={"q": "jansen jan", "lang": "en"})
    assert by_name.status_code == 200
    assert "2 contact points found." in text(by_name.text)
    assert "jan@example.nl" in by_name.text and "piet@example.nl" not in by_name.text
    by_tag = client.get("/admin/contacts", params={"q": "vip", "by": "tag", "lang": "en"})
    assert "janneke@example.nl" in by_tag.text and "piet@example.nl" in by_tag.text
    bad = client.get("/admin/contacts", params={"q": "x", "by": "all", "lang": "en"})
    assert bad.status_code == 422 and "Nothing was searched" in bad.text
    jan = search.search(app, "jan@example.nl").points[0].id
    page = client.get(f"/admin/contacts/{jan}", params={"lang": "en", "at": "2026-11-01"})
    assert page.status_code == 200
    shown = text(page.text)
    assert "Jan Jansen" in shown and "+31612345678" in shown
    assert "allowed" in shown and "not allowed" in shown and "Rule:" in shown
    assert "Consent given" in shown and "192.0.2.10" in shown
    assert shown.count("Purpose") >= 2  # the matrix now and as of 1 November
    assert client.get(f"/admin/contacts/{jan}", params={"at": "2099-01-01"}).status_code == 422
    assert client.get(f"/admin/contacts/{jan}", params={"at": "gisteren"}).status_code == 422
    assert client.get("/admin/contacts/cp_nothing").status_code == 422
    proof = client.get(f"/admin/contacts/{jan}/proof", params={"lang": "en"})
    assert proof.status_code == 200 and "192.0.2.10" in proof.text
    assert "script-src" not in proof.headers["Content-Security-Policy"]
    done = post(client, f"/admin/contacts/{jan}?lang=en", f"/admin/contacts/{jan}/objection?lang=en",
                {"scope": "direct_marketing"})  # fmt: skip
    assert done.status_code == 303 and "done=objection" in done.headers["location"]
    assert "The objection was recorded in the ledger." in client.get(done.headers["location"]).text
    wrong = post(client, f"/admin/contacts/{jan}?lang=en", f"/admin/contacts/{jan}/objection?lang=en",
                 {"scope": "all"})  # fmt: skip
    assert wrong.status_code == 422
    export = post(client, f"/admin/contacts/{jan}?lang=en", f"/admin/contacts/{jan}/access?lang=en", {})
    assert export.status_code == 200 and "+31612345678" in export.text
    recorded = [(e.action, e.actor) for e in users.audit_log(accounts(app))[:2]]
    assert recorded == [
        (AuditAction.ACCESS_EXPORTED, "privacy_officer@example.nl"),
        (AuditAction.OBJECTION_RECORDED, "privacy_officer@example.nl"),
    ]
    assert "Objection recorded by phone" in client.get("/admin/audit?lang=en").text


def test_read_only_sees_contacts_but_cannot_export_or_record(site: tuple[App, TestClient]) -> None:
    app, client = site
    log_in(client, Role.READ_ONLY)
    jan = search.search(app, "jan@example.nl").points[0].id
    page = client.get(f"/admin/contacts/{jan}", params={"lang": "en"})
    assert page.status_code == 200 and "Record the objection" not in page.text
    assert "Proof of consent" in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token
    for action in ("objection", "access"):
        refused = client.post(
            f"/admin/contacts/{jan}/{action}", data={"csrf": token.group(1), "scope": "profiling"}
        )
        assert refused.status_code == 403
    assert len(users.audit_log(accounts(app))) == sum(1 for _ in users.audit_log(accounts(app)))


def test_the_overview_tells_integrity_notices_owed_and_campaigns(site: tuple[App, TestClient]) -> None:
    _, client = site
    log_in(client, Role.MARKETEER)
    page = text(client.get("/admin?lang=en").text)
    assert "The quick check found nothing wrong: 8 events" in page
    assert "No checkpoint has been exported" in page
    # Janneke was referred by someone else and has had no privacy notice.
    assert "1 contact point whose data did not come from the person" in page
    assert "No campaign is being sent." in page
