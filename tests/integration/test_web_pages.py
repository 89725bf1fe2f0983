"""The public pages over HTTP (FastAPI's TestClient), with a real SMTP server, on both stores."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from conftest import FORM, Inbox, body_text, define_purposes, make_app
from consentry.adapters.tokens import TokenUse
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind
from consentry.entrypoints.http import create_app
from consentry.services import forms, preferences, public
from consentry.services.decide import decide

BASE = "http://127.0.0.1:8000"


class Html(HTMLParser):
    """The parts of a page the tests look at: tags with their attributes, and label texts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.labels: dict[str, str] = {}
        self._label: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "label":
            self._label = dict(attrs).get("for") or ""
            self.labels[self._label] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.labels[self._label or ""] = " ".join(self.labels[self._label or ""].split())
            self._label = None

    def handle_data(self, data: str) -> None:
        if self._label is not None:
            self.labels[self._label] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        """Every `tag` whose attributes include `attrs`."""
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def page_of(response: httpx.Response, lang: str = "nl") -> Html:
    """The parsed page, after checking what every page must have: its language, one h1, labels."""
    html = Html(response.text)
    assert html.find("html", lang=lang), f"not a page in {lang}"
    assert len(html.find("h1")) == 1
    fields = [a for t, a in html.tags if t in ("input", "textarea") and a.get("type") != "hidden"]
    assert all(html.labels.get(str(a.get("id"))) for a in fields), "a field without a label"
    return html


@pytest.fixture
def site(store_url: str, smtp: tuple[Inbox, int]) -> Iterator[tuple[App, TestClient]]:
    app = make_app(store_url, smtp_port=smtp[1], base_url=BASE, signup_limit_per_address="3/hour")
    define_purposes(app)
    forms.save(app, FORM)
    with TestClient(create_app(app), base_url=BASE) as client:
        yield app, client
    app.store.engine.dispose()


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_up(client: TestClient, email: str, *ticked: str, **headers: str) -> httpx.Response:
    token = csrf_of(client.get("/f/nieuwsbrief-footer"))
    data: dict[str, str | list[str]] = {"csrf": token, "email": email, "purpose": list(ticked)}
    answer: httpx.Response = client.post("/f/nieuwsbrief-footer", data=data, headers=headers)
    return answer


def mailed_path(inbox: Inbox, n: int) -> str:
    found = re.search(r"https?://\S+/c/\S+", body_text(inbox.wait_for(n)[n - 1]))
    assert found
    return urlsplit(found.group(0)).path


def subscribe(app: App, client: TestClient, inbox: Inbox, email: str) -> str:
    """Sign up for the newsletter and confirm it through the pages; the contact point id."""
    sent = len(inbox.messages)
    sign_up(client, email, "nieuwsbrief")
    path = mailed_path(inbox, sent + 1)
    confirmed = client.post(path, data={"csrf": csrf_of(client.get(path))})
    assert confirmed.status_code == 200
    with app.store.reader() as r:
        point = r.point_id(PointKind.EMAIL, email)
    assert point is not None
    return point


def path_of(url: str) -> str:
    return urlsplit(url).path


def events(app: App) -> int:
    with app.store.reader() as r:
        return r.counts()["events"]


def test_the_form_page_has_a_labelled_unticked_box_for_every_item(site: tuple[App, TestClient]) -> None:
    _, client = site
    page = client.get("/f/nieuwsbrief-footer")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page_of(page)
    boxes = html.find("input", type="checkbox")
    assert len(boxes) == 2
    assert all("checked" not in box for box in boxes)
    assert [html.labels[str(box["id"])] for box in boxes] == [
        "Ja, stuur mij de nieuwsbrief.",
        "Ja, stuur mij aanbiedingen.",
    ]
    assert html.labels["email"] == "E-mailadres" and html.find("input", id="email", type="email")
    assert len(html.find("fieldset")) == 1 and len(html.find("legend")) == 1
    assert "E-book koffie zetten" in page.text
    # Only our own stylesheet; no scripts and nothing from another host.
    assert [a["href"] for a in html.find("link")] == ["/static/consentry.css"]
    assert html.find("script") == [] and html.find("img") == []
    assert client.get("/static/consentry.css").status_code == 200


def test_the_page_language_follows_the_browser_and_then_the_switch(site: tuple[App, TestClient]) -> None:
    _, client = site
    english = client.get("/f/nieuwsbrief-footer", headers={"Accept-Language": "en-GB,en;q=0.9,nl;q=0.5"})
    assert Html(english.text).find("html", lang="en") and "Yes, send me the newsletter." in english.text
    assert "set-cookie" not in english.headers
    switched = client.get("/f/nieuwsbrief-footer?lang=nl", headers={"Accept-Language": "en"})
    html = Html(switched.text)
    assert html.find("html", lang="nl") and "Ja, stuur mij de nieuwsbrief." in switched.text
    assert html.find("a", hreflang="en", href="/f/nieuwsbrief-footer?lang=en")
    assert "lang=nl" in switched.headers["set-cookie"]
    # The choice is remembered over the browser's language.
    again = client.get("/f/nieuwsbrief-footer", headers={"Accept-Language": "en"})
    assert Html(again.text).find("html", lang="nl")


def test_signing_up_answers_identically_for_known_and_unknown_addresses(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    new = sign_up(client, "jan@example.nl", "nieuwsbrief")
    known = sign_up(client, "jan@example.nl", "nieuwsbrief")
    other = sign_up(client, "piet@example.nl", "nieuwsbrief")
    assert new.status_code == known.status_code == other.status_code == 200
    assert new.text == known.text == other.text
    page_of(new)
    assert "Kijk in je inbox" in new.text and 'href="https://example.nl/koffie-ebook.pdf"' in new.text
    assert len(smtp[0].wait_for(3)) == 3
    with app.store.reader() as r:
        point = r.point_id(PointKind.EMAIL, "jan@example.nl")
        assert point is not None
        given = [e for e in r.events_for(point) if e.type == "consent.given"]
    assert given[0].payload["ip"] == "testclient" and given[0].payload["language"] == "nl"
    assert given[0].payload["text_version"] == "nieuwsbrief-footer@1"


def test_signing_up_without_a_tick_offers_the_download_and_sends_nothing(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    page = sign_up(client, "piet@example.nl", **{"Accept-Language": "en"})
    assert page.status_code == 200 and "You ticked nothing" in page.text
    assert "Download ‘Coffee brewing e-book’" in page.text
    assert events(app) == 0 and smtp[0].messages == []


def test_an_invalid_address_shows_the_form_again_with_the_error_at_the_field_and_records_nothing(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    page = sign_up(client, "jan@@example", "nieuwsbrief")
    assert page.status_code == 422
    html = page_of(page)
    field = html.find("input", id="email")[0]
    assert field["aria-invalid"] == "true" and field["value"] == "jan@@example"
    assert "email-error" in str(field["aria-describedby"]).split()
    assert "Vul een geldig e-mailadres in" in page.text and html.find("a", href="#email")
    assert all("checked" not in box for box in html.find("input", type="checkbox"))
    assert events(app) == 0 and smtp[0].messages == []


def test_a_form_post_without_a_valid_csrf_token_or_from_another_site_is_refused(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    good = csrf_of(client.get("/f/nieuwsbrief-footer"))
    attempts = [
        ({"email": "a@example.nl", "purpose": "nieuwsbrief"}, {}),
        ({"email": "a@example.nl", "purpose": "nieuwsbrief", "csrf": good[:-4]}, {}),
        (
            {"email": "a@example.nl", "purpose": "nieuwsbrief", "csrf": good},
            {"Origin": "https://evil.example"},
        ),
        ({"email": "a@example.nl", "purpose": "nieuwsbrief", "csrf": good}, {"Origin": "null"}),
        (
            {"email": "a@example.nl", "purpose": "nieuwsbrief", "csrf": good},
            {"Referer": "https://evil.example/x"},
        ),
    ]
    forms.save(app, {**FORM, "key": "other"})
    attempts.append(({"email": "a@example.nl", "csrf": csrf_of(client.get("/f/other"))}, {}))
    for data, headers in attempts:
        refused = client.post("/f/nieuwsbrief-footer", data=data, headers=headers)
        assert refused.status_code == 403, (data, headers)
        assert "Dit formulier is verlopen" in refused.text
    assert events(app) == 0 and smtp[0].messages == []
    accepted = client.post(
        "/f/nieuwsbrief-footer",
        data={"email": "a@example.nl", "purpose": "nieuwsbrief", "csrf": good},
        headers={"Origin": BASE, "Referer": f"{BASE}/f/nieuwsbrief-footer"},
    )
    assert accepted.status_code == 200 and events(app) == 2


def test_confirming_needs_the_button_not_just_opening_the_link(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    sign_up(client, "jan@example.nl", "nieuwsbrief", "aanbiedingen")
    path = mailed_path(smtp[0], 1)
    page = client.get(path)
    assert page.status_code == 200 and len(page_of(page).find("button", type="submit")) == 1
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-03.pending"
    assert client.post(path, data={}).status_code == 403
    done = client.post(path, data={"csrf": csrf_of(page)})
    assert done.status_code == 200 and "Je inschrijving is bevestigd" in done.text
    assert "Nieuwsbrief" in done.text and "Aanbiedingen" in done.text
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").verdict.value == "allow"
    assert any(str(a["href"]).startswith(f"{BASE}/p/") for a in Html(done.text).find("a") if a.get("href"))
    again = client.post(path, data={"csrf": csrf_of(page)})
    assert again.status_code == 200 and "Je had dit al bevestigd" in again.text


@pytest.mark.parametrize("encoding", ["form-urlencoded", "multipart"])
def test_one_click_unsubscribe_takes_effect_at_once_without_cookie_csrf_or_redirect(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int], encoding: str
) -> None:
    app, client = site
    point = subscribe(app, client, smtp[0], "jan@example.nl")
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").verdict.value == "allow"
    path = path_of(public.links(app, point, "nieuwsbrief")["unsubscribe"])
    # A mail client: a fresh connection, no cookies, nothing but the RFC 8058 body.
    with TestClient(client.app, base_url=BASE) as mail_client:
        if encoding == "multipart":
            answer = mail_client.post(path, files={"List-Unsubscribe": (None, "One-Click")})
            assert answer.request.headers["content-type"].startswith("multipart/form-data")
        else:
            answer = mail_client.post(path, data={"List-Unsubscribe": "One-Click"})
            assert answer.request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert answer.status_code == 200 and not answer.is_redirect
    assert "set-cookie" not in answer.headers and answer.history == []
    assert "Je bent uitgeschreven" in answer.text
    after = decide(app, "jan@example.nl", "email", "nieuwsbrief")
    assert (after.verdict.value, after.rule) == ("deny", "EU-GDPR-03")
    with app.store.reader() as r:
        unsubscribed = [e for e in r.events_for(point) if e.type == "unsubscribed"]
    assert [e.payload["via"] for e in unsubscribed] == ["one_click"]


def test_the_unsubscribe_page_never_asks_for_the_address_and_can_unsubscribe_from_everything(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    point = subscribe(app, client, smtp[0], "jan@example.nl")
    path = path_of(public.links(app, point, "nieuwsbrief")["unsubscribe"])
    page = client.get(path, headers={"Accept-Language": "en"})
    html = page_of(page, "en")
    assert page.status_code == 200 and html.find("input", type="email") == []
    assert "You are unsubscribing from: Newsletter." in page.text
    assert [b.get("class") for b in html.find("button")] == ["button", "button secondary"]
    assert len(html.find("input", name="List-Unsubscribe", value="One-Click")) == 2
    assert html.find("input", name="scope", value="all")
    action = str(html.find("form")[1]["action"])
    assert action == f"{path}?lang=en"
    everything = client.post(action, data={"List-Unsubscribe": "One-Click", "via": "link", "scope": "all"})
    assert everything.status_code == 200 and "You will no longer receive messages from us" in everything.text
    for purpose in ("nieuwsbrief", "aanbiedingen"):
        assert decide(app, "jan@example.nl", "email", purpose).verdict.value == "deny"
    with app.store.reader() as r:
        unsubscribed = [e for e in r.events_for(point) if e.type == "unsubscribed"]
    assert [(e.payload["via"], "purpose" in e.payload) for e in unsubscribed] == [("link", False)]


def test_an_unsubscribe_post_without_the_one_click_field_changes_nothing(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    point = subscribe(app, client, smtp[0], "jan@example.nl")
    path = path_of(public.links(app, point, "nieuwsbrief")["unsubscribe"])
    before = events(app)
    assert client.post(path, data={"List-Unsubscribe": "no"}).status_code == 400
    assert client.post(path).status_code == 400
    assert events(app) == before


def test_forged_truncated_and_misused_tokens_get_a_4xx_page_and_never_a_500(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    point = subscribe(app, client, smtp[0], "jan@example.nl")
    mine = public.links(app, point, "nieuwsbrief")
    unsub, prefs = path_of(mine["unsubscribe"]), path_of(mine["preferences"])
    bad = [mailed_path(smtp[0], 1)[:-3], unsub[:-1], prefs[:-5], "/c/abc", "/u/x.y.z", "/p/%20"]
    bad.append("/u/" + prefs.rsplit("/", 1)[1])  # a preference token used to unsubscribe
    bad.append("/p/" + unsub.rsplit("/", 1)[1])  # and the other way round
    bad.append("/u/" + app.signer().make(TokenUse.UNSUBSCRIBE, "cp_someone_else"))
    bad.append("/p/" + app.signer().make(TokenUse.PREFERENCES, "cp_someone_else"))
    before = events(app)
    for path in bad:
        opened = client.get(path)
        assert opened.status_code == 404 and "Deze link is niet geldig" in opened.text, path
        page_of(opened)
        posted = client.post(path, data={"List-Unsubscribe": "One-Click"})
        # A post is refused before anything is looked up: as an invalid link, or for lack of a form token.
        assert posted.status_code in (403, 404), path
        assert "j**@example.nl" not in opened.text + posted.text
    assert events(app) == before
    english = client.get("/p/abc", headers={"Accept-Language": "en"})
    assert english.status_code == 404 and "This link is not valid" in english.text


def test_an_old_confirmation_link_gets_a_410_page(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, client = site
    sign_up(client, "jan@example.nl", "nieuwsbrief")
    path = mailed_path(smtp[0], 1)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 8 * 86400)
    page = client.get(path)
    assert page.status_code == 410 and "Deze link is verlopen" in page.text and "7 dagen" in page.text


def test_an_unknown_form_gets_a_404_page(site: tuple[App, TestClient]) -> None:
    _, client = site
    page = client.get("/f/bestaat-niet", headers={"Accept-Language": "en"})
    assert page.status_code == 404 and "This form does not exist" in page.text


def test_the_preference_centre_records_changes_objections_and_requests(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    point = subscribe(app, client, smtp[0], "jan@example.nl")
    path = path_of(public.links(app, point, None)["preferences"])
    page = client.get(path)
    html = page_of(page)
    assert "j**@example.nl" in page.text and "jan@example.nl" not in page.text
    boxes = {b["value"]: "checked" in b for b in html.find("input", type="checkbox")}
    assert boxes == {"nieuwsbrief/email": True, "aanbiedingen/email": False}
    assert "Status: ingeschreven." in page.text and "Status: geen keuze gemaakt." in page.text
    token = csrf_of(page)

    saved = client.post(path, data={"csrf": token, "want": ["aanbiedingen/email"]}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?lang=nl&done=saved"
    shown = client.get(saved.headers["location"])
    assert "Je voorkeuren zijn opgeslagen." in shown.text
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").verdict.value == "deny"
    assert decide(app, "jan@example.nl", "email", "aanbiedingen").verdict.value == "allow"

    objected = client.post(f"{path}/object", data={"csrf": token, "scope": "direct_marketing"})
    assert objected.status_code == 200 and "Je bezwaar tegen direct marketing is vastgelegd" in objected.text
    assert decide(app, "jan@example.nl", "email", "aanbiedingen").rule == "EU-GDPR-04"
    asked = client.post(f"{path}/request", data={"csrf": token, "kind": "erasure", "note": "Alles weg"})
    assert asked.status_code == 200 and "verzoek om je gegevens te wissen ontvangen" in asked.text
    assert "Wissen van gegevens, ontvangen op" in asked.text

    view = preferences.view(app, path.rsplit("/", 1)[1])
    assert view.objected_dm and [k for k, _ in view.requests] == ["erasure"]
    with app.store.reader() as r:
        request = next(e for e in r.events_for(point) if e.type == "request.received")
    assert request.payload["note"] == "Alles weg" and request.payload["ip"] == "testclient"


def test_preference_posts_need_a_csrf_token_for_the_same_person(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    jan = subscribe(app, client, smtp[0], "jan@example.nl")
    piet = subscribe(app, client, smtp[0], "piet@example.nl")
    jan_path = path_of(public.links(app, jan, None)["preferences"])
    piet_token = csrf_of(client.get(path_of(public.links(app, piet, None)["preferences"])))
    before = events(app)
    for suffix, data in (("", {}), ("/object", {"scope": "profiling"}), ("/request", {"kind": "access"})):
        assert client.post(jan_path + suffix, data=data).status_code == 403
        refused = client.post(jan_path + suffix, data={**data, "csrf": piet_token})
        assert refused.status_code == 403
        assert Html(refused.text).find("a", href=f"{jan_path}?lang=nl")
    assert events(app) == before


def test_bad_preference_input_gets_a_422_page_naming_the_field(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    point = subscribe(app, client, smtp[0], "jan@example.nl")
    path = path_of(public.links(app, point, None)["preferences"])
    token = csrf_of(client.get(path))
    before = events(app)
    page = client.post(path, data={"csrf": token, "want": ["bestaat-niet/email"]})
    assert page.status_code == 422 and "‘Voorkeuren’" in page.text
    objection = client.post(f"{path}/object", data={"csrf": token, "scope": "alles"})
    assert objection.status_code == 422 and "‘Bezwaar’" in objection.text
    assert events(app) == before


def test_too_many_sign_ups_get_a_429_page_with_retry_after(site: tuple[App, TestClient]) -> None:
    _, client = site
    for _ in range(3):
        assert sign_up(client, "jan@example.nl", "nieuwsbrief").status_code == 200
    limited = sign_up(client, "jan@example.nl", "nieuwsbrief", **{"Accept-Language": "en"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
    page_of(limited, "en")
    assert "Please wait" in limited.text


def test_the_embedded_form_is_minimal_and_may_be_framed(site: tuple[App, TestClient]) -> None:
    _, client = site
    full = client.get("/f/nieuwsbrief-footer")
    assert (
        full.headers["x-frame-options"] == "DENY"
        and "frame-ancestors 'none'" in full.headers["content-security-policy"]
    )
    embedded = client.get("/f/nieuwsbrief-footer?embed=1")
    html = Html(embedded.text)
    assert "x-frame-options" not in embedded.headers
    assert "frame-ancestors" not in embedded.headers["content-security-policy"]
    assert html.find("footer") == [] and html.find("form", action="/f/nieuwsbrief-footer?lang=nl&embed=1")
    thanks = client.post(
        "/f/nieuwsbrief-footer?lang=nl&embed=1", data={"csrf": csrf_of(embedded), "email": "a@example.nl"}
    )
    assert thanks.status_code == 200 and "x-frame-options" not in thanks.headers
