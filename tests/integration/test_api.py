"""The JSON API under /v1, through FastAPI's TestClient, on SQLite and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consentry.bootstrap import App
from consentry.entrypoints.http import create_app
from consentry.entrypoints.render import decision_json
from consentry.services import apikeys
from consentry.services.decide import decide

Headers = dict[str, str]

JAN = "jan@example.nl"
PHONE = "+31612345678"
FORM = {
    "key": "nieuwsbrief-footer",
    "title_nl": "Blijf op de hoogte",
    "title_en": "Stay informed",
    "items": [
        {"purpose": "nieuwsbrief", "text_nl": "Ja, de nieuwsbrief.", "text_en": "Yes, the newsletter."},
    ],
}


def registration(value: str, kind: str = "email", **extra: Any) -> dict[str, Any]:
    return {"type": "contact_point.registered", "kind": kind, "value": value, "source": "web_form", **extra}


def consent(contact: str, purpose: str = "nieuwsbrief", **extra: Any) -> dict[str, Any]:
    return {
        "type": "consent.given",
        "contact": contact,
        "purpose": purpose,
        "channels": ["email"],
        "method": "single_opt_in",
        **extra,
    }


def key(app: App, *scopes: str) -> Headers:
    """Headers carrying a new key with these scopes."""
    _, token = apikeys.create(app, "test", list(scopes))
    return {"Authorization": f"Bearer {token}"}


def event_count(app: App) -> int:
    with app.store.reader() as r:
        return r.counts()["events"]


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(create_app(app)) as c:
        yield c


@pytest.fixture
def admin(app: App) -> Headers:
    return key(app, "admin")


@pytest.fixture
def ledger(client: TestClient, admin: Headers) -> None:
    """Jan with a newsletter consent, and a phone number bought from."""
    events = [
        registration(JAN, occurred_at="2025-01-10"),
        consent(JAN, occurred_at="2025-01-10"),
        registration("06 12345678", kind="phone", source="purchase", occurred_at="2024-05-01"),
        {
            "type": "purchase.recorded",
            "contact": PHONE,
            "categories": ["koffie"],
            "opt_out_offered": True,
            "occurred_at": "2024-05-01",
        },
    ]
    assert client.post("/v1/events", json={"events": events}, headers=admin).status_code == 201


def problems(response: Any) -> list[tuple[list[str | int], str]]:
    """The (loc, type) of each problem in an error answer, after checking its shape."""
    body = response.json()
    assert set(body) == {"detail"}
    for item in body["detail"]:
        assert set(item) == {"loc", "msg", "type"} and item["msg"]
    return [(item["loc"], item["type"]) for item in body["detail"]]


# -- authentication ----------------------------------------------------------------------------


def test_a_request_without_a_key_is_refused_with_401_and_a_bearer_challenge(client: TestClient) -> None:
    answer = client.get("/v1/purposes")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert problems(answer) == [(["header", "authorization"], "unauthorised")]


@pytest.mark.parametrize("token", ["cs_knope_wrongsecret", "not-a-key", "cs_", ""])
def test_an_unknown_or_malformed_key_is_refused_with_401(client: TestClient, token: str) -> None:
    answer = client.get("/v1/purposes", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and "WWW-Authenticate" in answer.headers


def test_a_key_with_the_right_id_and_a_wrong_secret_is_refused(app: App, client: TestClient) -> None:
    good = key(app, "admin")["Authorization"]
    answer = client.get("/v1/purposes", headers={"Authorization": good[:-3] + "xyz"})
    assert answer.status_code == 401


def test_a_revoked_key_is_refused_with_401(app: App, client: TestClient) -> None:
    found, token = apikeys.create(app, "old shop", ["admin"])
    apikeys.revoke(app, found.id)
    answer = client.get("/v1/purposes", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert "revoked" in answer.json()["detail"][0]["msg"]


def test_a_key_revoked_elsewhere_stops_working_when_its_cache_entry_expires(
    app: App, client: TestClient
) -> None:
    client.app.state.key_cache.ttl = 0.2  # type: ignore[attr-defined]
    found, token = apikeys.create(app, "shop", ["read"])
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/purposes", headers=headers).status_code == 200
    apikeys.revoke(app, found.id)  # as `consentry apikey revoke` does, in another process
    time.sleep(0.25)
    assert client.get("/v1/purposes", headers=headers).status_code == 401


def test_a_key_without_the_scope_a_route_needs_gets_403(app: App, client: TestClient) -> None:
    reader, writer = key(app, "read"), key(app, "write")
    no_write = client.post("/v1/events", json={"events": [registration(JAN)]}, headers=reader)
    no_admin = client.post("/v1/purposes", json={"key": "x", "name_nl": "X", "name_en": "X"}, headers=writer)
    assert (no_write.status_code, no_admin.status_code) == (403, 403)
    assert problems(no_write) == [(["header", "authorization"], "forbidden")]
    assert event_count(app) == 0
    # A higher scope includes the lower ones.
    assert client.get("/v1/purposes", headers=writer).status_code == 200


def test_the_key_may_also_come_in_an_x_api_key_header(app: App, client: TestClient) -> None:
    token = key(app, "read")["Authorization"].removeprefix("Bearer ")
    assert client.get("/v1/purposes", headers={"X-API-Key": token}).status_code == 200


def test_health_needs_no_key(client: TestClient) -> None:
    answer = client.get("/v1/health")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


# -- the ledger --------------------------------------------------------------------------------


def test_appending_events_records_them_all_and_reports_their_sequence_numbers(
    app: App, client: TestClient
) -> None:
    writer = key(app, "write")
    answer = client.post("/v1/events", json={"events": [registration(JAN), consent(JAN)]}, headers=writer)
    assert answer.status_code == 201
    assert answer.json() == {"appended": 2, "registered": 1, "first_seq": 1, "last_seq": 2}
    assert event_count(app) == 2


def test_a_bad_event_rejects_the_whole_batch_naming_its_index_and_field(
    app: App, client: TestClient, admin: Headers
) -> None:
    events = [
        registration(JAN),
        consent(JAN),
        consent(JAN, purpose="nieuwsbief"),
        {"type": "consent.given", "contact": JAN, "purpose": "nieuwsbrief", "channels": ["email"]},
        {"type": "no.such.type", "contact": JAN},
    ]
    answer = client.post("/v1/events", json={"events": events}, headers=admin)
    assert answer.status_code == 422
    assert problems(answer) == [
        (["body", "events", 2, "purpose"], "invalid"),
        (["body", "events", 3, "method"], "invalid"),
        (["body", "events", 4, "type"], "invalid"),
    ]
    assert event_count(app) == 0
    assert client.get(f"/v1/contact-points/{JAN}", headers=admin).status_code == 404


def test_an_event_that_is_not_an_object_or_lacks_a_type_is_refused_before_the_ledger(
    client: TestClient, admin: Headers
) -> None:
    answer = client.post("/v1/events", json={"events": [registration(JAN), ["x"], {}]}, headers=admin)
    assert answer.status_code == 422
    locs = [loc for loc, _ in problems(answer)]
    assert ["body", "events", 1] in locs and ["body", "events", 2, "type"] in locs
    assert "input" not in answer.text  # inputs may be personal data: never echoed


def test_an_empty_or_malformed_body_is_a_422_not_a_500(client: TestClient, admin: Headers) -> None:
    assert client.post("/v1/events", json={"events": []}, headers=admin).status_code == 422
    broken = client.post(
        "/v1/events", content=b"{not json", headers={**admin, "Content-Type": "application/json"}
    )
    assert broken.status_code == 422 and problems(broken)


def test_registering_a_contact_point_returns_its_id_and_a_second_registration_conflicts(
    app: App, client: TestClient
) -> None:
    writer = key(app, "write")
    body = {"kind": "email", "value": "Jan@Example.NL", "source": "web_form", "party": "consumer"}
    first = client.post("/v1/contact-points", json=body, headers=writer)
    assert first.status_code == 201
    point_id = first.json()["id"]
    again = client.post("/v1/contact-points", json={**body, "value": JAN}, headers=writer)
    assert again.status_code == 409
    assert problems(again) == [(["body", "value"], "conflict")] and point_id in again.text
    wrong = client.post("/v1/contact-points", json={**body, "value": "geen adres"}, headers=writer)
    unknown_field = client.post(
        "/v1/contact-points", json={**body, "value": "b@example.nl", "x": 1}, headers=writer
    )
    assert problems(wrong) == [(["body", "value"], "invalid")]
    assert problems(unknown_field) == [(["body", "x"], "invalid")]
    assert event_count(app) == 1


def test_a_contact_point_is_shown_with_its_state_and_its_timeline(
    client: TestClient, admin: Headers, ledger: None
) -> None:
    by_address = client.get(f"/v1/contact-points/{JAN}", headers=admin)
    assert by_address.status_code == 200
    shown = by_address.json()
    assert shown["kind"] == "email" and shown["state"]["value"] == JAN
    assert [c["purpose"] for c in shown["state"]["consents"]] == ["nieuwsbrief"]
    assert [e["type"] for e in shown["events"]] == ["contact_point.registered", "consent.given"]
    assert shown["events"][1]["payload"]["method"] == "single_opt_in"
    by_id = client.get(f"/v1/contact-points/{shown['id']}", headers=admin)
    assert by_id.json() == shown
    assert client.get(f"/v1/contact-points/{PHONE}", headers=admin).json()["kind"] == "phone"
    assert client.get("/v1/contact-points/piet@example.nl", headers=admin).status_code == 404
    assert client.get("/v1/contact-points/niet-een-adres", headers=admin).status_code == 422


# -- decisions ---------------------------------------------------------------------------------


def test_a_decision_document_has_its_verdict_basis_reasons_obligations_and_moment(
    app: App, client: TestClient, ledger: None
) -> None:
    reader = key(app, "read")
    query = {"contact": JAN, "channel": "email", "purpose": "nieuwsbrief", "at": "2026-03-01", "lang": "en"}
    answer = client.get("/v1/decision", params=query, headers=reader)
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["verdict"] == "allow" and doc["basis"] == "consent"
    assert doc["rule"] == doc["reasons"][0]["rule"]
    for reason in doc["reasons"]:
        assert reason["rule"] and reason["citation"] and reason["explanation"] == reason["explanation_en"]
    assert doc["obligations"] and all(isinstance(o, str) for o in doc["obligations"])
    assert doc["at"] == "2026-03-01T11:00:00+00:00"  # a bare date is noon in Amsterdam
    expected = decide(app, JAN, "email", "nieuwsbrief", at=_utc("2026-03-01T11:00:00"))
    assert doc == decision_json(expected, "en")


def _utc(text: str) -> Any:
    from datetime import UTC, datetime

    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_decision_judges_the_ledger_as_it_stood_at_the_moment_asked(
    app: App, client: TestClient, ledger: None
) -> None:
    reader = key(app, "read")
    query = {"contact": JAN, "channel": "email", "purpose": "nieuwsbrief"}
    before = client.get("/v1/decision", params={**query, "at": "2024-12-31"}, headers=reader).json()
    now = client.get("/v1/decision", params=query, headers=reader).json()
    assert (before["verdict"], now["verdict"]) == ("deny", "allow")
    assert now["at"] == "2026-11-23T12:00:00+00:00"  # the app's clock


@pytest.mark.parametrize(
    ("query", "status", "loc"),
    [
        ({"contact": "piet@example.nl"}, 404, ["query", "contact"]),
        ({"contact": "cp_nope"}, 404, ["query", "contact"]),
        ({"contact": "geen adres"}, 422, ["query", "contact"]),
        ({"channel": "pigeon"}, 422, ["query", "channel"]),
        ({"channel": "sms"}, 422, ["query", "channel"]),
        ({"purpose": "nieuwsbief"}, 422, ["query", "purpose"]),
        ({"at": "gisteren"}, 422, ["query", "at"]),
        ({"kind": "spam"}, 422, ["query", "kind"]),
        ({"lang": "de"}, 422, ["query", "lang"]),
    ],
)
def test_a_decision_question_that_cannot_be_answered_names_its_field(
    app: App, client: TestClient, ledger: None, query: dict[str, str], status: int, loc: list[str]
) -> None:
    base = {"contact": JAN, "channel": "email", "purpose": "nieuwsbrief"}
    answer = client.get("/v1/decision", params={**base, **query}, headers=key(app, "read"))
    assert answer.status_code == status
    assert [where for where, _ in problems(answer)] == [loc]


def test_a_batch_answers_in_order_and_puts_an_error_in_place_of_each_bad_question(
    app: App, client: TestClient, ledger: None
) -> None:
    questions = [
        {"contact": JAN, "channel": "email", "purpose": "nieuwsbrief"},
        {"contact": "piet@example.nl", "channel": "email", "purpose": "nieuwsbrief"},
        {"contact": PHONE, "channel": "phone", "purpose": "aanbiedingen"},
        {"contact": JAN, "channel": "sms", "purpose": "nieuwsbrief"},
        {"contact": JAN, "channel": "email", "purpose": "onbekend"},
        {"contact": JAN, "channel": "duif", "purpose": "nieuwsbrief"},
        {"contact": "geen adres", "channel": "email", "purpose": "nieuwsbrief"},
        {"contact": JAN, "channel": "email", "purpose": "aanbiedingen", "kind": "service"},
    ]
    body = {"at": "2026-03-01", "lang": "en", "questions": questions}
    answer = client.post("/v1/decisions", json=body, headers=key(app, "read"))
    assert answer.status_code == 200
    found = answer.json()["decisions"]
    assert len(found) == len(questions)
    errors = {n: d["error"]["field"] for n, d in enumerate(found) if "error" in d}
    assert errors == {1: "contact", 3: "channel", 4: "purpose", 5: "channel", 6: "contact"}
    moment = _utc("2026-03-01T11:00:00")
    for n in (0, 2, 7):
        q = questions[n]
        single = decide(app, q["contact"], q["channel"], q["purpose"], q.get("kind", "marketing"), at=moment)
        assert found[n] == decision_json(single, "en")


def test_a_compact_batch_leaves_out_the_explanations(app: App, client: TestClient, ledger: None) -> None:
    body = {
        "detail": "compact",
        "questions": [{"contact": JAN, "channel": "email", "purpose": "nieuwsbrief"}],
    }
    [found] = client.post("/v1/decisions", json=body, headers=key(app, "read")).json()["decisions"]
    assert set(found) == {"verdict", "basis", "rule", "obligations", "contact_point"}
    assert found["verdict"] == "allow"


def test_a_batch_with_an_unreadable_moment_or_no_questions_is_refused_whole(
    app: App, client: TestClient
) -> None:
    reader = key(app, "read")
    q = [{"contact": JAN, "channel": "email", "purpose": "nieuwsbrief"}]
    bad_moment = client.post("/v1/decisions", json={"at": "morgen", "questions": q}, headers=reader)
    empty = client.post("/v1/decisions", json={"questions": []}, headers=reader)
    assert problems(bad_moment) == [(["body", "at"], "invalid")]
    assert empty.status_code == 422 and problems(empty)[0][0] == ["body", "questions"]


# -- purposes, forms, links, keys --------------------------------------------------------------


def test_purposes_are_defined_by_an_admin_and_listed_for_any_key(app: App, client: TestClient) -> None:
    admin = key(app, "admin")
    body = {"key": "tips", "name_nl": "Tips", "name_en": "Tips", "categories": ["koffie"]}
    made = client.post("/v1/purposes", json=body, headers=admin)
    assert made.status_code == 201 and made.json()["categories"] == ["koffie"]
    again = client.post("/v1/purposes", json=body, headers=admin)
    assert problems(again) == [(["body", "key"], "conflict")]
    replaced = client.post("/v1/purposes", json={**body, "third_party": True, "replace": True}, headers=admin)
    assert replaced.status_code == 201 and replaced.json()["third_party"] is True
    bad = client.post("/v1/purposes", json={**body, "key": "Geen Sleutel"}, headers=admin)
    assert bad.status_code == 422
    listed = client.get("/v1/purposes", headers=key(app, "read")).json()
    assert [p["key"] for p in listed] == ["aanbiedingen", "nieuwsbrief", "tips"]


def test_forms_are_saved_as_versions_read_back_and_embedded(app: App, client: TestClient) -> None:
    admin = key(app, "admin")
    first = client.post("/v1/forms", json=FORM, headers=admin).json()
    same = client.post("/v1/forms", json=FORM, headers=admin).json()
    second = client.post("/v1/forms", json={**FORM, "title_nl": "Nieuws"}, headers=admin).json()
    assert (first["version"], same["version"], second["version"]) == (1, 1, 2)
    assert client.get("/v1/forms/nieuwsbrief-footer", headers=admin).json()["title_nl"] == "Nieuws"
    old = client.get("/v1/forms/nieuwsbrief-footer", params={"version": 1}, headers=admin).json()
    assert old["title_nl"] == "Blijf op de hoogte"
    assert [f["version"] for f in client.get("/v1/forms", headers=admin).json()] == [2]
    embed = client.get("/v1/forms/nieuwsbrief-footer/embed", headers=admin).json()
    assert embed["version"] == 2 and "/f/nieuwsbrief-footer" in embed["html"]
    html = client.get("/v1/forms/nieuwsbrief-footer/embed", headers={**admin, "Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html") and html.text == embed["html"]
    assert client.get("/v1/forms/geen-formulier", headers=admin).status_code == 404
    assert client.get("/v1/forms/nieuwsbrief-footer", params={"version": 9}, headers=admin).status_code == 404


def test_a_form_asking_for_an_unknown_purpose_is_refused_naming_the_item(
    app: App, client: TestClient
) -> None:
    item = {**FORM["items"][0], "purpose": "onbekend"}  # type: ignore[dict-item]
    answer = client.post("/v1/forms", json={**FORM, "items": [item]}, headers=key(app, "admin"))
    assert problems(answer) == [(["body", "items", 0, "purpose"], "invalid")]


def test_links_are_signed_urls_for_the_unsubscribe_and_the_preference_centre(
    app: App, client: TestClient, ledger: None
) -> None:
    writer = key(app, "write")
    answer = client.post("/v1/links", json={"contact": JAN, "purpose": "nieuwsbrief"}, headers=writer)
    assert answer.status_code == 200
    links = answer.json()
    assert links["unsubscribe"].startswith("http://127.0.0.1:8000/u/")
    assert links["preferences"].startswith("http://127.0.0.1:8000/p/")
    assert JAN not in answer.text
    unknown = client.post("/v1/links", json={"contact": "piet@example.nl"}, headers=writer)
    no_purpose = client.post("/v1/links", json={"contact": JAN, "purpose": "onbekend"}, headers=writer)
    assert (unknown.status_code, problems(no_purpose)) == (404, [(["body", "purpose"], "invalid")])


def test_keys_are_created_listed_and_revoked_by_an_admin(app: App, client: TestClient) -> None:
    admin = key(app, "admin")
    made = client.post("/v1/keys", json={"name": "webshop", "scopes": ["write"]}, headers=admin)
    assert made.status_code == 201
    token, key_id = made.json()["token"], made.json()["id"]
    shop = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/purposes", headers=shop).status_code == 200
    listed = client.get("/v1/keys", headers=admin).json()
    assert "token" not in listed[0] and {k["id"] for k in listed} >= {key_id}
    assert client.delete(f"/v1/keys/{key_id}", headers=admin).status_code == 204
    assert client.get("/v1/purposes", headers=shop).status_code == 401  # at once, cache or not
    assert client.delete(f"/v1/keys/{key_id}", headers=admin).status_code == 404
    assert client.post("/v1/keys", json={"name": "x", "scopes": ["root"]}, headers=admin).status_code == 422


def test_the_openapi_schema_declares_both_key_schemes_and_describes_every_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer" and schemes["apiKeyHeader"]["name"] == "X-API-Key"
    operations = [
        (path, op) for path, item in schema["paths"].items() if path.startswith("/v1") for op in item.values()
    ]
    assert len(operations) >= 15
    for path, op in operations:
        assert op.get("description"), path
        if path != "/v1/health":
            assert {"bearer": []} in op["security"] and {"apiKeyHeader": []} in op["security"], path
            assert "401" in op["responses"], path


def test_text_with_nul_characters_is_refused_before_it_reaches_the_database(
    app: App, client: TestClient, admin: Headers
) -> None:
    # PostgreSQL cannot store NUL in text: left to the database it would be a 500.
    query = client.get(
        "/v1/decision?contact=jan%00@example.nl&channel=email&purpose=nieuwsbrief", headers=admin
    )
    path = client.get("/v1/contact-points/jan%00@example.nl", headers=admin)
    body = client.post("/v1/events", json={"events": [registration("jan\u0000@example.nl")]}, headers=admin)
    assert [problems(r) for r in (query, path, body)] == [
        [(["query"], "invalid")],
        [(["path"], "invalid")],
        [(["body"], "invalid")],
    ]
    assert event_count(app) == 0


def test_a_body_that_is_not_json_text_is_a_422(client: TestClient, admin: Headers) -> None:
    for raw in (b"\x80\x81", b"{not json"):
        answer = client.post("/v1/events", content=raw, headers={**admin, "Content-Type": "application/json"})
        assert answer.status_code == 422 and problems(answer)[0][1] == "json_invalid"


def test_a_batch_folds_a_contact_point_once_whether_it_is_named_by_id_or_by_address(
    app: App, client: TestClient, admin: Headers, ledger: None
) -> None:
    point_id = client.get(f"/v1/contact-points/{JAN}", headers=admin).json()["id"]
    questions = [
        {"contact": name, "channel": "email", "purpose": purpose}
        for name in (JAN, point_id, "Jan@Example.NL")
        for purpose in ("nieuwsbrief", "aanbiedingen")
    ]
    found = client.post("/v1/decisions", json={"questions": questions}, headers=admin).json()["decisions"]
    assert {d["contact_point"] for d in found} == {point_id}
    assert [d["verdict"] for d in found] == ["allow", "deny"] * 3
