"""The admin app's pages in a real headless Chromium (Debian's) on a tablet's screen: a beheerder
defines a purpose, makes a form and copies its embed code, sets the sender's identity, makes an
API key and reads the audit log; axe-core (bundled with axe-playwright-python, nothing fetched)
finds no WCAG 2.1 A/AA violation on any of these pages.

The browser asks for English: the new texts are in the Dutch catalog once the integrator
re-extracts it, and the test should not depend on that.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from test_browser import SCREENSHOTS, browser

from conftest import free_port, make_app, serving_app
from consentry.bootstrap import App
from consentry.domain.users import AuditAction, Role
from consentry.domain.vocabulary import PointKind
from consentry.entrypoints.accounts import accounts
from consentry.services import apikeys, dsr, forms, ledger, registers, retention, sender, users

__all__ = ["browser"]
PASSWORD = "correct horse battery staple"
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[App, str]]:
    """The real ASGI app under uvicorn, on SQLite, with one beheerder."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(f"sqlite:///{tmp_path / 'consentry.db'}", base_url=base)
    users.create_user(accounts(app), "anna@example.nl", Role.BEHEERDER, PASSWORD, actor=None)
    try:
        with serving_app(app, port):
            yield app, base
    finally:
        app.store.engine.dispose()


def accessible(page: Page, axe: Axe) -> None:
    """No WCAG 2.1 A/AA violation on the page as it is now (the report says which, if any)."""
    results = axe.run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def test_a_beheerder_sets_up_purposes_forms_the_sender_and_a_key_on_a_tablet_with_no_axe_violations(
    served: tuple[App, str], browser: Browser
) -> None:
    app, base = served
    axe = Axe()
    context = browser.new_context(locale="en-GB", viewport={"width": 768, "height": 1024})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    page.set_default_timeout(10_000)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    page.goto(f"{base}/admin")
    accessible(page, axe)
    page.get_by_label("E-mail address").fill("anna@example.nl")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    accessible(page, axe)
    menu = page.get_by_role("navigation", name="Main menu")
    expect(menu.get_by_role("link")).to_have_text(
        [
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
        ]
    )

    # Doelen: define a purpose.
    menu.get_by_role("link", name="Purposes").click()
    expect(menu.get_by_role("link", name="Purposes")).to_have_attribute("aria-current", "page")
    accessible(page, axe)
    page.get_by_label("Key").fill("nieuws")
    page.get_by_label("Dutch name").fill("Koffienieuws")
    page.get_by_label("English name").fill("Coffee news")
    page.get_by_role("button", name="Define purpose").click()
    expect(page.get_by_role("status")).to_have_text("Purpose nieuws was defined.")
    page.get_by_role("link", name="Rename nieuws").click()
    accessible(page, axe)
    page.get_by_role("link", name="Cancel").click()

    # Formulieren: a new form, its preview and embed code.
    menu.get_by_role("link", name="Forms").click()
    accessible(page, axe)
    page.get_by_role("link", name="New form").click()
    accessible(page, axe)
    page.get_by_label("Key").fill("footer")
    page.get_by_label("Dutch title").fill("Blijf op de hoogte")
    page.get_by_label("English title").fill("Stay informed")
    page.get_by_label("Coffee news (nieuws)").check()
    page.get_by_label("Dutch text for nieuws").fill("Ja, stuur mij het koffienieuws.")
    page.get_by_label("English text for nieuws").fill("Yes, send me the coffee news.")
    page.get_by_role("button", name="Create form").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Form footer")
    expect(page.frame_locator(".preview-frame").get_by_text("Yes, send me the coffee news.")).to_be_visible()
    accessible(page, axe)
    page.get_by_role("button", name="Copy the code").click()
    expect(page.locator("#copy-status")).to_have_text("The code is copied.")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == forms.embed_snippet(app, forms.get(app, "footer"))
    page.screenshot(path=str(SCREENSHOTS / "consentry-admin-form.png"), full_page=True)

    # Instellingen: the sender's identity, then an API key shown once.
    menu.get_by_role("link", name="Settings").click()
    accessible(page, axe)
    page.get_by_label("Name", exact=True).fill("Koffiebranderij De Boon")
    page.get_by_label("KvK number").fill("12345678")
    page.get_by_label("Privacy statement (address)").fill("https://deboon.example/privacy")
    page.get_by_role("button", name="Save identity").click()
    expect(page.get_by_role("status")).to_have_text("The sender's identity was saved.")
    assert sender.identity(app).kvk == "12345678"
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("webshop")
    page.get_by_label("Scope").select_option("write")
    page.get_by_role("button", name="Make key").click()
    secret = page.locator("#new-secret").inner_text()
    assert apikeys.authenticate(app, secret, apikeys.Scope.WRITE).name == "webshop"
    accessible(page, axe)
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Users").click()
    accessible(page, axe)

    # The audit log holds every change, with who made it.
    menu.get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("cell", name="API key made")).to_be_visible()
    accessible(page, axe)
    page.screenshot(path=str(SCREENSHOTS / "consentry-admin-audit.png"), full_page=True)

    # The public form carries the sender's identity.
    page.goto(f"{base}/f/footer")
    expect(page.get_by_role("link", name="Privacy statement")).to_have_attribute(
        "href", "https://deboon.example/privacy"
    )
    accessible(page, axe)
    context.close()

    assert requested and all(url.startswith(f"{base}/") for url in requested), requested
    mine = [e.action for e in reversed(users.audit_log(accounts(app))) if e.actor == "anna@example.nl"]
    assert mine == [
        AuditAction.LOGIN,
        AuditAction.PURPOSE_SAVED,
        AuditAction.FORM_SAVED,
        AuditAction.SETTINGS_CHANGED,
        AuditAction.API_KEY_CREATED,
    ]


def test_a_privacy_officer_checks_a_request_and_dry_runs_retention_with_no_axe_violations(
    served: tuple[App, str], browser: Browser
) -> None:
    app, base = served
    users.create_user(accounts(app), "piet@example.nl", Role.PRIVACY_OFFICER, PASSWORD, actor=None)
    old = {"type": "contact_point.registered", "kind": "email", "source": "import"}
    ledger.append_records(
        app,
        [
            (1, {**old, "value": "oud@voorbeeld.nl", "occurred_at": "2021-01-01T10:00:00+00:00"}),
            (2, {**old, "value": "p@example.nl", "occurred_at": "2026-10-01T10:00:00+00:00"}),
            (3, {**old, "value": "stil@voorbeeld.nl", "occurred_at": "2021-02-01T10:00:00+00:00"}),
        ],
    )
    with app.store.reader() as r:
        quiet = r.point_id(PointKind.EMAIL, "stil@voorbeeld.nl")
    q = dsr.open_request(app, "p@example.nl", "erasure", via="email")
    late = dsr.open_request(
        app, "oud@voorbeeld.nl", "access", received_at="2026-09-01T10:00:00+00:00", already_overdue=True
    )
    axe = Axe()
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/admin")
    page.get_by_label("E-mail address").fill("piet@example.nl")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    menu = page.get_by_role("navigation", name="Main menu")

    # Overzicht: the requests due, the overdue one in red and in words, each a link to its list.
    overdue = page.get_by_role("link", name="1 request is overdue: its deadline has passed.")
    expect(overdue).to_have_class("overdue")
    due = page.get_by_role("link", name="1 request is due within 7 days (the overdue ones included).")
    expect(due).to_be_visible()
    accessible(page, axe)

    # Verzoeken: the list by deadline, the overdue one marked, then a request's steps.
    menu.get_by_role("link", name="Requests").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Requests")
    expect(page.locator(".overdue")).to_have_count(1)
    accessible(page, axe)
    page.get_by_label("Show").select_option("overdue")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("link", name=late.id)).to_be_visible()
    expect(page.get_by_role("link", name=q.id)).to_have_count(0)
    page.get_by_label("Show").select_option("open")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("link", name=q.id).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {q.id}")
    accessible(page, axe)
    page.get_by_label("How the identity was checked").select_option("email_reply")
    page.get_by_role("button", name="Record the check").click()
    expect(page.get_by_role("status")).to_have_text("The identity check was recorded.")
    page.get_by_role("button", name="I handle this request").click()
    expect(page.get_by_role("status")).to_have_text("You handle this request now.")
    expect(page.get_by_role("heading", name="Check the identity")).to_have_count(0)  # verified now
    accessible(page, axe)
    page.screenshot(path=str(SCREENSHOTS / "consentry-admin-request.png"), full_page=True)

    # Bewaartermijnen: the policies, a dry run with the ids, the confirmation step.
    menu.get_by_role("link", name="Retention periods").click()
    accessible(page, axe)
    page.get_by_role("button", name="Dry run: show what would be erased").click()
    # It runs in the background; the page reloads itself with the report when it is done.
    expect(page.get_by_role("heading", name="What the retention periods would erase")).to_be_visible()
    expect(page.get_by_text(quiet, exact=True)).to_be_visible()  # the old prospect's id, no address
    accessible(page, axe)
    page.get_by_role("button", name="Erase what is due…").click()
    expect(page.get_by_role("heading", name="Erase now?")).to_be_visible()
    expect(page.get_by_role("button", name="Yes, erase 1 contact point", exact=True)).to_be_visible()
    accessible(page, axe)
    page.screenshot(path=str(SCREENSHOTS / "consentry-admin-retention.png"), full_page=True)
    page.get_by_role("link", name="No, go back").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retention periods")
    context.close()
    assert retention.last_run(app) is None  # nothing was erased without the confirmation
    steps = [e.detail["step"] for e in reversed(users.audit_log(accounts(app))) if e.subject == q.id]
    assert steps == ["identity", "started"]


def test_a_privacy_officer_uploads_a_register_and_a_marketer_reads_it_with_no_axe_violations(
    served: tuple[App, str], browser: Browser, tmp_path: Path
) -> None:
    app, base = served
    users.create_user(accounts(app), "piet@example.nl", Role.PRIVACY_OFFICER, PASSWORD, actor=None)
    users.create_user(accounts(app), "mia@example.nl", Role.MARKETEER, PASSWORD, actor=None)
    file = tmp_path / "bel-me-niet.txt"
    file.write_text("0612345678\nniet-een-nummer\n0687654321\n")
    axe = Axe()
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/admin")
    page.get_by_label("E-mail address").fill("piet@example.nl")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name="Registers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registers")
    accessible(page, axe)
    page.get_by_label("Register key").fill("bel-me-niet")
    page.get_by_label("Valid from").fill("2009-01-01")
    page.get_by_label("Register file").set_input_files(str(file))
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("status")).to_have_text("3 entries read: 2 new, 0 already listed, 1 rejected.")
    expect(page.get_by_role("table", name="Rejected entries, by line")).to_be_visible()
    accessible(page, axe)
    page.screenshot(path=str(SCREENSHOTS / "consentry-admin-registers.png"), full_page=True)
    context.close()

    # A marketer reads whether the list is current, and gets no upload form.
    context = browser.new_context(locale="en-GB", viewport={"width": 768, "height": 1024})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/admin")
    page.get_by_label("E-mail address").fill("mia@example.nl")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Registers").click()
    expect(page.get_by_role("cell", name="Bel-me-niet Register")).to_be_visible()
    expect(page.get_by_role("button", name="Upload and import")).to_have_count(0)
    accessible(page, axe)
    context.close()
    assert registers.list_all(app)[0]["entries"] == 2
    assert [e.actor for e in users.audit_log(accounts(app)) if e.action is AuditAction.REGISTER_IMPORTED] == [
        "piet@example.nl"
    ]
