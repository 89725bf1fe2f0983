"""Verzoeken and Bewaartermijnen over HTTP on both stores: the request list by deadline, a request's
steps from its page (each recorded in the audit log with the acting user), the retention policies
with a dry run and a confirmed real run, and who may open and change them.

Texts are checked in English (?lang=en): the Dutch catalog gains them when the integrator
re-extracts it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from test_admin_app_pages import BASE, PASSWORD, log_in, post, token_of

from conftest import Inbox, make_app
from consentry.bootstrap import App
from consentry.domain.clock import FixedClock
from consentry.domain.dsr import IdentityStatus, RequestState
from consentry.domain.users import AuditAction, Role
from consentry.domain.vocabulary import PointKind
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.http import create_app
from consentry.entrypoints.web import admin_requests, admin_retention
from consentry.services import dsr, integrity, ledger, retention, users
from consentry.services.retention import Erased, Eraser
from consentry.services.retention_policies import load

OFFICER = Role.PRIVACY_OFFICER.value + "@example.nl"


def _register(app: App, value: str, at: str) -> str:
    record = {"type": "contact_point.registered", "kind": "email", "value": value, "source": "import"}
    ledger.append_records(app, [(1, {**record, "occurred_at": at})])
    with app.store.reader() as r:
        found = r.point_id(PointKind.EMAIL, value)
    assert found is not None
    return found


@pytest.fixture
def site(store_url: str, smtp: tuple[Inbox, int]) -> Iterator[tuple[App, TestClient]]:
    app = make_app(store_url, base_url=BASE, smtp_port=smtp[1], mail_from="nieuws@koffie.example")
    for role in Role:
        users.create_user(accounts(app), f"{role.value}@example.nl", role, PASSWORD, actor=None)
    with TestClient(create_app(app), base_url=BASE) as client:
        yield app, client
    app.store.engine.dispose()


def _audit(app: App, action: AuditAction) -> list[tuple[str | None, str | None, dict[str, object]]]:
    return [
        (e.actor, e.subject, e.detail) for e in reversed(users.audit_log(accounts(app))) if e.action is action
    ]


def test_a_privacy_officer_takes_an_erasure_request_from_the_list_through_every_step(
    site: tuple[App, TestClient], smtp: tuple[Inbox, int]
) -> None:
    app, client = site
    inbox, _ = smtp
    assert isinstance(app.clock, FixedClock)
    _register(app, "p@example.nl", "2026-10-01T09:00:00+00:00")
    _register(app, "late@example.nl", "2026-08-01T09:00:00+00:00")
    q = dsr.open_request(app, "p@example.nl", "erasure", via="email")
    late = dsr.open_request(
        app,
        "late@example.nl",
        "access",
        via="letter",
        received_at="2026-09-01T10:00:00+00:00",
        already_overdue=True,
    )
    log_in(client, Role.PRIVACY_OFFICER)
    listed = client.get("/admin/requests?lang=en")
    assert listed.status_code == 200 and "2 requests" in listed.text
    # Earliest deadline first; the overdue one says so in red and in words.
    assert listed.text.index(late.id) < listed.text.index(q.id)
    assert re.search(r'<span class="overdue">1 Oct 2026 \(overdue\)</span>', listed.text)
    assert "CET" in listed.text and "Erasure" in listed.text and "Not checked" in listed.text
    overdue = client.get("/admin/requests?lang=en&show=overdue")
    assert late.id in overdue.text and q.id not in overdue.text
    assert client.get("/admin/requests?show=nonsense&lang=en").status_code == 422
    assert "Later deadlines" not in listed.text  # one page

    page = f"/admin/requests/{q.id}?lang=en"
    shown = client.get(page)
    assert (
        shown.status_code == 200 and "request.received" in shown.text and "Check the identity" in shown.text
    )
    # Handling before the identity is checked is refused with the service's message; nothing recorded.
    refused = post(client, page, f"/admin/requests/{q.id}/handle?lang=en", {"outcome": ""})
    assert (
        refused.status_code == 422
        and "Nothing was saved" in refused.text
        and "verify it first" in refused.text
    )
    assert dsr.show(app, q.id).request.state is RequestState.OPEN
    checked = post(client, page, f"/admin/requests/{q.id}/identity?lang=en", {"method": "email_reply"})
    assert checked.status_code == 303 and "done=identity" in checked.headers["location"]
    assert dsr.show(app, q.id).request.identity is IdentityStatus.VERIFIED
    started = post(client, page, f"/admin/requests/{q.id}/start?lang=en", {})
    assert started.status_code == 303 and dsr.show(app, q.id).request.handler == OFFICER
    empty = post(client, page, f"/admin/requests/{q.id}/extend?lang=en", {"reason": " ", "told_via": "phone"})
    assert empty.status_code == 422 and "Reasons" in empty.text
    extended = post(
        client,
        page,
        f"/admin/requests/{q.id}/extend?lang=en",
        {"reason": "Drie systemen.", "told_via": "phone"},
    )
    assert extended.status_code == 303
    assert dsr.show(app, q.id).request.deadline_day.isoformat() == "2027-02-23"
    assert "Extend the deadline" not in client.get(page).text  # only once
    assert "Check the identity" not in client.get(page).text  # verified already
    before = len(inbox.messages)
    handled = post(client, page, f"/admin/requests/{q.id}/handle?lang=en", {"outcome": ""})
    assert handled.status_code == 303 and "told=1" in handled.headers["location"]
    after = client.get(handled.headers["location"])
    assert "The request was closed." in after.text and "The person was told by e-mail." in after.text
    assert "Handle the request" not in after.text  # closed: no more steps
    assert inbox.wait_for(before + 1)[-1]["To"] == "p@example.nl"
    assert dsr.show(app, q.id).request.state is RequestState.DONE
    again = post(client, f"/admin/requests/{late.id}?lang=en", f"/admin/requests/{q.id}/start?lang=en", {})
    assert again.status_code == 422 and "already done" in again.text

    closed = post(
        client,
        f"/admin/requests/{late.id}?lang=en",
        f"/admin/requests/{late.id}/close?lang=en",
        {"outcome": "withdrawn", "reason": ""},
    )
    assert closed.status_code == 303 and "told" not in closed.headers["location"]
    assert dsr.show(app, late.id).request.state is RequestState.WITHDRAWN
    steps = [(actor, subject, d["step"]) for actor, subject, d in _audit(app, AuditAction.REQUEST_CHANGED)]
    assert steps == [
        (OFFICER, q.id, "identity"),
        (OFFICER, q.id, "started"),
        (OFFICER, q.id, "extended"),
        (OFFICER, q.id, "handled"),
        (OFFICER, late.id, "withdrawn"),
    ]
    assert "Request step taken" in client.get("/admin/audit?lang=en").text
    assert client.get("/admin/requests/nope?lang=en").status_code == 422
    # the audit log (chained, never erased) names the request, not the person
    logged = repr([(e.subject, e.detail) for e in users.audit_log(accounts(app), 1000)])
    assert "p@example.nl" not in logged and "late@example.nl" not in logged and "Drie systemen" not in logged
    assert integrity.verify_audit_log(app).ok


def test_retention_dry_run_shows_counts_and_ids_and_the_real_run_asks_first_and_is_recorded(
    site: tuple[App, TestClient],
) -> None:
    app, client = site
    old = _register(app, "oud@voorbeeld.nl", "2021-01-01T10:00:00+00:00")
    fresh = _register(app, "nieuw@voorbeeld.nl", "2026-11-01T10:00:00+00:00")
    expected = retention.run(app, load(None).policies, None, dry_run=True, keep_ids=True)
    due = {pid for c in expected.counts.values() for pid in c.point_ids}
    assert old in due and fresh not in due
    log_in(client, Role.PRIVACY_OFFICER)
    page = client.get("/admin/retention?lang=en")
    assert page.status_code == 200 and "Retention policies in force" in page.text
    for policy in load(None).policies:
        assert policy.name_en in page.text and policy.rule in page.text and policy.period.en() in page.text
    started = post(client, "/admin/retention?lang=en", "/admin/retention/dry-run?lang=en", {})
    assert started.status_code == 303 and "done=dry-run" in started.headers["location"]
    assert wait_for_retention(client, "dry-run")["running"] is False
    dry = client.get(started.headers["location"])
    assert dry.status_code == 200 and old in dry.text and fresh not in dry.text
    assert "oud@voorbeeld.nl" not in dry.text  # ids only, never an address
    assert "Would be erased today" in dry.text and "1 of" in dry.text
    assert f"Dry run started by {OFFICER}." in dry.text
    # The confirmation takes the finished dry run's count: no second dry run in the request.
    asked = post(client, "/admin/retention?lang=en", "/admin/retention/run?lang=en", {})
    assert (
        asked.status_code == 200
        and "Erase now?" in asked.text
        and "Yes, erase 1 contact point<" in asked.text
    )
    assert retention.last_run(app) is None  # nothing erased before the confirmation
    confirmed = client.post(
        "/admin/retention/run?lang=en",
        data={"confirmed": "yes", "expected": "1", "csrf": token_of(asked)},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303 and "done=run" in confirmed.headers["location"]
    # The run goes on in the background; the page polls its progress until it is done.
    assert wait_for_retention(client) == {"running": False, "done": 1, "total": 1}
    after = client.get(confirmed.headers["location"]).text
    assert (
        "Retention ran: 1 contact point erased." in after
        and "1 contact point erased." in after.split("Last run")[1]
    )
    with app.store.reader() as r:
        assert r.is_erased(old) and not r.is_erased(fresh)
    assert retention.run(app, load(None).policies, None, dry_run=True).selected == 0
    # The dry run before the real run is stale now: asking again runs a new one first.
    assert "Would be erased today" not in after
    nothing = ask_to_erase(client)
    assert "Nothing is due today" in nothing.text and "Yes, erase" not in nothing.text
    ((actor, _subject, detail),) = _audit(app, AuditAction.RETENTION_RUN)
    assert actor == OFFICER and detail["dry_run"] is False


def ask_to_erase(client: TestClient) -> httpx.Response:
    """ "Erase what is due…": the question at once after a dry run of today, else once the dry run
    it starts is done (the page its starter is sent to)."""
    asked = post(client, "/admin/retention?lang=en", "/admin/retention/run?lang=en", {})
    if asked.status_code != 303:
        return asked
    assert "done=confirm" in asked.headers["location"]
    assert wait_for_retention(client, "dry-run")["running"] is False
    return client.get(asked.headers["location"])


def wait_for_retention(client: TestClient, of: str = "run", timeout: float = 30.0) -> dict[str, object]:
    """The background run's (or dry run's) progress once it no longer runs."""
    deadline = time.monotonic() + timeout
    while True:
        state: dict[str, object] = client.get(f"/admin/retention/progress?of={of}").json()
        if not state["running"] or time.monotonic() > deadline:
            return state
        time.sleep(0.05)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_who_may_open_and_change_verzoeken_and_bewaartermijnen(site: tuple[App, TestClient]) -> None:
    app, client = site
    _register(app, "p@example.nl", "2026-10-01T09:00:00+00:00")
    q = dsr.open_request(app, "p@example.nl", "objection")
    expect = {
        Role.BEHEERDER: (200, 200, True),
        Role.PRIVACY_OFFICER: (200, 200, True),
        Role.READ_ONLY: (200, 403, False),
        Role.MARKETEER: (403, 403, False),
    }
    for role, (requests_status, retention_status, changes) in expect.items():
        client.cookies.clear()
        log_in(client, role)
        overview = client.get("/admin?lang=en").text
        assert ('href="/admin/requests' in overview) is (requests_status == 200)
        assert ('href="/admin/retention' in overview) is (retention_status == 200)
        shown = client.get(f"/admin/requests/{q.id}?lang=en")
        assert shown.status_code == requests_status
        assert client.get("/admin/retention?lang=en").status_code == retention_status
        if requests_status == 200:
            assert ("Check the identity" in shown.text) is changes
            token = token_of(shown)
            started = client.post(
                f"/admin/requests/{q.id}/start", data={"csrf": token}, follow_redirects=False
            )
            assert started.status_code == (303 if changes else 403)
            if changes:
                q = dsr.open_request(app, "p@example.nl", "objection")
            dry = client.post("/admin/retention/dry-run", data={"csrf": token}, follow_redirects=False)
            assert dry.status_code == (303 if changes else 403)
    # Without the form token nothing changes.
    client.cookies.clear()
    log_in(client, Role.PRIVACY_OFFICER)
    assert client.post(f"/admin/requests/{q.id}/start", data={}).status_code == 403
    assert dsr.show(app, q.id).request.state is RequestState.OPEN
    assert client.post("/admin/retention/run", data={"confirmed": "yes"}).status_code == 403
    assert retention.last_run(app) is None
    assert _audit(app, AuditAction.RETENTION_RUN) == []


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_request_list_is_shown_a_page_at_a_time_by_deadline(
    site: tuple[App, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client = site
    monkeypatch.setattr(admin_requests, "PAGE_SIZE", 1)
    _register(app, "a@example.nl", "2026-10-01T09:00:00+00:00")
    _register(app, "b@example.nl", "2026-10-01T09:00:00+00:00")
    early = dsr.open_request(app, "a@example.nl", "access", received_at="2026-11-01T10:00:00+00:00")
    later = dsr.open_request(app, "b@example.nl", "access")
    log_in(client, Role.READ_ONLY)
    first = client.get("/admin/requests?lang=en").text
    assert "2 requests" in first and "Requests 1 to 1 of 2." in first
    assert early.id in first and later.id not in first and "Earlier deadlines" not in first
    found = re.search(r'href="([^"]*start=1[^"]*)">Later deadlines', first)
    assert found
    second = client.get(found[1].replace("&amp;", "&")).text
    assert later.id in second and early.id not in second and "Earlier deadlines" in second


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_real_retention_run_goes_on_in_the_background_and_the_page_shows_its_progress(
    site: tuple[App, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client = site
    old = _register(app, "oud@voorbeeld.nl", "2021-01-01T10:00:00+00:00")
    release = threading.Event()
    real = admin_retention.eraser_for

    def held(app: App) -> Eraser:
        erase = real(app)

        def waiting(point_ids: Sequence[str], reason: str, now: datetime) -> Erased:
            assert release.wait(30)
            return erase(point_ids, reason, now)

        return waiting

    monkeypatch.setattr(admin_retention, "eraser_for", held)
    log_in(client, Role.PRIVACY_OFFICER)
    asked = ask_to_erase(client)
    assert "Erase now?" in asked.text
    started = client.post(
        "/admin/retention/run?lang=en",
        data={"confirmed": "yes", "expected": "1", "csrf": token_of(asked)},
        follow_redirects=False,
    )
    assert started.status_code == 303  # answered while the erasure waits
    running = client.get(started.headers["location"]).text
    assert "Retention is running" in running and "data-progress=" in running
    assert "/static/admin-progress.js" in running and "Erase what is due" not in running
    assert client.get("/admin/retention/progress").json() == {"running": True, "done": 0, "total": 1}
    # Someone else opening the page sees it run too, and cannot start a second one.
    assert "Retention is running" in client.get("/admin/retention?lang=en").text
    with app.store.reader() as r:
        assert not r.is_erased(old)
    release.set()
    assert wait_for_retention(client)["running"] is False
    after = client.get(started.headers["location"]).text
    assert "Retention ran: 1 contact point erased." in after and "Erase what is due" in after
    assert "Retention ran:" not in client.get("/admin/retention?lang=en").text  # told once, to the starter
    with app.store.reader() as r:
        assert r.is_erased(old)
    ((actor, _subject, detail),) = _audit(app, AuditAction.RETENTION_RUN)
    assert actor == OFFICER and detail["dry_run"] is False


def test_the_overview_counts_requests_overdue_and_due_within_a_week_for_those_who_see_requests(
    site: tuple[App, TestClient],
) -> None:
    app, client = site
    log_in(client, Role.PRIVACY_OFFICER)
    none = client.get("/admin?lang=en").text
    assert "No request is overdue." in none and "No request is due within 7 days." in none
    for name in ("late", "soon", "later"):
        _register(app, f"{name}@example.nl", "2026-08-01T09:00:00+00:00")
    late = dsr.open_request(
        app, "late@example.nl", "access", received_at="2026-09-01T10:00:00+00:00", already_overdue=True
    )
    soon_at = (app.clock.now() - timedelta(days=27)).isoformat()
    soon = dsr.open_request(app, "soon@example.nl", "access", received_at=soon_at)
    dsr.open_request(app, "later@example.nl", "access")  # a month to go
    assert late.overdue(app.clock.now()) and not soon.overdue(app.clock.now())
    page = client.get("/admin?lang=en").text
    section = page.split('id="requests-due"')[1].split("</section>")[0]
    assert (
        '<a class="overdue" href="/admin/requests?lang=en&amp;show=overdue">'
        "1 request is overdue: its deadline has passed.</a>" in section
    )
    assert "2 requests are due within 7 days (the overdue ones included).</a>" in section
    found = re.search(r'href="([^"]*show=due[^"]*)"', section)
    assert found and "days=7" in found[1]
    # Each link opens the list its count counts.
    overdue_list = client.get("/admin/requests?lang=en&show=overdue").text
    due_list = client.get(found[1].replace("&amp;", "&")).text
    assert late.id in overdue_list and soon.id not in overdue_list
    assert late.id in due_list and soon.id in due_list and "2 requests" in due_list
    # A marketer does not see requests, on the overview either.
    client.cookies.clear()
    log_in(client, Role.MARKETEER)
    assert "requests-due" not in client.get("/admin?lang=en").text


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_dry_run_goes_on_in_the_background_and_its_report_is_shown_to_everyone_on_the_page(
    site: tuple[App, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, client = site
    old = _register(app, "oud@voorbeeld.nl", "2021-01-01T10:00:00+00:00")
    release = threading.Event()
    real = retention.run
    calls: list[bool] = []

    def held(*args: object, **kwargs: object) -> retention.RunReport:
        calls.append(bool(kwargs.get("dry_run")))
        assert release.wait(30)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(retention, "run", held)
    log_in(client, Role.PRIVACY_OFFICER)
    started = post(client, "/admin/retention?lang=en", "/admin/retention/dry-run?lang=en", {})
    assert started.status_code == 303  # answered while the dry run waits
    opened = client.get(started.headers["location"])
    running = opened.text
    assert "Finding what is due" in running and "progress?lang=en&amp;of=dry-run" in running
    assert "/static/admin-progress.js" in running and "Erase what is due" not in running
    assert client.get("/admin/retention/progress?of=dry-run").json()["running"] is True
    # Nothing else starts beside it: a second dry run joins it, a real run waits for it.
    again = client.post("/admin/retention/dry-run", data={"csrf": token_of(opened)}, follow_redirects=False)
    assert again.status_code == 303
    erase = client.post(
        "/admin/retention/run",
        data={"confirmed": "yes", "expected": "1", "csrf": token_of(opened)},
        follow_redirects=False,
    )
    assert erase.status_code == 303 and "done=busy" in erase.headers["location"]
    release.set()
    assert wait_for_retention(client, "dry-run")["running"] is False
    assert calls == [True]
    with app.store.reader() as r:
        assert not r.is_erased(old)
    # Someone else opening the page sees the finished dry run, who started it, and may confirm
    # with its count without another dry run.
    client.cookies.clear()
    log_in(client, Role.BEHEERDER)
    seen = client.get("/admin/retention?lang=en").text
    assert old in seen and f"Dry run started by {OFFICER}." in seen and "Finding what is due" not in seen
    asked = ask_to_erase(client)
    assert "Yes, erase 1 contact point<" in asked.text and calls == [True]
    assert retention.last_run(app) is None


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_dry_run_that_fails_says_so_to_its_starter(
    site: tuple[App, TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    _app, client = site

    def broken(*args: object, **kwargs: object) -> retention.RunReport:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(retention, "run", broken)
    log_in(client, Role.PRIVACY_OFFICER)
    started = post(client, "/admin/retention?lang=en", "/admin/retention/dry-run?lang=en", {})
    assert wait_for_retention(client, "dry-run")["running"] is False
    page = client.get(started.headers["location"]).text
    assert "The dry run stopped" in page and "Would be erased today" not in page
    assert "Dry run: show what would be erased" in page  # may be tried again
