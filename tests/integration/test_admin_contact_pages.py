"""Contacten and Overzicht over HTTP: who may search, open, export and record; what the pages show.

The new texts are checked in English (?lang=en): the Dutch catalog gains them when the
integrator re-extracts it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_admin_app_pages import BASE, PASSWORD, log_in, post, token_of
from test_admin_import_pages import CSV, csrf_of, upload

from conftest import define_purposes, make_app
from consentry.bootstrap import App
from consentry.domain.users import AuditAction, Role
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.http import create_app
from consentry.services import contact_page, imports, search, users
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


@pytest.fixture
def both(store_url: str) -> Iterator[tuple[App, TestClient]]:
    """The same people on SQLite and on PostgreSQL."""
    app = make_app(store_url, base_url=BASE)
    define_purposes(app)
    people(app)
    for role in Role:
        users.create_user(accounts(app), f"{role.value}@example.nl", role, PASSWORD, actor=None)
    with TestClient(create_app(app), base_url=BASE) as client:
        yield app, client
    app.store.engine.dispose()


def _matrix(html: str) -> str:
    return html[html.index('id="matrix"') : html.index('id="timeline"')]


def test_a_note_is_sealed_in_the_ledger_shown_in_the_timeline_and_changes_no_decision(
    both: tuple[App, TestClient],
) -> None:
    app, client = both
    log_in(client, Role.MARKETEER)
    jan = search.search(app, "jan@example.nl").points[0].id
    page = f"/admin/contacts/{jan}?lang=en"
    before = client.get(page).text
    assert "Add the note" in before
    written = {"note": " Belde terug.\nWil alleen post. "}
    done = post(client, page, f"/admin/contacts/{jan}/note?lang=en", written)
    assert done.status_code == 303 and "done=note" in done.headers["location"]
    after = client.get(done.headers["location"]).text
    assert "The note was added to the timeline." in after
    assert "Belde terug.\nWil alleen post." in unescape(after) and "marketeer@example.nl" in after
    assert _matrix(after) == _matrix(before)  # the rules read nothing from a note
    with app.store.reader() as r:
        (noted,) = [e for e in r.events_for(jan) if e.type == "note.recorded"]
    assert noted.payload["note"] == "Belde terug.\nWil alleen post."
    with app.store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT payload, sealed FROM events WHERE type = 'note.recorded'").one()
    assert "Belde" not in str(stored[0]) and b"Belde" not in bytes(stored[1])  # sealed, not in clear
    (entry,) = [e for e in users.audit_log(accounts(app)) if e.action is AuditAction.NOTE_RECORDED]
    assert (entry.actor, entry.subject, entry.detail["event"]) == ("marketeer@example.nl", jan, noted.id)
    assert "Belde" not in str(entry.detail)
    for bad, says in (
        ("Belde\x1bterug", "control character (U+001B, ESC)"),
        ("x" * 4001, "longer than the limit of 4000 characters"),
        ("   ", "it is empty"),
    ):
        refused = post(client, page, f"/admin/contacts/{jan}/note?lang=en", {"note": bad})
        assert refused.status_code == 422 and "Nothing was saved" in refused.text
        assert says in unescape(refused.text)
    with app.store.reader() as r:
        assert sum(e.type == "note.recorded" for e in r.events_for(jan)) == 1
    client.cookies.clear()
    log_in(client, Role.READ_ONLY)
    shown = client.get(page)
    assert "Add the note" not in shown.text
    refused = client.post(f"/admin/contacts/{jan}/note", data={"csrf": token_of(shown), "note": "x"})
    assert refused.status_code == 403


def test_a_privacy_officer_erases_a_person_after_a_confirmation_and_the_page_says_when(
    both: tuple[App, TestClient],
) -> None:
    app, client = both
    log_in(client, Role.PRIVACY_OFFICER)
    jan = search.search(app, "jan@example.nl").points[0].id
    phone = search.search(app, "0612345678").points[0].id
    assert "Erase this person" in client.get(f"/admin/contacts/{jan}?lang=en").text
    ask = client.get(f"/admin/contacts/{jan}/erase?lang=en")
    assert ask.status_code == 200
    asked = text(ask.text)
    assert "jan@example.nl" in asked and "+31612345678" in asked and phone in asked
    assert "These 2 contact points of the person are erased for good" in asked
    assert "A suppression record per contact point" in asked and "Yes, erase 2 contact points" in asked
    assert "The list shows the first" not in asked
    no_reason = post(client, f"/admin/contacts/{jan}/erase?lang=en", f"/admin/contacts/{jan}/erase?lang=en",
                     {"reason": ""})  # fmt: skip
    assert no_reason.status_code == 422 and "Nothing was saved" in no_reason.text
    free_text = post(client, f"/admin/contacts/{jan}/erase?lang=en", f"/admin/contacts/{jan}/erase?lang=en",
                     {"reason": "he called"})  # fmt: skip
    assert free_text.status_code == 422
    with app.store.reader() as r:
        assert not r.is_erased(jan)
    done = post(client, f"/admin/contacts/{jan}/erase?lang=en", f"/admin/contacts/{jan}/erase?lang=en",
                {"reason": "request"})  # fmt: skip
    assert done.status_code == 303 and "done=erased" in done.headers["location"]
    after = client.get(done.headers["location"])
    assert after.status_code == 200
    shown = text(after.text)
    assert "The person was erased; their suppression records stay." in shown
    assert re.search(r"Erased on \d+ \w+ 2026", shown)
    assert "CET" in shown and "Only a suppression record remains" in shown
    assert "jan@example.nl" not in after.text and "Jan Jansen" not in after.text
    assert "192.0.2.10" not in after.text  # the consent's evidence went with the key
    assert "Consent given" in shown and "Erased" in shown  # the clear part of the timeline stays
    with app.store.reader() as r:
        assert r.is_erased(jan) and r.is_erased(phone)
    assert client.get(f"/admin/contacts/{phone}?lang=en").status_code == 200
    assert "Erased on" in client.get(f"/admin/contacts/{jan}/erase?lang=en").text  # nothing left to erase
    assert "Erase this person" not in after.text and "Add the note" not in after.text
    late = post(
        client, f"/admin/contacts/{phone}?lang=en", f"/admin/contacts/{phone}/note?lang=en", {"note": "x"}
    )
    assert late.status_code == 422 and "Erased on" in late.text and "erased" in late.text
    (entry,) = [e for e in users.audit_log(accounts(app)) if e.action is AuditAction.CONTACT_ERASED]
    assert (entry.actor, entry.subject) == ("privacy_officer@example.nl", jan)
    assert entry.detail == {"reason": "request", "points": sorted([jan, phone]), "keys_destroyed": 1}
    assert "Person erased" in client.get("/admin/audit?lang=en").text


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_marketer_and_read_only_cannot_erase_a_beheerder_can(
    both: tuple[App, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client = both
    piet = search.search(app, "piet@example.nl").points[0].id
    for role in (Role.MARKETEER, Role.READ_ONLY):
        client.cookies.clear()
        log_in(client, role)
        shown = client.get(f"/admin/contacts/{piet}?lang=en")
        assert shown.status_code == 200 and "Erase this person" not in shown.text
        assert client.get(f"/admin/contacts/{piet}/erase").status_code == 403
        refused = client.post(
            f"/admin/contacts/{piet}/erase", data={"csrf": token_of(shown), "reason": "request"}
        )
        assert refused.status_code == 403
    with app.store.reader() as r:
        assert not r.is_erased(piet)
    client.cookies.clear()
    log_in(client, Role.BEHEERDER)
    jan = search.search(app, "jan@example.nl").points[0].id
    monkeypatch.setattr(contact_page, "PERSON_POINTS", 2)  # a person with more points than listed
    capped = client.get(f"/admin/contacts/{jan}/erase?lang=en").text
    assert "The list shows the first 2; every contact point of the person is erased." in capped
    page = f"/admin/contacts/{piet}/erase?lang=en"
    assert "This contact point of the person is erased for good" in client.get(page).text
    assert client.post(f"/admin/contacts/{piet}/erase", data={"reason": "request"}).status_code == 403
    done = post(client, page, f"/admin/contacts/{piet}/erase?lang=en", {"reason": "duplicate"})
    assert done.status_code == 303
    with app.store.reader() as r:
        assert r.is_erased(piet)


def wait_for_import(client: TestClient, path: str) -> None:
    deadline = time.monotonic() + 30
    while client.get(f"{path}/progress").json()["running"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _import_through_the_pages(client: TestClient, data: bytes, name: str) -> None:
    """Upload, map, dry-run and import a CSV as a marketer does on the Importeren pages."""
    mapping = upload(client, data, name)
    path = mapping.url.path
    form = {"csrf": csrf_of(mapping), "map_email": "E-mailadres", "map_consent_at": "Aangemeld op",
            "source": "web_form", "basis": "consent", "purpose": "nieuwsbrief"}  # fmt: skip
    client.post(path, data=form)
    wait_for_import(client, path)
    report = client.get(f"{path}/report")
    client.post(f"{path}/run", data={"csrf": csrf_of(report)})
    wait_for_import(client, path)


def test_the_overview_lists_recent_imports_with_their_accounting_and_state(
    both: tuple[App, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client = both
    log_in(client, Role.MARKETEER)
    assert "No file has been imported in the app yet." in text(client.get("/admin?lang=en").text)
    _import_through_the_pages(client, CSV + b"kapot;Bert;1-1-2024\r\nanna@example.nl;Anna;\r\n", "lente.csv")

    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("disk full")

    mapping = upload(client, CSV, "zomer.csv")
    form = {"csrf": csrf_of(mapping), "map_email": "E-mailadres", "source": "web_form", "basis": "consent",
            "purpose": "nieuwsbrief"}  # fmt: skip
    client.post(mapping.url.path, data=form)
    wait_for_import(client, mapping.url.path)
    report = client.get(f"{mapping.url.path}/report")
    monkeypatch.setattr(imports, "run", broken)
    client.post(f"{mapping.url.path}/run", data={"csrf": csrf_of(report)})
    wait_for_import(client, mapping.url.path)
    page = client.get("/admin?lang=en").text
    shown = text(page)
    assert "Recent imports" in shown and "Rows in = imported + merged + rejected" in shown
    rows = re.findall(
        r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", page
    )
    assert [(who, file, rows_in, state) for _, who, file, rows_in, state in rows] == [
        ("marketeer@example.nl", "zomer.csv", "–", "failed"),
        ("marketeer@example.nl", "lente.csv", "3 = 1 + 1 + 1", "imported"),
    ]
    assert all("CET" in at for at, *_ in rows)
    assert [
        e.detail.get("state") for e in users.audit_log(accounts(app)) if e.action is AuditAction.IMPORTED
    ] == [
        "failed",
        "done",
    ]
    with app.store.reader() as r:  # the newest import first, read on the action's index
        assert [e.subject for e in r.audit_entries(AuditAction.IMPORTED, 1)] == ["zomer.csv"]
    client.cookies.clear()
    log_in(client, Role.READ_ONLY)
    assert "lente.csv" in client.get("/admin?lang=en").text
