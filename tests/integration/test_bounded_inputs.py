"""Bounded inputs and clean refusals, on SQLite and on PostgreSQL.

Every way in (ledger, API, sign-up form, CSV import, CLI) refuses an over-long value with
its field and limit; an over-large body gets 413; a locked database answers 503 with
Retry-After; a subject past SMTP's line limit is folded and delivered; `campaign send`
without a usable secret key refuses before it queues anything.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import FORM, Inbox, define_purposes, make_app
from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.campaigns import CampaignStatus
from consentry.domain.vocabulary import Source
from consentry.entrypoints.cli import app as cli_app
from consentry.entrypoints.http import create_app
from consentry.services import apikeys, campaigns, forms, imports, ledger, sending
from consentry.services.errors import FileRejected

runner = CliRunner()
JAN = "jan@example.nl"
CAMPAIGN: dict[str, Any] = {
    "key": "najaar",
    "name": "Najaarsactie",
    "purpose": "nieuwsbrief",
    "channel": "email",
    "sender": {
        "name": "Koffiebranderij De Boon",
        "email": "nieuws@deboon.example",
        "legal_name": "De Boon B.V.",
        "address": "Markt 1, 3511 AA Utrecht",
        "kvk": "12345678",
    },
    "content": {"nl": {"subject": "Koffie", "body": "Hallo {{ name }}"}},
}


def events(app: App) -> int:
    with app.store.reader() as r:
        return int(r.counts()["events"])


def subscriber(address: str = JAN, name: str = "Jan") -> list[dict[str, Any]]:
    """A registration with a display name and a newsletter consent."""
    return [
        {"type": "contact_point.registered", "kind": "email", "value": address, "source": "web_form"}
        | {"display_name": name},
        {
            "type": "consent.given",
            "contact": address,
            "purpose": "nieuwsbrief",
            "channels": ["email"],
            "method": "single_opt_in",
        },
    ]


def load(app: App, records: list[dict[str, Any]]) -> None:
    ledger.append_records(app, enumerate(records, 1))


@pytest.fixture
def api(app: App) -> Iterator[TestClient]:
    _, token = apikeys.create(app, "limits", ["admin"])
    with TestClient(create_app(app), headers={"Authorization": f"Bearer {token}"}) as client:
        yield client


def cli(url: str, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(cli_app, ["--database-url", url, *args], input=input)
    return result.exit_code, result.stdout, result.stderr


# -- field sizes --------------------------------------------------------------------------------


def test_a_multi_megabyte_display_name_is_refused_by_the_ledger_with_line_field_and_limit(app: App) -> None:
    before = events(app)
    records = subscriber(name="x" * 5_000_000)
    with pytest.raises(FileRejected) as caught:
        load(app, records)
    problem = caught.value.problems[0]
    assert (problem.line, problem.field) == (1, "display_name")
    assert str(limits.NAME) in problem.message
    assert events(app) == before


def test_the_api_refuses_an_over_long_field_with_its_location_and_limit(app: App, api: TestClient) -> None:
    before = events(app)
    long_name = {"kind": "email", "value": JAN, "source": "web_form", "display_name": "n" * 301}
    answer = api.post("/v1/contact-points", json=long_name)
    assert answer.status_code == 422
    (item,) = answer.json()["detail"]
    assert item["loc"][-1] == "display_name" and "300" in item["msg"]
    note = {"type": "request.received", "contact": JAN, "request": "access", "note": "n" * 4001}
    load(app, subscriber())
    answer = api.post("/v1/events", json={"events": [note]})
    assert answer.status_code == 422
    (item,) = answer.json()["detail"]
    assert item["loc"][-1] == "note" and str(limits.TEXT) in item["msg"]
    assert events(app) == before + 2


def test_a_request_body_over_the_cap_is_answered_413_declared_or_streamed(api: TestClient) -> None:
    big = b"x" * (limits.REQUEST_BYTES + 1)
    declared = api.post("/v1/events", content=big, headers={"Content-Type": "application/json"})
    assert declared.status_code == 413
    assert declared.json()["detail"][0]["type"] == "too_large"

    def chunks() -> Iterator[bytes]:
        for _ in range(limits.PAGE_BYTES // 1024 + 2):
            yield b"y" * 1024

    streamed = api.post("/f/nieuwsbrief-footer", content=chunks())
    assert streamed.status_code == 413


def test_the_sign_up_form_refuses_an_address_longer_than_any_e_mail_address(app: App) -> None:
    forms.save(app, FORM)
    before = events(app)
    with TestClient(create_app(app)) as client:
        page = client.get("/f/nieuwsbrief-footer")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        long_address = "a" * 250 + "@example.nl"
        answer = client.post(
            "/f/nieuwsbrief-footer",
            data={"csrf": token.group(1), "email": long_address, "purpose": ["nieuwsbrief"]},
        )
    assert answer.status_code == 422
    assert events(app) == before


def test_an_import_rejects_an_oversized_cell_and_an_over_long_name_by_line_and_column(
    app: App, tmp_path: Path
) -> None:
    rows = [
        "E-mailadres;Naam;Notitie",
        "jan@example.nl;Jan;kort",
        f"piet@example.nl;Piet;{'n' * (limits.CSV_CELL + 1)}",
        f"kees@example.nl;{'K' * (limits.NAME + 1)};kort",
    ]
    path = tmp_path / "lijst.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    spec = imports.CsvSpec(
        source=Source.WEB_FORM,
        basis="consent",
        purpose="nieuwsbrief",
        columns={"email": "E-mailadres", "name": "Naam"},
    )
    report = imports.run(app, path, imports.CsvMapper(app, spec))
    assert report.accepted == 1
    found = {(p.line, p.field): p.message for p in report.rejected}
    assert {line for line, _ in found} == {3, 4}
    assert {(3, "Notitie"), (4, "display_name")} <= set(found)
    assert str(limits.CSV_CELL) in found[(3, "Notitie")]
    assert str(limits.NAME) in found[(4, "display_name")]


def test_the_cli_refuses_over_long_input_with_a_message_and_exit_code_2(app: App, store_url: str) -> None:
    line = json.dumps(subscriber(name="x" * 100_000)[0])
    code, _, err = cli(store_url, "ledger", "append", "-", input=line + "\n")
    assert code == 2
    assert "display_name" in err and str(limits.NAME) in err and "Traceback" not in err
    code, _, err = cli(
        store_url, "purposes", "add", "webinars", "--name-nl", "W" * 301, "--name-en", "Webinars"
    )
    assert code == 2 and str(limits.NAME) in err


# -- a locked database ---------------------------------------------------------------------------


@contextmanager
def write_lock_held(url: str) -> Iterator[None]:
    """Another connection holds the ledger's write lock until the block ends."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = sa.create_engine(url)
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("SELECT seq FROM ledger_head FOR UPDATE"))
        yield
    engine.dispose()


def test_a_locked_database_answers_503_with_retry_after_on_the_api_and_the_pages(store_url: str) -> None:
    app = make_app(store_url, lock_wait_s=0.3)
    define_purposes(app)
    forms.save(app, FORM)
    _, token = apikeys.create(app, "lock", ["admin"])
    record = subscriber()[0]
    with TestClient(create_app(app), headers={"Authorization": f"Bearer {token}"}) as client:
        page = client.get("/f/nieuwsbrief-footer")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        form = {"csrf": csrf.group(1), "email": "piet@example.nl", "purpose": ["nieuwsbrief"]}
        with write_lock_held(store_url):
            started = time.monotonic()
            answer = client.post("/v1/events", json={"events": [record]})
            waited = time.monotonic() - started
            signup = client.post("/f/nieuwsbrief-footer", data=form)
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"].isdigit()
        assert answer.json()["detail"][0]["type"] == "busy"
        assert waited < 5
        assert signup.status_code == 503 and signup.headers["Retry-After"].isdigit()
        assert "text/html" in signup.headers["content-type"]
        # Once the lock is let go, the same request goes through.
        assert client.post("/v1/events", json={"events": [record]}).status_code == 201
    app.store.engine.dispose()


# -- long subjects ------------------------------------------------------------------------------


def test_a_subject_longer_than_an_smtp_line_is_folded_and_delivered(
    store_url: str, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    app = make_app(store_url, smtp_port=port)
    define_purposes(app)
    name = "Jan" + "e" * (limits.NAME - 3)
    load(app, subscriber(name=name))
    subject = " ".join(["{{ name }}"] * 5)
    campaigns.define(app, {**CAMPAIGN, "content": {"nl": {"subject": subject, "body": "Hallo"}}})
    report = sending.send(app, "najaar", sending.SendOptions(retry_after=timedelta(0)))
    assert (report.sent, report.failed) == (1, 0)
    (message,) = inbox.wait_for(1)
    assert message["Subject"] == " ".join([name] * 5)
    assert len(message["Subject"]) > 998
    app.store.engine.dispose()


# -- the secret key -----------------------------------------------------------------------------


@pytest.fixture
def drafted(app: App, store_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A draft campaign with one subscriber; the environment holds no secret key."""
    load(app, subscriber())
    campaigns.define(app, CAMPAIGN)
    monkeypatch.delenv("CONSENTRY_SECRET_KEY", raising=False)
    return store_url


def _untouched(app: App) -> None:
    progress = campaigns.progress(app, "najaar")
    assert progress.status is CampaignStatus.DRAFT
    assert progress.total == 0


def test_campaign_send_in_production_without_a_secret_key_refuses_before_queueing(
    app: App, drafted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENTRY_ENV", "production")
    code, _, err = cli(drafted, "campaign", "send", "najaar")
    assert code == 2
    assert "CONSENTRY_SECRET_KEY must be set in production" in err and "Traceback" not in err
    _untouched(app)


def test_a_secret_key_that_is_too_short_is_a_clear_message_that_never_shows_the_key(
    app: App, drafted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENTRY_SECRET_KEY", "kort-geheim")
    for args in (("campaign", "send", "najaar"), ("serve",)):
        code, out, err = cli(drafted, *args)
        assert code == 2, out + err
        assert "at least 16" in err and "kort-geheim" not in err + out
    _untouched(app)


# -- 405 answers --------------------------------------------------------------------------------


def test_a_method_a_path_lacks_gets_405_with_exactly_the_documented_methods(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path, item in paths.items():
        documented = sorted(m.upper() for m in item)
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        for method in ("DELETE", "GET", "PATCH", "POST", "PUT"):
            if method in documented:
                continue
            answer = api.request(method, concrete)
            assert answer.status_code == 405, (method, path)
            assert sorted(answer.headers["Allow"].split(", ")) == documented, (method, path)
