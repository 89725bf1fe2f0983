"""Size limits: every text field of every event has one, each is enforced with its name and limit,
and definitions (purposes, forms, campaigns) and long subjects are bounded too."""

from __future__ import annotations

import copy
import email
import email.policy
from datetime import UTC, datetime
from typing import Any

import pytest

from consentry.adapters.mime import Mail, mime
from consentry.docsgen import events_md
from consentry.domain import limits
from consentry.domain.campaigns import CampaignError, campaign_from_json
from consentry.domain.events import EVENT_TYPES, EventError
from consentry.domain.forms import FormError, form_from_json
from consentry.domain.purposes import Purpose, PurposeError
from consentry.domain.validation import size_limit, validate_payload

REGISTERED = {"kind": "email", "value": "jan@example.nl", "source": "import"}
CAMPAIGN: dict[str, Any] = {
    "key": "najaar",
    "name": "Najaarsactie",
    "purpose": "nieuwsbrief",
    "sender": {
        "name": "De Boon",
        "email": "nieuws@deboon.example",
        "legal_name": "De Boon B.V.",
        "address": "Markt 1, Utrecht",
        "kvk": "12345678",
    },
    "content": {"nl": {"subject": "Nieuwe koffie", "body": "Hallo {{ name }}"}},
}
FORM: dict[str, Any] = {
    "key": "footer",
    "title_nl": "Blijf op de hoogte",
    "title_en": "Stay informed",
    "items": [{"purpose": "nieuwsbrief", "text_nl": "Ja.", "text_en": "Yes."}],
}


def test_every_text_list_and_object_field_of_every_event_has_a_limit_shown_in_the_docs() -> None:
    doc = events_md()
    for etype in EVENT_TYPES.values():
        for f in etype.fields:
            if f.kind in ("str", "list[str]", "list[channel]", "object"):
                assert size_limit(f), f"{etype.name}.{f.name} has no size limit"
                assert size_limit(f) in doc


def test_a_60_mb_display_name_is_refused_naming_the_field_and_its_limit() -> None:
    with pytest.raises(EventError) as caught:
        validate_payload("contact_point.registered", {**REGISTERED, "display_name": "x" * 60_000_000})
    assert caught.value.field == "display_name"
    assert str(limits.NAME) in caught.value.message


def test_a_display_name_at_its_limit_is_kept_whole() -> None:
    name = "x" * limits.NAME
    assert (
        validate_payload("contact_point.registered", {**REGISTERED, "display_name": name})["display_name"]
        == name
    )


@pytest.mark.parametrize(
    ("type_name", "payload", "field", "limit"),
    [
        ("contact_point.registered", {**REGISTERED, "value": "a" * 501}, "value", limits.CONTACT),
        ("request.received", {"request": "access", "note": "n" * 4001}, "note", limits.TEXT),
        ("unsubscribed", {"reason": "r" * 4001}, "reason", limits.TEXT),
        ("consent.given", {"purpose": "p" * 65, "channels": ["email"], "method": "web_form"}, "purpose", 64),
        ("bounce.recorded", {"bounce_kind": "hard", "diagnostic": "d" * 4001}, "diagnostic", limits.TEXT),
        ("notice.given", {"article": "14", "method": "m" * 201}, "method", limits.LABEL),
        ("tags.added", {"tags": ["t" * 201]}, "tags", limits.LABEL),
        ("tags.added", {"tags": [f"t{i}" for i in range(201)]}, "tags", limits.ITEMS),
        ("attributes.set", {"attributes": {"city": "c" * 1001}}, "attributes.city", limits.ATTRIBUTE_VALUE),
        ("attributes.set", {"attributes": {"n" * 65: "x"}}, "attributes", limits.ATTRIBUTE_NAME),
        (
            "consent.given",
            {
                "purpose": "p",
                "channels": ["email"],
                "method": "web_form",
                "source_fields": {"a": "x" * 16_001},
            },
            "source_fields",
            limits.OBJECT_JSON,
        ),
    ],
)
def test_each_kind_of_field_over_its_limit_is_refused_naming_field_and_limit(
    type_name: str, payload: dict[str, Any], field: str, limit: int
) -> None:
    with pytest.raises(EventError) as caught:
        validate_payload(type_name, payload)
    assert caught.value.field == field
    assert str(limit) in caught.value.message


def test_purpose_names_and_categories_are_bounded() -> None:
    with pytest.raises(PurposeError, match=str(limits.NAME)):
        Purpose("nieuwsbrief", "n" * (limits.NAME + 1), "Newsletter")
    with pytest.raises(PurposeError, match=str(limits.LABEL)):
        Purpose("nieuwsbrief", "Nieuwsbrief", "Newsletter", categories=frozenset({"c" * 201}))


@pytest.mark.parametrize(
    ("change", "field", "limit"),
    [
        (lambda d: d.update(title_nl="t" * 301), "title_nl", limits.NAME),
        (lambda d: d.update(intro_en="i" * 4001), "intro_en", limits.TEXT),
        (lambda d: d["items"][0].update(text_nl="t" * 4001), "items[0].text_nl", limits.TEXT),
        (
            lambda d: d.update(lead_magnet_url="https://x.example/" + "a" * 2048),
            "lead_magnet_url",
            limits.URL,
        ),
    ],
)
def test_form_definitions_are_bounded(change: Any, field: str, limit: int) -> None:
    doc = copy.deepcopy(FORM)
    change(doc)
    with pytest.raises(FormError) as caught:
        form_from_json(doc, 1)
    assert caught.value.field == field and str(limit) in caught.value.message


@pytest.mark.parametrize(
    ("change", "field", "limit"),
    [
        (lambda d: d.update(name="n" * 201), "name", limits.LABEL),
        (lambda d: d["sender"].update(email="a" * 250 + "@x.nl"), "sender.email", limits.EMAIL),
        (lambda d: d["content"]["nl"].update(subject="s" * 251), "content.nl.subject", 250),
        (lambda d: d["content"]["nl"].update(body="b" * 100_001), "content.nl.body", limits.BODY),
    ],
)
def test_campaign_definitions_are_bounded(change: Any, field: str, limit: int) -> None:
    doc = copy.deepcopy(CAMPAIGN)
    change(doc)
    with pytest.raises(CampaignError) as caught:
        campaign_from_json(doc)
    assert caught.value.field == field and str(limit) in caught.value.message


@pytest.mark.parametrize(
    "subject",
    [
        " ".join(["Koffie"] * 300),  # words: folded at spaces
        "k" * 1500,  # one word longer than a line: encoded words
        "Koffie " + "é" * 700,  # not ASCII: encoded words
    ],
    ids=["words", "one-long-word", "non-ascii"],
)
def test_a_subject_longer_than_an_smtp_line_is_folded_and_reads_back_whole(subject: str) -> None:
    mail = Mail(
        sender="De Boon <nieuws@deboon.example>",
        to="jan@example.nl",
        subject=subject,
        text="Hallo",
        message_id="1@deboon.example",
        date=datetime(2026, 11, 23, 12, tzinfo=UTC),
        lang="nl",
    )
    raw = mime(mail)
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject
