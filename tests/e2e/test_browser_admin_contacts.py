"""Contacten in a real headless Chromium (Debian's): a privacy officer finds a person by address
and by name, opens the contact page (its permission matrix, its timeline), reads why a cell
says what it says, opens the proof of consent, adds a note and erases the person after the
confirmation step; axe-core finds no WCAG 2.1 A/AA violation.

The browser asks for English: the new texts are in the Dutch catalog once the integrator
re-extracts it, and the test should not depend on that.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, expect
from test_browser import browser
from test_browser_admin_pages import PASSWORD, accessible

from conftest import define_purposes, free_port, make_app, serving_app
from consentry.bootstrap import App
from consentry.domain.users import Role
from consentry.domain.vocabulary import PointKind
from consentry.entrypoints.accounts import accounts
from consentry.services import users
from contact_people import people

__all__ = ["browser"]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[App, str]]:
    """The real ASGI app under uvicorn, on SQLite, with people in the ledger and a privacy officer."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(f"sqlite:///{tmp_path / 'consentry.db'}", base_url=base)
    define_purposes(app)
    people(app)
    users.create_user(accounts(app), "pim@example.nl", Role.PRIVACY_OFFICER, PASSWORD, actor=None)
    try:
        with serving_app(app, port):
            yield app, base
    finally:
        app.store.engine.dispose()


def test_a_privacy_officer_finds_a_person_opens_the_matrix_timeline_and_proof_adds_a_note_and_erases_them(
    served: tuple[App, str], browser: Browser
) -> None:
    app, base = served
    axe = Axe()
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{base}/admin")
    page.get_by_label("E-mail address").fill("pim@example.nl")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview")
    accessible(page, axe)

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contacts")
    accessible(page, axe)
    # By address.
    page.get_by_label("Search for").fill("Jan@Example.nl")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_have_text("1 contact point found.")
    accessible(page, axe)
    # By name.
    page.get_by_label("Search for").fill("jansen")
    page.get_by_label("Search by").select_option("name")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_have_text("3 contact points found.")
    accessible(page, axe)
    page.get_by_role("link", name="jan@example.nl").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("jan@example.nl")
    # The matrix: open a cell for its rule and why.
    matrix = page.get_by_role("table").filter(has_text="Now (")
    row = matrix.get_by_role("row").filter(has_text="nieuwsbrief")
    expect(row.get_by_text("Rule:")).to_be_hidden()
    expect(row.locator("summary")).to_contain_text("allowed")
    row.locator("summary").click()
    expect(row.get_by_text("Rule:")).to_be_visible()
    # As of a day before the consent: the matrix then.
    page.get_by_label("As of the end of a day").fill("2026-11-01")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("table").filter(has_text="As of ")).to_contain_text("not allowed")
    timeline = page.get_by_role("table").filter(has_text="Consent given")
    expect(timeline).to_contain_text("192.0.2.10")
    expect(page.get_by_text("+31612345678")).to_be_visible()
    accessible(page, axe)
    page.get_by_role("link", name="Proof of consent").click()
    expect(page.locator("body")).to_contain_text("192.0.2.10")
    accessible(page, axe)
    page.go_back()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("jan@example.nl")

    # A note, taken down after a call: in the timeline, sealed in the ledger.
    page.get_by_label("Your note").fill("Belde terug.\nWil alleen post.")
    page.get_by_role("button", name="Add the note").click()
    expect(page.get_by_text("The note was added to the timeline.")).to_be_visible()
    timeline = page.get_by_role("table").filter(has_text="Consent given")
    expect(timeline.get_by_role("row").filter(has_text="Belde terug.")).to_contain_text("Note")
    accessible(page, axe)

    # The erasure: a confirmation that names what goes and asks why, then the page says when.
    page.get_by_role("link", name="Erase this person…").click()
    expect(heading).to_have_text("Erase jan@example.nl?")
    expect(page.locator("main")).to_contain_text("+31612345678")
    expect(page.locator("main")).to_contain_text("A suppression record per contact point")
    accessible(page, axe)
    page.get_by_label("Reason for the erasure").select_option("request")
    page.get_by_role("button", name="Yes, erase 2 contact points").click()
    expect(page.get_by_text("The person was erased; their suppression records stay.")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Erased on")
    expect(page.locator("main")).not_to_contain_text("jan@example.nl")
    expect(page.locator("main")).not_to_contain_text("Belde terug.")
    accessible(page, axe)
    with app.store.reader() as r:
        assert r.point_id(PointKind.EMAIL, "jan@example.nl") is None
    context.close()
