"""The public flow in a real headless Chromium against the real server (uvicorn), no JavaScript of ours.

Playwright's own browser download does not work here, so the system Chromium is
used. Without it the test is skipped with a message; under CI=true it fails
instead, so CI can never pass without having run it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from conftest import Inbox, body_text, define_purposes, free_port, make_app, serving_app
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind
from consentry.services import forms, public
from consentry.services.decide import decide

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path("/tmp")
FORM = {
    "key": "koffienieuws",
    "title_nl": "Blijf op de hoogte van ons koffienieuws",
    "title_en": "Keep up with our coffee news",
    "intro_nl": "Twee keer per maand: nieuwe bonen, zetrecepten en proeverijen.",
    "intro_en": "Twice a month: new beans, brewing recipes and tastings.",
    "lead_magnet_url": "https://example.nl/koffie-ebook.pdf",
    "lead_magnet_title_nl": "E-book koffie zetten",
    "lead_magnet_title_en": "Coffee brewing e-book",
    "items": [
        {
            "purpose": "nieuwsbrief",
            "text_nl": "Ja, stuur mij de nieuwsbrief over koffie en thee.",
            "text_en": "Yes, send me the newsletter about coffee and tea.",
        },
        {
            "purpose": "aanbiedingen",
            "text_nl": "Ja, stuur mij persoonlijke aanbiedingen op koffie.",
            "text_en": "Yes, send me personal offers on coffee.",
        },
    ],
}


@pytest.fixture
def served(tmp_path: Path, smtp: tuple[Inbox, int]) -> Iterator[tuple[App, str]]:
    """The real ASGI app under uvicorn in a background thread, on SQLite and the test SMTP server."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = make_app(f"sqlite:///{tmp_path / 'consentry.db'}", smtp_port=smtp[1], base_url=base)
    define_purposes(app)
    forms.save(app, FORM)
    try:
        with serving_app(app, port):
            yield app, base
    finally:
        app.store.engine.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless system Chromium, or skip (fail under CI=true) when it is not installed."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: the browser test needs Debian's chromium package"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true requires the browser test to run)")
        pytest.skip(message)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _heading(page: Page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


def test_a_person_signs_up_confirms_manages_preferences_and_unsubscribes_in_a_real_browser(
    served: tuple[App, str], browser: Browser, smtp: tuple[Inbox, int]
) -> None:
    app, base = served
    context = browser.new_context(locale="nl-NL", viewport={"width": 900, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    # The sign-up form, filled in with the keyboard.
    page.goto(f"{base}/f/koffienieuws")
    assert page.locator("html").get_attribute("lang") == "nl"
    expect(page.get_by_role("checkbox")).to_have_count(2)
    for box in page.get_by_role("checkbox").all():
        expect(box).not_to_be_checked()
    page.screenshot(path=str(SCREENSHOTS / "consentry-form.png"), full_page=True)
    page.get_by_label("E-mailadres").fill("jan@example.nl")
    page.get_by_label("Ja, stuur mij de nieuwsbrief over koffie en thee.").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Aanmelden").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/f/koffienieuws?lang=nl")
    assert _heading(page) == "Bedankt"
    expect(page.get_by_text("Kijk in je inbox")).to_be_visible()

    # The confirmation mail; opening its link alone confirms nothing.
    found = re.search(r"https?://\S+/c/\S+", body_text(smtp[0].wait_for(1)[0]))
    assert found and found.group(0).startswith(f"{base}/c/")
    page.goto(found.group(0))
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-03.pending"
    page.get_by_role("button", name="Ja, bevestig mijn inschrijving").click()
    assert _heading(page) == "Je inschrijving is bevestigd"
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").verdict.value == "allow"

    # The preference centre: take the offers as well.
    page.get_by_role("link", name="Je voorkeuren bekijken of aanpassen").click()
    assert _heading(page) == "Je voorkeuren"
    expect(page.get_by_text("j**@example.nl")).to_be_visible()
    expect(page.get_by_label("Nieuwsbrief (e-mail)")).to_be_checked()
    page.get_by_label("Aanbiedingen (e-mail)").check()
    page.get_by_role("button", name="Voorkeuren opslaan").click()
    expect(page.get_by_role("status")).to_have_text("Je voorkeuren zijn opgeslagen.")
    expect(page.get_by_label("Aanbiedingen (e-mail)")).to_be_checked()
    page.screenshot(path=str(SCREENSHOTS / "consentry-preferences.png"), full_page=True)
    assert decide(app, "jan@example.nl", "email", "aanbiedingen").verdict.value == "allow"

    # The unsubscribe link a newsletter carries: one button.
    with app.store.reader() as r:
        point = r.point_id(PointKind.EMAIL, "jan@example.nl")
    assert point is not None
    page.goto(public.links(app, point, "nieuwsbrief")["unsubscribe"])
    expect(page.get_by_role("textbox")).to_have_count(0)
    page.get_by_role("button", name="Uitschrijven", exact=True).click()
    assert _heading(page) == "Je bent uitgeschreven"
    after = decide(app, "jan@example.nl", "email", "nieuwsbrief")
    assert (after.verdict.value, after.rule) == ("deny", "EU-GDPR-03")
    assert decide(app, "jan@example.nl", "email", "aanbiedingen").verdict.value == "allow"

    # The language switch, and nothing ever fetched from another host.
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en" and _heading(page) == "Unsubscribe"
    context.close()
    assert requested and all(url.startswith(f"{base}/") for url in requested), requested
