"""The public flows through the services, with a real SMTP server, on both stores."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from conftest import FORM, Inbox, body_text, define_purposes, make_app
from consentry.adapters.tokens import TokenExpired, TokenInvalid, TokenUse
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind
from consentry.services import forms, preferences, public
from consentry.services.decide import decide
from consentry.services.errors import InputError
from consentry.services.public import Evidence

BROWSER = Evidence(ip="203.0.113.9", user_agent="Mozilla/5.0 test")


@pytest.fixture
def flow_app(store_url: str, smtp: tuple[Inbox, int]) -> App:
    app = make_app(store_url, smtp_port=smtp[1], mail_from="nieuws@koffie.example")
    define_purposes(app)
    forms.save(app, FORM)
    return app


def link(inbox: Inbox, n: int = 1) -> str:
    text = body_text(inbox.wait_for(n)[n - 1])
    found = re.search(r"https?://\S+/c/(\S+)", text)
    assert found, text
    return found.group(1)


def test_sign_up_confirm_and_unsubscribe_leave_a_traceable_ledger(
    flow_app: App, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    out = public.sign_up(flow_app, "nieuwsbrief-footer", "Jan@Example.NL", ["nieuwsbrief"], "nl", BROWSER)
    assert out.asked_confirmation and out.lead_magnet_url == FORM["lead_magnet_url"]
    msg = inbox.wait_for(1)[0]
    assert msg["To"] == "jan@example.nl" and msg["Subject"] == "Bevestig je inschrijving"
    assert "Nieuwsbrief" in body_text(msg)
    pending = decide(flow_app, "jan@example.nl", "email", "nieuwsbrief")
    assert (pending.verdict.value, pending.rule) == ("deny", "EU-GDPR-03.pending")

    confirmed = public.confirm(flow_app, link(inbox), Evidence("198.51.100.1", "Firefox"))
    assert [p.key for p in confirmed.purposes] == ["nieuwsbrief"] and not confirmed.already
    assert decide(flow_app, "jan@example.nl", "email", "nieuwsbrief").verdict.value == "allow"
    again = public.confirm(flow_app, link(inbox), Evidence())
    assert again.already

    with flow_app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, "jan@example.nl")
        assert pid is not None
        events = r.events_for(pid)
    given = next(e for e in events if e.type == "consent.given")
    assert given.payload["text_version"] == "nieuwsbrief-footer@1"
    assert given.payload["ip"] == "203.0.113.9" and given.payload["language"] == "nl"
    conf = next(e for e in events if e.type == "consent.confirmed")
    assert conf.payload["ip"] == "198.51.100.1" and conf.payload["consent_event"] == given.id

    unsub = public.links(flow_app, pid, "nieuwsbrief")["unsubscribe"].rsplit("/", 1)[1]
    public.unsubscribe(flow_app, unsub, everything=False, via="one_click", evidence=Evidence("192.0.2.1"))
    after = decide(flow_app, "jan@example.nl", "email", "nieuwsbrief")
    assert (after.verdict.value, after.rule) == ("deny", "EU-GDPR-03")


@pytest.mark.parametrize(
    ("lang", "days", "expected"),
    [
        ("nl", 1, "De link is 1 dag geldig."),
        ("nl", 2, "De link is 2 dagen geldig."),
        ("en", 1, "The link is valid for 1 day."),
        ("en", 2, "The link is valid for 2 days."),
    ],
)
def test_the_confirmation_mail_says_one_day_or_several_days(
    store_url: str, smtp: tuple[Inbox, int], lang: str, days: int, expected: str
) -> None:
    app = make_app(store_url, smtp_port=smtp[1], doi_expiry_days=days)
    define_purposes(app)
    forms.save(app, FORM)
    public.sign_up(app, "nieuwsbrief-footer", "jan@example.nl", ["nieuwsbrief"], lang, BROWSER)
    msg = smtp[0].wait_for(1)[0]
    assert msg["Content-Language"] == lang and expected in body_text(msg)
    html = msg.get_body(("html",))
    assert html is not None and expected in html.get_content()


def test_signing_up_without_ticking_stores_nothing_and_still_delivers_the_lead_magnet(
    flow_app: App, smtp: tuple[Inbox, int]
) -> None:
    out = public.sign_up(flow_app, "nieuwsbrief-footer", "piet@example.nl", [], "en", BROWSER)
    assert not out.asked_confirmation and out.lead_magnet_url
    with flow_app.store.reader() as r:
        assert r.counts()["events"] == 0
    assert smtp[0].messages == []


def test_a_known_address_gets_the_same_answer_as_a_new_one(flow_app: App, smtp: tuple[Inbox, int]) -> None:
    first = public.sign_up(flow_app, "nieuwsbrief-footer", "a@example.nl", ["nieuwsbrief"], "nl", BROWSER)
    second = public.sign_up(flow_app, "nieuwsbrief-footer", "a@example.nl", ["nieuwsbrief"], "nl", BROWSER)
    assert first == second
    assert len(smtp[0].wait_for(2)) == 2


def test_forged_truncated_and_repurposed_tokens_are_refused(flow_app: App, smtp: tuple[Inbox, int]) -> None:
    public.sign_up(flow_app, "nieuwsbrief-footer", "a@example.nl", ["nieuwsbrief"], "nl", BROWSER)
    token = link(smtp[0])
    with pytest.raises(TokenInvalid):
        public.confirm(flow_app, token[:-3], Evidence())
    with pytest.raises(TokenInvalid):
        public.confirm(flow_app, token.replace(token[5], "A" if token[5] != "A" else "B", 1), Evidence())
    with pytest.raises(TokenInvalid):
        public.unsubscribe(flow_app, token, everything=True, via="one_click", evidence=Evidence())
    stranger = flow_app.signer().make(TokenUse.UNSUBSCRIBE, "cp_does_not_exist", None)
    with pytest.raises(TokenInvalid):
        public.unsubscribe(flow_app, stranger, everything=True, via="one_click", evidence=Evidence())


def test_a_confirmation_link_expires_after_the_configured_days(
    flow_app: App, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    public.sign_up(flow_app, "nieuwsbrief-footer", "a@example.nl", ["nieuwsbrief"], "nl", BROWSER)
    token = link(smtp[0])
    real = time.time
    # itsdangerous reads the wall clock: move it eight days on.
    monkeypatch.setattr(time, "time", lambda: real() + 8 * 86400)
    with pytest.raises(TokenExpired):
        public.confirm(flow_app, token, Evidence())


def test_the_preference_centre_changes_and_objections_are_recorded(
    flow_app: App, smtp: tuple[Inbox, int]
) -> None:
    public.sign_up(flow_app, "nieuwsbrief-footer", "a@example.nl", ["nieuwsbrief"], "nl", BROWSER)
    confirmed = public.confirm(flow_app, link(smtp[0]), BROWSER)
    token = confirmed.preferences_url.rsplit("/", 1)[1]
    view = preferences.view(flow_app, token)
    assert view.masked_address == "a**@example.nl"
    assert {(r.purpose.key, r.receiving, r.status) for r in view.rows} == {
        ("nieuwsbrief", True, "subscribed"),
        ("aanbiedingen", False, "none"),
    }
    view = preferences.update(flow_app, token, {("aanbiedingen", "email")}, "nl", BROWSER)
    receiving = {(r.purpose.key, r.receiving) for r in view.rows}
    assert receiving == {("nieuwsbrief", False), ("aanbiedingen", True)}
    with pytest.raises(InputError):
        preferences.update(flow_app, token, {("bestaat-niet", "email")}, "nl", BROWSER)
    preferences.object_to(flow_app, token, "direct_marketing", BROWSER)
    preferences.make_request(flow_app, token, "erasure", "Graag alles wissen", BROWSER)
    view = preferences.view(flow_app, token)
    assert view.objected_dm and not any(r.receiving for r in view.rows)
    assert [k for k, _ in view.requests] == ["erasure"]
    assert decide(flow_app, "a@example.nl", "email", "aanbiedingen").rule == "EU-GDPR-04"


def test_sign_ups_are_rate_limited_per_address(flow_app: App, smtp: tuple[Inbox, int]) -> None:
    from consentry.adapters.ratelimit import RateLimited

    for _ in range(5):
        public.sign_up(flow_app, "nieuwsbrief-footer", "a@example.nl", ["nieuwsbrief"], "nl", BROWSER)
    with pytest.raises(RateLimited):
        public.sign_up(flow_app, "nieuwsbrief-footer", "a@example.nl", ["nieuwsbrief"], "nl", BROWSER)
    # another address from another client is not held back
    other = Evidence("192.0.2.7")
    public.sign_up(flow_app, "nieuwsbrief-footer", "b@example.nl", ["nieuwsbrief"], "nl", other)


def test_a_form_that_states_a_consent_term_gives_consents_that_expire(
    flow_app: App, smtp: tuple[Inbox, int]
) -> None:
    forms.save(flow_app, {**FORM, "key": "actie-24", "consent_valid_for_months": 24})
    public.sign_up(flow_app, "actie-24", "kim@example.nl", ["nieuwsbrief"], "nl", BROWSER)
    public.confirm(flow_app, link(smtp[0]), Evidence("198.51.100.1", "Firefox"))
    signed = flow_app.clock.now()
    within = decide(
        flow_app,
        "kim@example.nl",
        "email",
        "nieuwsbrief",
        at=signed.replace(year=signed.year + 2) - timedelta(days=1),
    )
    after = decide(
        flow_app, "kim@example.nl", "email", "nieuwsbrief", at=signed.replace(year=signed.year + 2)
    )
    assert (within.rule, after.rule) == ("EU-GDPR-02", "EU-GDPR-03.expired")
