"""The import and campaign pages over HTTP (FastAPI's TestClient): whose upload is whose, what a
page refuses and says, and the Dutch dates the import service (CLI and pages) reads."""

from __future__ import annotations

import io
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import Inbox, define_purposes, make_app
from consentry.bootstrap import App
from consentry.domain.users import Role
from consentry.domain.vocabulary import PointKind, Source
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.http import create_app
from consentry.services import campaign_preview, campaigns, imports, ledger, sending, users
from consentry.services.decide import decide

BASE = "http://127.0.0.1:8000"
PASSWORD = "correct horse battery staple"
CAMPAIGN = {
    "key": "lente",
    "name": "Lente",
    "purpose": "nieuwsbrief",
    "channel": "email",
    "sender": {"name": "De Boon", "legal_name": "De Boon B.V.", "address": "Havenstraat 1, Utrecht",
               "kvk": "12345678", "email": "nieuws@deboon.example"},
    "content": {"nl": {"subject": "Lente", "body": "Hallo {{ name }}"}},
}  # fmt: skip
CSV = "\ufeffE-mailadres;Naam;Aangemeld op\r\nanna@example.nl;Anna;12-3-2024 14:05\r\n".encode()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[App, TestClient, TestClient]]:
    app = make_app(f"sqlite:///{tmp_path / 'consentry.db'}", base_url=BASE)
    define_purposes(app)
    api = create_app(app)
    clients = []
    for email in ("mia@example.nl", "max@example.nl"):
        users.create_user(accounts(app), email, Role.MARKETEER, PASSWORD, actor=None)
        client = TestClient(api, base_url=BASE)
        form = client.get("/admin/login")
        client.post("/admin/login", data={"email": email, "password": PASSWORD, "csrf": csrf_of(form)})
        clients.append(client)
    yield app, clients[0], clients[1]
    app.store.engine.dispose()


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def upload(client: TestClient, data: bytes = CSV, name: str = "klanten.csv") -> httpx.Response:
    form = client.get("/admin/import")
    return client.post(
        "/admin/import", data={"csrf": csrf_of(form)}, files={"file": (name, data, "text/csv")}
    )


def test_an_upload_is_only_its_uploaders_and_the_import_waits_for_its_dry_run(
    site: tuple[App, TestClient, TestClient],
) -> None:
    _, mia, max_ = site
    mapping = upload(mia)
    assert mapping.status_code == 200 and "Anna" in mapping.text
    path = mapping.url.path
    other = max_.get(path)
    assert other.status_code == 422 and "anna@example.nl" not in other.text
    early = mia.post(f"{path}/run", data={"csrf": csrf_of(mapping)})
    assert early.status_code == 422 and "dry run" in early.text


def test_a_mapping_without_a_contact_column_is_refused_on_the_mapping_page(
    site: tuple[App, TestClient, TestClient],
) -> None:
    _, mia, _ = site
    mapping = upload(mia)
    form = {
        "csrf": csrf_of(mapping),
        "map_name": "Naam",
        "source": "web_form",
        "basis": "legitimate_interest",
    }
    refused = mia.post(mapping.url.path, data=form)
    assert refused.status_code == 422
    assert "map at least one of email, phone or postal" in refused.text
    assert 'value="Naam" selected' in refused.text  # the choice made stays chosen


def test_a_dry_run_reports_every_row_and_writes_nothing(site: tuple[App, TestClient, TestClient]) -> None:
    app, mia, _ = site
    mapping = upload(mia, CSV + b"kapot;Bert;1-1-2024\r\n")
    form = {
        "csrf": csrf_of(mapping),
        "map_email": "E-mailadres",
        "map_consent_at": "Aangemeld op",
        "source": "web_form",
        "basis": "consent",
        "purpose": "nieuwsbrief",
    }
    started = mia.post(mapping.url.path, data=form)
    deadline = time.monotonic() + 10
    while mia.get(f"{mapping.url.path}/progress").json()["running"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mia.get(f"{mapping.url.path}/progress").json() == {"running": False, "done": 2, "total": 3}
    report = mia.get(started.url)
    assert re.search(r"2 (rows|rijen) in = 1 ", report.text), report.text
    assert "<td>3</td><td>E-mailadres</td>" in report.text
    with app.store.reader() as r:
        assert r.point_id(PointKind.EMAIL, "anna@example.nl") is None


def test_a_post_without_its_form_token_is_refused(site: tuple[App, TestClient, TestClient]) -> None:
    _, mia, _ = site
    refused = mia.post("/admin/import", files={"file": ("klanten.csv", CSV, "text/csv")})
    assert refused.status_code == 403
    refused = mia.post("/admin/campaigns/_lists.csv", data={"channel": "phone", "purpose": "nieuwsbrief"})
    assert refused.status_code == 403


def test_an_unknown_campaign_or_rule_is_a_page_that_says_so(site: tuple[App, TestClient, TestClient]) -> None:
    _, mia, _ = site
    missing = mia.get("/admin/campaigns/bestaat-niet")
    assert missing.status_code == 422 and "bestaat-niet" in missing.text


def test_the_csv_import_reads_dutch_dates_day_first(
    site: tuple[App, TestClient, TestClient], tmp_path: Path
) -> None:
    app, _, _ = site
    file = tmp_path / "klanten.csv"
    file.write_bytes(CSV)
    spec = imports.CsvSpec(
        source=Source.WEB_FORM,
        basis="consent",
        columns={"email": "E-mailadres", "consent_at": "Aangemeld op"},
        purpose="nieuwsbrief",
    )
    report = imports.run(app, file, imports.CsvMapper(app, spec))
    assert (report.imported, report.rejected) == (1, [])
    with app.store.reader() as r:
        events = r.conn.exec_driver_sql("SELECT type, occurred_at FROM events ORDER BY seq").all()
    consent = [str(at) for kind, at in events if kind == "consent.given"]
    assert consent and consent[0].startswith("2024-03-12 13:05")


def _zip(members: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("members_export/subscribed_members_export_f00.csv", members)
    return out.getvalue()


def test_a_mailchimp_zip_asks_for_its_purpose_and_imports_its_members_with_their_proof(
    site: tuple[App, TestClient, TestClient],
) -> None:
    app, mia, _ = site
    members = (
        "Email Address,First Name,OPTIN_TIME,OPTIN_IP,CONFIRM_TIME,CONFIRM_IP\n"
        "anna@example.nl,Anna,2024-03-01 10:00:00,192.0.2.1,2024-03-01 10:05:00,192.0.2.1\n"
    )
    mapping = upload(mia, _zip(members), "audience.zip")
    assert (
        mapping.status_code == 200 and 'name="audience"' in mapping.text and "map_email" not in mapping.text
    )
    refused = mia.post(mapping.url.path, data={"csrf": csrf_of(mapping), "purpose": ""})
    assert refused.status_code == 422 and "purpose" in refused.text
    mia.post(
        mapping.url.path, data={"csrf": csrf_of(mapping), "purpose": "nieuwsbrief", "audience": "Klanten"}
    )
    _wait(mia, mapping.url.path)
    report = mia.get(f"{mapping.url.path}/report")
    assert "subscribed_members_export_f00.csv (subscribed)" in report.text
    mia.post(f"{mapping.url.path}/run", data={"csrf": csrf_of(report)})
    _wait(mia, mapping.url.path)
    with app.store.reader() as r:
        assert r.point_id(PointKind.EMAIL, "anna@example.nl") is not None
    assert mia.get(mapping.url.path).status_code == 422  # the upload is gone once imported


def _wait(client: TestClient, path: str) -> None:
    deadline = time.monotonic() + 10
    while client.get(f"{path}/progress").json()["running"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_paused_campaign_is_resumed_from_its_page_and_sends_on(
    tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    app = make_app(f"sqlite:///{tmp_path / 'consentry.db'}", base_url=BASE, smtp_port=port)
    define_purposes(app)
    users.create_user(accounts(app), "mia@example.nl", Role.MARKETEER, PASSWORD, actor=None)
    registered = {
        "type": "contact_point.registered",
        "kind": "email",
        "value": "anna@example.nl",
        "source": "web_form",
    }
    consent = {
        "type": "consent.given",
        "contact": "anna@example.nl",
        "purpose": "nieuwsbrief",
        "channels": ["email"],
        "method": "single_opt_in",
    }
    ledger.append_records(app, [(1, registered), (2, consent)])
    campaigns.define(app, CAMPAIGN)
    sending.start(app, "lente")
    sending.pause(app, "lente", "paused by the operator")
    client = TestClient(create_app(app), base_url=BASE)
    form = client.get("/admin/login")
    client.post("/admin/login", data={"email": "mia@example.nl", "password": PASSWORD, "csrf": csrf_of(form)})
    page = client.get("/admin/campaigns/lente")
    assert "paused by the operator" in page.text and "/admin/campaigns/lente/resume" in page.text
    client.post("/admin/campaigns/lente/resume", data={"csrf": csrf_of(page)})
    _wait(client, "/admin/campaigns/lente")
    assert [m["To"] for m in inbox.wait_for(1)] == ["anna@example.nl"]
    assert campaigns.progress(app, "lente").counts["sent"] == 1
    app.store.engine.dispose()


def test_a_preview_is_written_for_the_first_reachable_person_with_links_that_unsubscribe_nobody(
    site: tuple[App, TestClient, TestClient],
) -> None:
    app, _, _ = site
    registered = {
        "type": "contact_point.registered",
        "kind": "email",
        "value": "anna@example.nl",
        "source": "web_form",
    }
    consent = {
        "type": "consent.given",
        "contact": "anna@example.nl",
        "purpose": "nieuwsbrief",
        "channels": ["email"],
        "method": "single_opt_in",
    }
    ledger.append_records(app, [(1, {**registered, "display_name": "Anna"}), (2, consent)])
    campaigns.define(app, CAMPAIGN)
    shown = campaign_preview.preview(app, "lente")
    assert (shown.recipient, shown.name, shown.example) == ("anna@example.nl", "Anna", False)
    assert shown.composed.text.startswith("Hallo Anna")
    client = TestClient(create_app(app), base_url=BASE)
    clicked = client.post(
        shown.composed.unsubscribe_url.removeprefix(BASE), data={"List-Unsubscribe": "One-Click"}
    )
    assert clicked.status_code == 404
    with app.store.reader() as r:
        point = r.point_id(PointKind.EMAIL, "anna@example.nl")
    assert point is not None
    assert decide(app, "anna@example.nl", "email", "nieuwsbrief").verdict.value == "allow"
