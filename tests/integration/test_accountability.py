"""Access export, proof of consent, ISO/IEC TS 27560 receipts and the processing report, on both stores.

Every document is held against the ledger it was read from: the export holds every event of
the person and nothing of anyone else, each receipt field is traced to its event, each chain
link is the stored one.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from conftest import FORM, NOW
from consentry.bootstrap import App
from consentry.entrypoints.web.reports import render
from consentry.services import access, consent_proof, erasure, forms, ledger, processing_report, receipts
from consentry.services.access import ErasedAddress
from consentry.services.contacts import UnknownContact
from consentry.services.errors import InputError


def _records(app: App, *records: dict[str, Any]) -> None:
    ledger.append_records(app, enumerate(records, 1))


def _people(app: App) -> None:
    """Jan (two points of contact K1), a stranger on the same contact id's neighbour, and Piet."""
    forms.save(app, FORM)
    jan, phone, piet, karin = "jan@example.nl", "0612345678", "piet@example.nl", "karin@example.nl"
    email = ["email"]
    _records(
        app,
        _point("email", jan, "web_form", contact_id="K1", display_name="Jan Jansen"),
        _point("phone", phone, "purchase", contact_id="K1", source_detail="Beurs Utrecht"),
        _point("email", piet, "web_form"),
        _point("email", karin, "import", contact_id="K2", display_name="Karin"),
        {"type": "consent.given", "contact": jan, "purpose": "nieuwsbrief", "channels": email,
         "method": "double_opt_in", "text_version": "nieuwsbrief-footer@1", "language": "nl",
         "collection_point": "nieuwsbrief-footer", "ip": "192.0.2.10", "user_agent": "Firefox/140",
         "attachments": ["ab" * 32], "valid_for_months": 24},
        {"type": "consent.confirmed", "contact": jan, "purpose": "nieuwsbrief",
         "ip": "192.0.2.11", "user_agent": "Firefox/140"},
        {"type": "consent.given", "contact": piet, "purpose": "nieuwsbrief", "channels": email,
         "method": "single_opt_in", "ip": "198.51.100.99", "user_agent": "Piet-Browser"},
        {"type": "consent.given", "contact": karin, "purpose": "aanbiedingen", "channels": email,
         "method": "import"},
        {"type": "objection.recorded", "contact": phone, "scope": "profiling", "via": "phone"},
        {"type": "request.received", "contact": jan, "request": "access", "via": "email"},
        {"type": "unsubscribed", "contact": piet, "via": "link"},
    )  # fmt: skip


def _point(kind: str, value: str, source: str, **extra: Any) -> dict[str, Any]:
    return {"type": "contact_point.registered", "kind": kind, "value": value, "source": source, **extra}


def _point_events(app: App, *refs: str) -> set[str]:
    with app.store.reader() as r:
        ids = [r.point_id(*_key(ref)) for ref in refs]
        return {e.id for pid in ids if pid for e in r.events_for(pid)}


def _key(ref: str) -> tuple[Any, str]:
    from consentry.services.contacts import point_key

    key = point_key(ref)
    assert isinstance(key, tuple)
    return key


def test_the_export_holds_every_event_of_the_person_and_nothing_of_anyone_else(app: App) -> None:
    _people(app)
    doc = access.person(app, "0612345678")
    assert doc["format"] == "consentry-access-export" and doc["version"] == 1
    # Asked by the phone number, the export gathers both points of contact K1.
    assert [p["value"] for p in doc["contact_points"]] == ["+31612345678", "jan@example.nl"]
    assert {e["id"] for e in doc["timeline"]} == _point_events(app, "jan@example.nl", "0612345678")
    text = json.dumps(doc)
    for stranger in ("piet@example.nl", "198.51.100.99", "Piet-Browser", "karin@example.nl", "K2", "Karin"):
        assert stranger not in text
    # Evidence, sources (Art. 15(1)(g)), purposes and today's decisions are there.
    consent = next(e for e in doc["timeline"] if e["type"] == "consent.given")
    assert consent["evidence"] == {
        "ip": "192.0.2.10", "user_agent": "Firefox/140", "text_version": "nieuwsbrief-footer@1",
        "collection_point": "nieuwsbrief-footer", "language": "nl", "method": "double_opt_in",
        "attachments_sha256": ["ab" * 32],
    }  # fmt: skip
    assert {s["source"]: s["detail"] for s in doc["sources"]} == {
        "purchase": "Beurs Utrecht",
        "web_form": None,
    }
    assert {p["key"]: p["name_en"] for p in doc["purposes"]} == {
        "nieuwsbrief": "Newsletter",
        "aanbiedingen": "Offers",
    }
    email = doc["contact_points"][1]
    verdicts = {(d["purpose"], d["channel"]): (d["verdict"], d["rule"]) for d in email["decisions"]}
    assert verdicts[("nieuwsbrief", "email")] == ("allow", "EU-GDPR-02")
    assert verdicts[("aanbiedingen", "email")][0] == "deny"
    phone = doc["contact_points"][0]
    assert {d["channel"] for d in phone["decisions"]} == {
        "sms",
        "messaging_app",
        "phone",
        "automated_call",
        "fax",
    }
    assert all(d["explanation_nl"] and d["explanation_en"] and d["citation"] for d in phone["decisions"])
    assert doc["erased"] is None


def test_a_person_without_a_contact_id_is_only_their_own_point(app: App) -> None:
    _people(app)
    doc = access.person(app, "piet@example.nl")
    assert doc["subject"]["contact_points"] == [doc["subject"]["asked_for"]]
    assert {e["id"] for e in doc["timeline"]} == _point_events(app, "piet@example.nl")
    assert "jan@example.nl" not in json.dumps(doc) and "192.0.2.10" not in json.dumps(doc)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_html_export_reads_in_its_language_and_prints(app: App, lang: str) -> None:
    _people(app)
    html = render("access", access.person(app, "jan@example.nl"), lang)
    assert f'<html lang="{lang}">' in html and "@media print" in html and "@page" in html
    assert ("Overzicht van uw gegevens" if lang == "nl" else "Overview of your data") in html
    assert ("Herkomst van de gegevens" if lang == "nl" else "Where the data came from") in html
    assert "Beurs Utrecht" in html and "192.0.2.10" in html and "EU-GDPR-02" in html
    assert "piet@example.nl" not in html


def test_an_erased_person_is_told_when_and_that_only_a_suppression_remains(app: App) -> None:
    _people(app)
    with app.store.reader() as r:
        jan = r.point_id(*_key("jan@example.nl"))
    assert jan is not None
    app.clock.now = lambda: NOW + timedelta(days=3)  # type: ignore[method-assign]
    assert len(erasure.erase(app, "jan@example.nl", whole_contact=True).erased) == 2
    doc = access.person(app, jan)  # by the point id: the ledger keeps its events, without personal fields
    assert doc["erased"]["message_nl"].startswith(
        "Gewist op 26-11-2026; alleen een onderdrukkingsregel blijft"
    )
    assert doc["erased"]["message_en"].startswith("Erased on 2026-11-26")
    assert all(p["decisions"] == [] for p in doc["contact_points"])
    assert "Gewist op 26-11-2026" in render("access", doc, "nl")


@pytest.mark.parametrize("ref", ["jan@example.nl", "0612345678", "+31612345678"])
def test_an_erased_address_is_said_to_be_erased_not_unknown(app: App, ref: str) -> None:
    _people(app)
    app.clock.now = lambda: NOW + timedelta(days=3)  # type: ignore[method-assign]
    erasure.erase(app, "jan@example.nl", whole_contact=True)
    said = (
        "gewist op 26-11-2026; alleen een onderdrukkingsregel blijft / erased on 2026-11-26; "
        "only a suppression record remains"
    )
    for document in (access.person, consent_proof.proof):
        with pytest.raises(ErasedAddress) as caught:
            document(app, ref)
        assert caught.value.message == said and caught.value.field == "contact"
        assert caught.value.since == NOW + timedelta(days=3)
    # Registered anew, the address is a person again (the new point carries the suppression).
    _records(app, _point("email", "jan@example.nl", "web_form"))
    assert access.person(app, "jan@example.nl")["erased"] is None
    assert consent_proof.proof(app, "jan@example.nl")["consents"] == []


def test_an_unknown_or_malformed_contact_gets_a_clear_message(app: App) -> None:
    with pytest.raises(UnknownContact, match=r"no contact point 'nobody@example\.nl' is registered"):
        access.person(app, "nobody@example.nl")
    with pytest.raises(InputError, match="not a contact point id, e-mail address or phone number"):
        consent_proof.proof(app, "no such thing")


def test_the_proof_shows_each_consents_evidence_and_its_stored_chain_links(app: App) -> None:
    _people(app)
    doc = consent_proof.proof(app, "0612345678")  # the person, by another of their points
    with app.store.reader() as r:
        rows = {row.event.id: row for row in r.chain()}
    (c,) = doc["consents"]
    given = rows[c["event_id"]]
    assert (
        given.event.type == "consent.given"
        and given.event.payload["purpose"] == c["purpose"] == "nieuwsbrief"
    )
    assert c["chain"] == {"seq": given.seq, "hash": given.hash, "prev_hash": given.prev_hash}
    assert (c["ip"], c["user_agent"], c["text_version"]) == (
        "192.0.2.10",
        "Firefox/140",
        "nieuwsbrief-footer@1",
    )
    assert c["text_shown"] == {"nl": "Ja, stuur mij de nieuwsbrief.", "en": "Yes, send me the newsletter."}
    assert c["attachments_sha256"] == ["ab" * 32] and c["source"] == "web_form"
    assert c["status"] == "active" and c["expires_on"] == "2028-11-23"
    confirmed = rows[c["confirmation"]["event_id"]]
    assert confirmed.event.type == "consent.confirmed" and c["confirmation"]["ip"] == "192.0.2.11"
    assert c["confirmation"]["chain"]["hash"] == confirmed.hash
    assert c["prove"] == f"consentry ledger prove --event {given.event.id}"
    assert doc["verify"] == "consentry ledger verify"
    html = render("proof", doc, "nl")
    assert "Bewijs van toestemming" in html and given.hash in html and given.prev_hash in html
    assert c["prove"] in html and "Ja, stuur mij de nieuwsbrief." in html and "dubbele opt-in" in html


def test_a_receipt_traces_every_field_to_its_ledger_event(app: App) -> None:
    _people(app)
    with app.store.reader() as r:
        rows = {row.event.id: row for row in r.chain()}  # as stored: personal fields sealed
        recorded = [e for events in r.events_for_many(r.point_ids()).values() for e in events]
    opened = next(e for e in recorded if e.payload.get("ip") == "192.0.2.10")
    given = rows[opened.id]
    receipt = receipts.for_event(app, given.event.id)
    p = opened.payload
    assert receipt["record_id"] == given.event.id and receipt["pii_principal_id"] == "K1"
    processing = receipt["pii_processing"]
    assert processing["privacy_notice"] == p["text_version"] and processing["language"] == p["language"]
    (purpose,) = processing["purposes"]
    assert purpose["purpose_id"] == p["purpose"] and purpose["lawful_basis"]["dpv"] == "dpv:Consent"
    assert purpose["collection_method"] == [p["method"], "web_form"]
    assert purpose["retention_period"] == "P24M" and purpose["pii_information"] == [
        {"pii_type": "email", "pii_optional": False}
    ]
    assert receipt["party_identification"][0]["party_name"] == "Testbedrijf BV"
    states = [e["event_state"] for e in receipt["event"]]
    assert states == ["requested", "given"]  # double opt-in: requested until confirmed
    for entry in receipt["event"]:
        row = rows[entry["ledger"]["event_id"]]
        assert entry["event_time"] == row.event.occurred_at.isoformat()
        assert (entry["ledger"]["seq"], entry["ledger"]["hash"], entry["ledger"]["prev_hash"]) == (
            row.seq, row.hash, row.prev_hash,
        )  # fmt: skip
        assert entry["entity_id"] == row.event.contact_point_id
    assert receipt["event"][1]["ledger"]["type"] == "consent.confirmed"


def test_receipts_for_a_purpose_cover_every_consent_and_its_withdrawal(app: App) -> None:
    _people(app)
    found = receipts.for_purpose(app, "nieuwsbrief")
    assert [r["pii_processing"]["purposes"][0]["purpose_id"] for r in found] == ["nieuwsbrief"] * 2
    piet = found[1]
    assert [e["event_state"] for e in piet["event"]] == ["given", "withdrawn"]
    assert piet["event"][1]["ledger"]["type"] == "unsubscribed"
    imported = receipts.for_purpose(app, "aanbiedingen")
    assert imported[0]["event"][0]["event_type"] == "expressed"
    with pytest.raises(InputError, match="unknown purpose 'geen'"):
        receipts.for_purpose(app, "geen")
    with pytest.raises(InputError, match=r"no consent\.given event 'ev_nope'"):
        receipts.for_event(app, "ev_nope")


def test_the_processing_report_counts_what_the_period_holds(app: App) -> None:
    _people(app)
    day = NOW.date()
    doc = processing_report.processing(app, day, day)
    assert doc["consents"]["given"] == 3 and doc["consents"]["confirmed"] == 1
    assert doc["consents"]["given_by_purpose"] == {"aanbiedingen": 1, "nieuwsbrief": 2}
    assert doc["consents"]["unsubscribed"] == 1 and doc["objections"]["by_scope"] == {"profiling": 1}
    assert doc["requests"]["received"] == 1 and doc["requests"]["open"] == 1
    assert doc["requests"]["days_to_answer_median"] is None and not doc["empty"]
    html = render("processing", doc, "en")
    assert "Processing report" in html and "Data-subject requests" in html
    before = processing_report.processing(app, date(2026, 1, 1), day - timedelta(days=1))
    assert before["empty"] and before["consents"]["given"] == 0
    assert "In deze periode is niets vastgelegd." in render("processing", before, "nl")
    with pytest.raises(InputError, match=r"the period ends \(2026-01-01\) before it starts \(2026-02-01\)"):
        processing_report.processing(app, date(2026, 2, 1), date(2026, 1, 1))
