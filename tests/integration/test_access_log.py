"""The access log of the served app: the route's template, the status and the time; no address, no
query, no token, no client, on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from test_admin_app_pages import BASE, PASSWORD, log_in

from consentry.bootstrap import App
from consentry.domain.users import Role
from consentry.entrypoints.access_log import UNMATCHED
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.http import create_app
from consentry.services import apikeys, ledger, users

JAN = "jan.de.vries@example.nl"
CLIENT = "203.0.113.7"


def lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "consentry.access"]


def test_each_request_is_logged_by_its_routes_template_without_the_address_query_token_or_client(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    ledger.append_records(
        app,
        [
            (1, {"type": "contact_point.registered", "kind": "email", "value": JAN, "source": "web_form"}),
            (
                2,
                {
                    "type": "consent.given",
                    "contact": JAN,
                    "purpose": "nieuwsbrief",
                    "channels": ["email"],
                    "method": "single_opt_in",
                },
            ),
        ],
    )
    _, token = apikeys.create(app, "shop", ["admin"])
    key = {"Authorization": f"Bearer {token}"}
    users.create_user(accounts(app), "privacy_officer@example.nl", Role.PRIVACY_OFFICER, PASSWORD, actor=None)
    caplog.set_level(logging.INFO, logger="consentry.access")
    with TestClient(create_app(app), base_url=BASE, client=(CLIENT, 4711)) as client:
        log_in(client, Role.PRIVACY_OFFICER)
        caplog.clear()
        asked = {"contact": JAN, "channel": "email", "purpose": "nieuwsbrief"}
        assert client.get("/v1/decision", params=asked, headers=key).status_code == 200
        assert client.get(f"/v1/contact-points/{JAN}", headers=key).status_code == 200
        found = client.get("/admin/contacts", params={"q": JAN, "lang": "en"})
        assert found.status_code == 200 and JAN in found.text
        assert client.get("/u/not-a-real-token-but-a-secret-one").status_code == 404
        assert client.get(f"/nowhere/{JAN}", params={"q": JAN}).status_code == 404
    logged = lines(caplog)
    fields = [(vars(r)["method"], vars(r)["route"], vars(r)["status"]) for r in logged]
    assert fields == [
        ("GET", "/v1/decision", 200),
        ("GET", "/v1/contact-points/{ref}", 200),
        ("GET", "/admin/contacts", 200),
        ("GET", "/u/{token}", 404),  # the route answered: not found is its answer
        ("GET", UNMATCHED, 404),
    ]
    assert logged[0].getMessage().startswith("GET /v1/decision 200 ")
    assert all(r.getMessage().endswith(" ms") and r.levelno == logging.INFO for r in logged)
    everything = " ".join(f"{r.getMessage()} {vars(r)}" for r in logged)
    for secret in (JAN, "jan.de.vries", "example.nl", "%40", CLIENT, "not-a-real-token", "q=", "nowhere"):
        assert secret not in everything


def test_a_request_the_app_fails_on_is_logged_as_a_500_with_its_route(
    app: App, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from consentry.entrypoints.api import routes_decisions

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the store is gone")

    monkeypatch.setattr(routes_decisions, "decide", broken)
    _, token = apikeys.create(app, "shop", ["read"])
    caplog.set_level(logging.INFO, logger="consentry.access")
    with TestClient(create_app(app), raise_server_exceptions=False) as client:
        asked = {"contact": JAN, "channel": "email", "purpose": "nieuwsbrief"}
        answer = client.get("/v1/decision", params=asked, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 500
    assert [r.getMessage().rsplit(" ", 2)[0] for r in lines(caplog)] == ["GET /v1/decision 500"]
