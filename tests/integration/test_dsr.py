"""Data-subject requests on both stores: from the preference centre through the deadline, handling
and the mail to the person (a real SMTP server), reminders, restriction set-wise, the API."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import FORM, Inbox, body_text, define_purposes, make_app, power_cut
from consentry.adapters.sql.requests import RequestWrites
from consentry.bootstrap import App
from consentry.domain.clock import FixedClock
from consentry.domain.dsr import DsrRequest, IdentityMethod, RequestState
from consentry.entrypoints import dsr_hooks
from consentry.entrypoints.http import create_app
from consentry.services import (
    apikeys,
    audience,
    dsr,
    dsr_handling,
    dsr_mails,
    erasure,
    forms,
    ledger,
    preferences,
    public,
)
from consentry.services.audit import verify_projection
from consentry.services.decide import decide
from consentry.services.dsr_handling import Hooks
from consentry.services.errors import InputError
from consentry.services.integrity import verify_ledger
from consentry.services.processing_report import processing
from consentry.services.public import Evidence

BROWSER = Evidence(ip="203.0.113.9", user_agent="Mozilla/5.0 test")
OFFICER = "privacy@koffie.example"
PIET = '{"type": "contact_point.registered", "kind": "email", "value": "p@example.nl", "source": "import"}'


@pytest.fixture
def dsr_app(store_url: str, smtp: tuple[Inbox, int]) -> Iterator[App]:
    app = make_app(
        store_url, smtp_port=smtp[1], mail_from="nieuws@koffie.example", privacy_officer_email=OFFICER
    )
    define_purposes(app)
    forms.save(app, FORM)
    yield app
    app.store.engine.dispose()


def clock(app: App) -> FixedClock:
    assert isinstance(app.clock, FixedClock)
    return app.clock


def subscribed(app: App, inbox: Inbox, address: str, lang: str) -> str:
    """Sign up and confirm through the public flow; the preference centre's token."""
    n = len(inbox.messages) + 1
    public.sign_up(app, "nieuwsbrief-footer", address, ["nieuwsbrief"], lang, BROWSER)
    found = re.search(r"https?://\S+/c/(\S+)", body_text(inbox.wait_for(n)[n - 1]))
    assert found
    confirmed = public.confirm(app, found.group(1), BROWSER)
    return confirmed.preferences_url.rsplit("/", 1)[1]


def test_a_request_from_the_preference_centre_through_its_deadline_handling_and_the_mail_to_the_person(
    dsr_app: App, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    token = subscribed(dsr_app, inbox, "kim@example.nl", "en")
    received = preferences.make_request(dsr_app, token, "access", "What do you hold?", BROWSER, "en")
    assert (received.identity.value, received.identity_method, received.language) == (
        "verified",
        "signed_link",
        "en",
    )
    assert received.deadline_day.isoformat() == "2026-12-23"  # received 23 November 2026
    assert [q.id for q in dsr.list_requests(dsr_app)] == [received.id]
    assert dsr.list_requests(dsr_app, due_within=7) == []

    # three weeks later it falls due within the week: the privacy officer is reminded once that day
    clock(dsr_app).moment += timedelta(days=24)
    assert [q.id for q in dsr.list_requests(dsr_app, due_within=7)] == [received.id]
    before = len(inbox.messages)
    first = dsr_mails.remind(dsr_app)
    assert [q.id for q in first.requests] == [received.id]
    reminder = inbox.wait_for(before + 1)[-1]
    assert reminder["To"] == OFFICER and received.id in body_text(reminder)
    assert "kim@example.nl" not in body_text(reminder)  # ids and days, no personal data
    assert dsr_mails.remind(dsr_app).requests == []  # not twice the same day
    clock(dsr_app).moment += timedelta(days=1)
    assert [q.id for q in dsr_mails.remind(dsr_app).requests] == [received.id]  # again the next day

    taken = dsr.start(dsr_app, received.id, "anna@koffie.example")
    assert taken.state is RequestState.IN_PROGRESS

    def export(app: App, request: DsrRequest, point_ids: Sequence[str]) -> str:
        return f"access-{request.id}.json ({len(point_ids)} point)"

    done = dsr_handling.handle(
        dsr_app, received.id, "anna@koffie.example", "Your copy is attached.", Hooks(export=export)
    )
    assert done.told and done.request.state is RequestState.DONE
    told = inbox.wait_for(before + 3)[-1]
    assert told["To"] == "kim@example.nl" and told["Subject"] == "Your request has been handled"
    assert told["Content-Language"] == "en"
    assert "We handled your request for access to your data of 23 November 2026 on 18 December 2026" in (
        body_text(told)
    )
    shown = dsr.show(dsr_app, received.id)
    assert [e.type for e in shown.events] == [
        "request.received",
        "request.identity_checked",
        "request.started",
        "request.handled",
        "request.told",
    ]
    handled = shown.events[3]
    assert handled.payload["handler"] == "anna@koffie.example"
    assert shown.request.handled_at == clock(dsr_app).moment and shown.request.person_told_at is not None
    assert not dsr.list_requests(dsr_app) and dsr.list_requests(dsr_app, include_closed=True)
    assert verify_ledger(dsr_app).ok and verify_projection(dsr_app).ok


def test_an_extension_is_mailed_in_dutch_with_its_reasons_and_refused_a_second_time(
    dsr_app: App, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    token = subscribed(dsr_app, inbox, "jan@example.nl", "nl")
    q = preferences.make_request(dsr_app, token, "erasure", None, BROWSER, "nl")
    extended = dsr.extend(dsr_app, q.id, "We moeten drie systemen nalopen.", "anna@koffie.example")
    msg = inbox.wait_for(2)[-1]
    assert msg["Subject"] == "Je verzoek: we hebben meer tijd nodig"
    assert "uiterlijk op 23 februari 2027" in body_text(msg) and "drie systemen" in body_text(msg)
    assert extended.deadline_day.isoformat() == "2027-02-23"
    with pytest.raises(InputError, match="only once"):
        dsr.extend(dsr_app, q.id, "Nog eens", "anna@koffie.example")
    assert len(inbox.messages) == 2
    with dsr_app.store.reader() as r:
        row = r.dsr(q.id)
    assert row == extended  # the row round-trips through the store unchanged


def test_nothing_is_half_recorded_when_the_store_fails_midway(dsr_app: App) -> None:
    ledger.append_lines(dsr_app, [PIET])
    with dsr_app.store.reader() as r:
        before = r.counts()["events"]
    with power_cut(RequestWrites, "add_dsr", 1):
        dsr.open_request(dsr_app, "p@example.nl", "access")
    with dsr_app.store.reader() as r:
        assert r.counts()["events"] == before and r.dsr_requests() == []
    q = dsr.open_request(dsr_app, "p@example.nl", "access")
    with power_cut(RequestWrites, "put_dsr", 1):
        dsr.start(dsr_app, q.id, "anna@koffie.example")
    assert dsr.show(dsr_app, q.id).request == q and len(dsr.show(dsr_app, q.id).events) == 1


def test_a_restriction_is_judged_the_same_per_contact_and_set_wise(
    dsr_app: App, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    subscribed(dsr_app, inbox, "els@example.nl", "nl")
    token = subscribed(dsr_app, inbox, "jan@example.nl", "nl")
    q = preferences.make_request(dsr_app, token, "restriction", None, BROWSER, "nl")
    target = audience.Target.of("email", "nieuwsbrief")

    def counts() -> dict[str, int]:
        rep = audience.report(dsr_app, target)
        return {c.rule.id: c.count for c in (*rep.included, *rep.excluded, *rep.review)}

    assert counts() == {"EU-GDPR-02": 2}
    dsr_handling.handle(dsr_app, q.id, "anna@koffie.example", "Beperkt.", Hooks())
    assert decide(dsr_app, "jan@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-18"
    assert counts() == {"EU-GDPR-02": 1, "EU-GDPR-18": 1}
    assert verify_projection(dsr_app).ok
    dsr_handling.lift_restriction(dsr_app, q.id, "anna@koffie.example")
    assert counts() == {"EU-GDPR-02": 2}
    assert "heffen we nu op" in body_text(inbox.messages[-1])


def test_the_api_opens_lists_and_shows_requests(dsr_app: App) -> None:
    ledger.append_lines(dsr_app, [PIET])
    _, write = apikeys.create(dsr_app, "shop", ["write"])
    _, read = apikeys.create(dsr_app, "dashboard", ["read"])
    w, r = {"Authorization": f"Bearer {write}"}, {"Authorization": f"Bearer {read}"}
    with TestClient(create_app(dsr_app)) as client:
        made = client.post(
            "/v1/requests",
            headers=w,
            json={"contact": "p@example.nl", "kind": "portability", "identity_verified_by": "account_login"},
        )
        assert made.status_code == 201, made.text
        doc = made.json()
        assert (
            doc["state"] == "open" and doc["identity"] == "verified" and doc["deadline_day"] == "2026-12-23"
        )
        assert doc["via"] == "api" and doc["overdue"] is False and doc["days_left"] == 30
        listed = client.get("/v1/requests", headers=r)
        assert [x["id"] for x in listed.json()] == [doc["id"]]
        assert client.get(f"/v1/requests/{doc['id']}", headers=r).json() == doc
        assert client.get("/v1/requests?overdue=true", headers=r).json() == []
        assert (
            client.post(
                "/v1/requests", headers=r, json={"contact": "p@example.nl", "kind": "access"}
            ).status_code
            == 403
        )
        unknown = client.post("/v1/requests", headers=w, json={"contact": "x@example.nl", "kind": "access"})
        assert unknown.status_code == 404 and unknown.json()["detail"][0]["loc"] == ["body", "contact"]
        assert client.get("/v1/requests/dsr_nope", headers=r).status_code == 404
        bad = client.post("/v1/requests", headers=w, json={"contact": "p@example.nl", "kind": "lunch"})
        assert bad.status_code == 422
        past = client.post(
            "/v1/requests",
            headers=w,
            json={"contact": "p@example.nl", "kind": "access", "received_at": "2026-09-01"},
        )
        assert past.status_code == 422 and "already_overdue" in past.json()["detail"][0]["msg"]
        late = client.post(
            "/v1/requests",
            headers=w,
            json={
                "contact": "p@example.nl",
                "kind": "access",
                "received_at": "2026-09-01",
                "already_overdue": True,
            },
        )
        assert late.status_code == 201 and late.json()["overdue"] is True
        assert [x["id"] for x in client.get("/v1/requests?overdue=true", headers=r).json()] == [
            late.json()["id"]
        ]


def test_requests_recorded_before_the_request_table_are_tracked_after_the_upgrade(dsr_app: App) -> None:
    from alembic import command

    from consentry.adapters.sql import schema

    earlier = [
        PIET,
        '{"type": "contact_point.registered", "kind": "email", "value": "q@example.nl", "source": "import"}',
        '{"type": "request.received", "contact": "p@example.nl", "request": "erasure", '
        '"via": "preference_centre", "note": "Alles weg", "occurred_at": "2026-11-10T23:30:00+01:00"}',
        '{"type": "request.received", "contact": "q@example.nl", "request": "access", "via": "fax"}',
        '{"type": "request.received", "contact": "q@example.nl", "request": "access", '
        '"occurred_at": "2026-11-01"}',
    ]
    ledger.append_lines(dsr_app, earlier)  # as the API and the pages recorded them: untracked
    erasure.erase(dsr_app, "q@example.nl")
    engine = dsr_app.store.engine
    cfg = schema.alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009")
    schema.upgrade(engine)
    (q,) = dsr.list_requests(dsr_app)
    assert (q.kind.value, q.via.value, q.identity.value, q.identity_method) == (
        "erasure",
        "preference_centre",
        "verified",
        IdentityMethod.SIGNED_LINK,
    )
    assert q.deadline_day.isoformat() == "2026-12-10"  # received 10 November, Dutch time
    (received,) = dsr.show(dsr_app, q.id).events
    assert received.id == q.received_event and received.payload["note"] == "Alles weg"
    started = dsr.start(dsr_app, q.id, "anna@koffie.example")  # and it is handled like any other
    assert started.state is RequestState.IN_PROGRESS
    clock(dsr_app).moment += timedelta(days=1)
    dsr_handling.close(dsr_app, q.id, "refused", "anna@koffie.example", "Nog een lopend contract.")
    clock(dsr_app).moment += timedelta(hours=1)
    # the processing report finds the answer to the request recorded before tracking
    report = processing(dsr_app, date(2026, 11, 1), date(2026, 11, 30))["requests"]
    assert (report["answered"], report["by_outcome"]) == (1, {"refused": 1})
    assert report["days_to_answer_max"] == 14  # 10 to 24 November


def test_the_wired_hooks_erase_a_person_and_write_their_access_copy(
    store_url: str, smtp: tuple[Inbox, int], tmp_path: Path
) -> None:
    """The installation's own hooks (entrypoints/dsr_hooks.py): an erasure request erases the
    person in the request's transaction, keeps the suppression record and the ledger verifies;
    an access request writes the person's copy (JSON and HTML, readable only by its owner)."""
    inbox, port = smtp
    folder = tmp_path / "copies"
    app = make_app(
        store_url,
        smtp_port=port,
        mail_from="nieuws@koffie.example",
        privacy_officer_email=OFFICER,
        access_export_dir=str(folder),
    )
    try:
        define_purposes(app)
        forms.save(app, FORM)
        token = subscribed(app, inbox, "joost@example.nl", "nl")
        asked = preferences.make_request(app, token, "access", "Wat weten jullie?", BROWSER, "nl")
        copy = dsr_handling.handle(app, asked.id, "anna@koffie.example", None, dsr_hooks.hooks(app))
        assert copy.exported and copy.request.state is RequestState.DONE
        written = sorted(p.name for p in folder.iterdir())
        assert written == [f"{asked.id}-access.html", f"{asked.id}-access.json"]
        assert all((folder / name).stat().st_mode & 0o777 == 0o600 for name in written)
        assert "joost@example.nl" in (folder / f"{asked.id}-access.json").read_text(encoding="utf-8")

        gone = preferences.make_request(app, token, "erasure", None, BROWSER, "nl")
        done = dsr_handling.handle(app, gone.id, "anna@koffie.example", None, dsr_hooks.hooks(app))
        assert done.request.state is RequestState.DONE
        again = PIET.replace("p@example.nl", "joost@example.nl")
        ledger.append_lines(app, [again])  # the address comes back, say in a bought list
        verdict = decide(app, "joost@example.nl", "email", "nieuwsbrief")
        assert verdict.verdict.value == "deny"
        assert verdict.rule == "EU-GDPR-09.prior"  # recognised by its suppression record
        assert verify_ledger(app).ok and verify_projection(app).ok
    finally:
        app.store.engine.dispose()
