"""A marketer's day in the admin app, in Debian's Chromium against uvicorn and a real SMTP server:
import a Dutch Excel CSV through the mapping step, define a campaign, read its exclusion report,
send a test and the campaign. A privacy officer and a read-only user cannot open these pages."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from test_browser import SCREENSHOTS, browser

from conftest import Inbox, body_text, define_purposes, free_port, make_app, serving_app
from consentry.bootstrap import App
from consentry.domain.users import AuditAction, Role
from consentry.entrypoints.accounts import accounts
from consentry.services import ledger, users

__all__ = ["browser"]
PASSWORD = "correct horse battery staple"
#: As Dutch Excel saves "CSV (gescheiden door lijstscheidingsteken)" as UTF-8: a BOM, `;`, CRLF,
#: dates day first. Line 4's date does not exist.
EXCEL_CSV = (
    "\ufeffE-mailadres;Naam;Aangemeld op;Plaats\r\n"
    "anna@example.nl;Anna de Vries;12-3-2024 14:05;Utrecht\r\n"
    "zoe@example.nl;Zoë Bakker;12 mrt 2024;Delft\r\n"
    "cees@example.nl;Cees;31-02-2024;Ede\r\n"
).encode()


@pytest.fixture
def served(tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[tuple[App, str]]:
    """The app under uvicorn on SQLite and the test SMTP server, with one user of each role and
    one contact who signed up but never consented (the exclusion report's case)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(f"sqlite:///{tmp_path / 'consentry.db'}", smtp_port=smtp[1], base_url=base)
    define_purposes(app)
    for role in Role:
        users.create_user(accounts(app), f"{role.value}@example.nl", role, PASSWORD, actor=None)
    record = {
        "type": "contact_point.registered",
        "kind": "email",
        "value": "dirk@example.nl",
        "source": "web_form",
    }
    ledger.append_records(app, [(1, record)])
    try:
        with serving_app(app, port):
            yield app, base
    finally:
        app.store.engine.dispose()


def _log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/admin/login")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Overzicht")


def _axe(page: Page) -> None:
    """No axe-core violations of WCAG 2.1 A/AA on the page (when axe-playwright-python is installed)."""
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    results = axe_module.Axe().run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]})
    assert results.violations_count == 0, results.generate_report()


def test_a_marketer_imports_an_excel_csv_defines_a_campaign_reads_its_exclusions_and_sends_it(
    served: tuple[App, str], browser: Browser, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    app, base = served
    inbox, _ = smtp
    context = browser.new_context(
        locale="nl-NL", viewport={"width": 1180, "height": 900}, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    _log_in(page, base, "marketeer@example.nl")

    # Import: the upload, then the mapping guessed from the Dutch header, with the first rows shown.
    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Importeren").click()
    file = tmp_path / "klanten export.csv"
    file.write_bytes(EXCEL_CSV)
    page.get_by_label("Bestand (CSV of Mailchimp-ZIP)").set_input_files(file)
    page.get_by_role("button", name="Uploaden en kolommen indelen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kolommen indelen")
    expect(page.get_by_role("cell", name="Zoë Bakker")).to_be_visible()
    expect(page.get_by_label("E-mailadres", exact=True)).to_have_value("E-mailadres")
    expect(page.get_by_label("Naam", exact=True)).to_have_value("Naam")
    expect(page.get_by_label("Toestemming gegeven op")).to_have_value("Aangemeld op")
    expect(page.get_by_label("Telefoonnummer")).to_have_value("")
    page.get_by_label("Herkomst").select_option("web_form")
    page.get_by_label("Rechtsgrond").select_option("consent")
    page.get_by_label("Doel van de toestemmingen").select_option("nieuwsbrief")
    _axe(page)
    page.screenshot(path=str(SCREENSHOTS / "consentry-admin-import-mapping.png"), full_page=True)
    page.get_by_role("button", name="Proefimport").click()

    # The dry run accounts for every row and says why line 4 is rejected; nothing is written yet.
    accounting = page.locator(".accounting")
    expect(accounting).to_have_text("3 rijen in = 2 te importeren + 0 samen te voegen + 1 afgewezen")
    rejected = page.get_by_role("row").filter(has_text="31-02-2024")
    expect(rejected.get_by_role("cell").first).to_have_text("4")
    with app.store.reader() as r:
        assert r.point_kind("cp_000002") is None  # only dirk (cp_000001) so far
    page.screenshot(path=str(SCREENSHOTS / "consentry-admin-import-dry-run.png"), full_page=True)
    page.get_by_role("button", name="Nu importeren").click()
    expect(accounting).to_have_text("3 rijen in = 2 geïmporteerd + 0 samengevoegd + 1 afgewezen")
    expect(page.get_by_role("status")).to_contain_text("De import is klaar.")
    # Overzicht lists it among the recent imports, with its accounting.
    page.get_by_role("link", name="Overzicht", exact=True).click()
    recent = page.locator("section[aria-labelledby=imports]")
    expect(recent.get_by_role("row").filter(has_text="klanten export.csv")).to_contain_text("3 = 2 + 0 + 1")
    _axe(page)

    # A campaign, defined in the form.
    page.get_by_role("link", name="Doelgroepen en campagnes").click()
    page.get_by_role("link", name="Nieuwe campagne").click()
    page.get_by_label("Naam", exact=True).fill("Voorjaarsnieuws")
    page.get_by_label("Sleutel").fill("voorjaar-2027")
    page.get_by_label("Doel", exact=True).select_option("nieuwsbrief")
    page.get_by_label("Naam van de afzender").fill("Koffiebranderij De Boon")
    page.get_by_label("Statutaire naam").fill("De Boon B.V.")
    page.get_by_label("Postadres").fill("Havenstraat 1, 3511 AA Utrecht")
    page.get_by_label("KvK-nummer").fill("1234567")
    page.get_by_label("E-mailadres van de afzender").fill("nieuws@deboon.nl")
    page.locator("#content\\.nl\\.subject").fill("Nieuwe bonen voor {{ name }}")
    page.locator("#content\\.nl\\.body").fill("Beste {{ name }},\n\nDe voorjaarsoogst is binnen.")
    page.get_by_role("button", name="Opslaan als concept").click()
    # A KvK number of seven digits is refused, naming the field; the rest stays filled in.
    expect(page.get_by_role("alert")).to_contain_text("sender.kvk")
    expect(page.get_by_label("Statutaire naam")).to_have_value("De Boon B.V.")
    page.get_by_label("KvK-nummer").fill("12345678")
    page.get_by_role("button", name="Opslaan als concept").click()
    expect(page.get_by_role("status")).to_have_text("De campagne is opgeslagen als concept.")

    # The exclusion report: the two who consented may be reached, dirk is excluded by a rule.
    expect(page.locator(".accounting")).to_have_text(
        "3 bekeken: 2 bereikbaar, 1 uitgesloten, 0 te beoordelen"
    )
    _axe(page)
    page.screenshot(path=str(SCREENSHOTS / "consentry-admin-campaign-report.png"), full_page=True)
    excluded = page.get_by_role("table", name="Uitgesloten, per regel")
    rule = excluded.get_by_role("row").nth(1).get_by_role("link").inner_text()
    with page.expect_download() as got:
        page.get_by_role("button", name="Het hele rapport als CSV downloaden").click()
    data = Path(got.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbfcontact_point;address;name;")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert {r["address"]: r["verdict"] for r in rows} == {
        "anna@example.nl": "allow",
        "zoe@example.nl": "allow",
        "dirk@example.nl": "deny",
    }
    excluded.get_by_role("link", name=rule).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Regel {rule}")
    expect(page.get_by_role("cell", name="dirk@example.nl")).to_be_visible()
    page.get_by_role("link", name="Terug naar de campagne").click()

    # The preview, as the first person it may reach gets it, with what the law adds.
    page.get_by_role("link", name="Bericht bekijken zoals de ontvanger het krijgt").click()
    expect(page.locator("#preview-subject")).to_have_text("Nieuwe bonen voor Anna de Vries")
    expect(page.locator("#preview-body")).to_contain_text("De voorjaarsoogst is binnen.")
    expect(page.locator("#preview-body")).to_contain_text("KvK 12345678")
    page.get_by_role("link", name="Terug naar de campagne").click()

    # A test to the marketer's own address, through the configured SMTP server.
    page.get_by_role("button", name="Test sturen naar marketeer@example.nl").click()
    expect(page.get_by_role("status")).to_have_text("Het testbericht is verstuurd naar marketeer@example.nl.")
    test = inbox.wait_for(1)[0]
    assert (
        test["To"] == "marketeer@example.nl" and test["Subject"] == "[TEST] Nieuwe bonen voor Anna de Vries"
    )
    assert "Koffiebranderij De Boon" in test["From"]

    # The send, with its progress; then the outcome.
    page.get_by_role("button", name="Versturen naar 2 contacten").click()
    expect(page.locator("dd[data-count=sent]")).to_have_text("2", timeout=20_000)
    expect(page.locator("dd[data-count=skipped]")).to_have_text("1")
    skipped = page.get_by_role("table", name="Overgeslagen, per regel")
    expect(skipped.get_by_role("row").nth(1)).to_have_text(re.compile(rf"{re.escape(rule)}\s*1"))
    expect(page.locator("dd[data-count=unsubscribed]")).to_have_text("0")
    sent = inbox.wait_for(3)[1:]
    assert sorted(m["To"] for m in sent) == ["anna@example.nl", "zoe@example.nl"]
    assert "Beste Zoë Bakker," in body_text(next(m for m in sent if m["To"] == "zoe@example.nl"))
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in sent)
    page.screenshot(path=str(SCREENSHOTS / "consentry-admin-campaign-sent.png"), full_page=True)
    context.close()

    assert requested and all(url.startswith(f"{base}/") for url in requested), requested
    actions = {(e.action, e.subject) for e in users.audit_log(accounts(app), 50)}
    assert {
        (AuditAction.IMPORTED, "klanten export.csv"),
        (AuditAction.CAMPAIGN_SAVED, "voorjaar-2027"),
        (AuditAction.LIST_EXPORTED, "voorjaar-2027"),
        (AuditAction.TEST_SENT, "voorjaar-2027"),
        (AuditAction.CAMPAIGN_SENT, "voorjaar-2027"),
    } <= actions


@pytest.mark.parametrize("role", [Role.PRIVACY_OFFICER, Role.READ_ONLY])
def test_a_privacy_officer_or_a_read_only_user_cannot_open_the_import_or_campaign_pages(
    served: tuple[App, str], browser: Browser, role: Role
) -> None:
    _, base = served
    context = browser.new_context(locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(10_000)
    _log_in(page, base, f"{role.value}@example.nl")
    menu = page.get_by_role("navigation", name="Hoofdmenu")
    expect(menu.get_by_role("link", name="Importeren")).to_have_count(0)
    expect(menu.get_by_role("link", name="Doelgroepen en campagnes")).to_have_count(0)
    for path in ("/admin/import", "/admin/campaigns", "/admin/campaigns/_new"):
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 403, path
    assert re.search(r"\b403\b|toegang|mag", page.content().lower())
    context.close()
