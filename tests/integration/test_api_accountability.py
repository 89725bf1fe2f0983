"""The accountability endpoints: access export, proof of consent, receipts, processing report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from consentry.bootstrap import App
from consentry.entrypoints.http import create_app
from consentry.services import apikeys, erasure, ledger

Headers = dict[str, str]


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    ledger.append_records(
        app,
        enumerate(
            [
                {"type": "contact_point.registered", "kind": "email", "value": "jan@example.nl",
                 "source": "web_form", "contact_id": "K1"},
                {"type": "contact_point.registered", "kind": "phone", "value": "0612345678",
                 "source": "purchase", "contact_id": "K1"},
                {"type": "contact_point.registered", "kind": "email", "value": "piet@example.nl",
                 "source": "web_form"},
                {"type": "consent.given", "contact": "jan@example.nl", "purpose": "nieuwsbrief",
                 "channels": ["email"], "method": "single_opt_in", "ip": "192.0.2.10"},
                {"type": "consent.given", "contact": "piet@example.nl", "purpose": "nieuwsbrief",
                 "channels": ["email"], "method": "single_opt_in", "ip": "198.51.100.99"},
            ],
            1,
        ),
    )  # fmt: skip
    with TestClient(create_app(app)) as c:
        yield c


@pytest.fixture
def read(app: App) -> Headers:
    _, token = apikeys.create(app, "privacy", ["read"])
    return {"Authorization": f"Bearer {token}"}


def test_the_access_export_comes_as_json_or_as_a_printable_report(client: TestClient, read: Headers) -> None:
    r = client.get("/v1/access-exports/0612345678", headers=read)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    assert doc["format"] == "consentry-access-export" and len(doc["contact_points"]) == 2
    assert "198.51.100.99" not in r.text and "192.0.2.10" in r.text
    r = client.get("/v1/access-exports/jan@example.nl?format=html&lang=en", headers=read)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Overview of your data" in r.text and r.headers["cache-control"] == "no-store"
    assert "script-src" not in r.headers["content-security-policy"]
    assert r.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_proof_and_the_receipts_name_the_chain(client: TestClient, read: Headers) -> None:
    r = client.get("/v1/consent-proofs/jan@example.nl", headers=read)
    assert r.status_code == 200 and "Bewijs van toestemming" in r.text
    doc = client.get("/v1/consent-proofs/jan@example.nl?format=json", headers=read).json()
    (consent,) = doc["consents"]
    receipt = client.get(f"/v1/receipts/{consent['event_id']}", headers=read).json()
    assert receipt["event"][0]["ledger"]["hash"] == consent["chain"]["hash"]
    found = client.get("/v1/receipts?purpose=nieuwsbrief", headers=read).json()
    assert [x["record_id"] for x in found] == [consent["event_id"], found[1]["record_id"]]


def test_the_processing_report_for_a_period(client: TestClient, read: Headers) -> None:
    r = client.get("/v1/reports/processing?from=2026-11-01&to=2026-11-30", headers=read)
    assert r.status_code == 200 and r.json()["consents"]["given"] == 2
    r = client.get("/v1/reports/processing?from=2026-11-01&to=2026-11-30&format=html&lang=en", headers=read)
    assert "Processing report" in r.text


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/v1/access-exports/nobody@example.nl", 404, "no contact point 'nobody@example.nl' is registered"),
        ("/v1/consent-proofs/cp_nope", 404, "no contact point with id 'cp_nope'"),
        ("/v1/receipts/ev_nope", 422, "no consent.given event 'ev_nope' in the ledger"),
        ("/v1/receipts?purpose=geen", 422, "unknown purpose 'geen'"),
        ("/v1/reports/processing?from=2026-12-01&to=2026-11-01", 422, "the period ends (2026-11-01) before"),
        ("/v1/reports/processing?from=2026-12-01", 422, "Field required"),
        ("/v1/access-exports/jan@example.nl?lang=de", 422, "Input should be 'nl' or 'en'"),
    ],
)
def test_bad_input_gets_a_clear_message(
    client: TestClient, read: Headers, url: str, status: int, message: str
) -> None:
    r = client.get(url, headers=read)
    assert r.status_code == status and message in r.text


def test_the_documents_need_a_key(client: TestClient) -> None:
    assert client.get("/v1/access-exports/jan@example.nl").status_code == 401


def test_an_erased_address_is_gone_and_says_so(app: App, client: TestClient, read: Headers) -> None:
    erasure.erase(app, "jan@example.nl", whole_contact=True)
    for url in ("/v1/access-exports/jan@example.nl", "/v1/consent-proofs/0612345678?format=json"):
        r = client.get(url, headers=read)
        assert r.status_code == 410, r.text
        (item,) = r.json()["detail"]
        assert item["type"] == "gone" and item["loc"][-1] == "contact"
        assert item["msg"].startswith("gewist op ") and "only a suppression record remains" in item["msg"]
    assert client.get("/v1/access-exports/piet@example.nl", headers=read).status_code == 200
