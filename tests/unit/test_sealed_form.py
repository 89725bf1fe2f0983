"""The sealed form of an event's personal fields: names as numbers, read back as recorded.

Rows sealed before it hold the fields as a JSON object with sorted keys; `opened` reads both,
so the payloads read back are the same whichever form a row holds.
"""

from __future__ import annotations

import random

import orjson
import pytest

from consentry.adapters.sql.sealed_form import NAMES, coded, opened

#: A Mailchimp member's registration and consent, personal fields only (as `sealing.split` gives).
REGISTRATION = {
    "value": "sanne.deboer1@kpnmail.nl",
    "source_detail": "Mailchimp, LEID 100001",
    "display_name": "Sanne de Boer",
    "attributes": {
        "First Name": "Sanne",
        "Last Name": "de Boer",
        "Plaats": "Amsterdam",
        "mailchimp.CC": "NL",
        "mailchimp.MEMBER_RATING": "5",
        "mailchimp.REGION": "NH",
        "mailchimp.TIMEZONE": "Europe/Amsterdam",
    },
}
CONSENT = {
    "source_fields": {
        "OPTIN_TIME": "2023-02-08 02:15:00",
        "OPTIN_IP": "198.51.63.243",
        "CONFIRM_TIME": "2023-02-08 02:19:00",
        "CONFIRM_IP": "198.51.114.162",
        "LEID": "100001",
        "EUID": "0000000001",
        "LAST_CHANGED": "2024-06-01 10:00:00",
    },
    "ip": "198.51.63.243",
}


def _as_before(personal: dict[str, object]) -> bytes:
    """The form fields were sealed in before: a JSON object with sorted keys."""
    return orjson.dumps(personal, option=orjson.OPT_SORT_KEYS)


def _same(a: dict[str, object], b: dict[str, object]) -> bool:
    """Equal, with the same key order at both levels (a payload's JSON is written in it)."""
    return orjson.dumps(a) == orjson.dumps(b)


def test_the_numbered_names_are_only_ever_appended_to_because_stored_rows_use_them() -> None:
    assert NAMES[:28] == (
        "attributes", "contact_id", "display_name", "source_detail", "value", "ip", "source_fields",
        "user_agent", "reason", "note", "mail_from", "diagnostic", "order_ref",
        "published_for_offers_evidence", "First Name", "Last Name", "mailchimp.CC",
        "mailchimp.MEMBER_RATING", "mailchimp.REGION", "mailchimp.TIMEZONE", "mailchimp.NOTES",
        "OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LEID", "EUID", "LAST_CHANGED",
    )  # fmt: skip
    assert len(set(NAMES)) == len(NAMES)


@pytest.mark.parametrize("fields", [REGISTRATION, CONSENT], ids=["registration", "consent"])
def test_an_imported_members_fields_take_under_two_thirds_of_their_json_and_open_as_sealed_before(
    fields: dict[str, object],
) -> None:
    sealed, before = coded(fields), _as_before(fields)
    assert sealed.startswith(b"[") and len(sealed) < 0.7 * len(before)  # 169/301, 165/242 bytes
    assert _same(opened(sealed), orjson.loads(before))
    assert _same(opened(before), orjson.loads(before))  # a row sealed before reads as it did


def test_names_the_list_does_not_hold_stay_text_and_values_are_never_numbered() -> None:
    fields = {"attributes": {"Plaats": "value", "12": "First Name"}, "value": "attributes"}
    sealed = coded(fields)
    assert orjson.loads(sealed) == [0, ["12", "First Name", "Plaats", "value"], 4, "attributes"]
    assert _same(opened(sealed), orjson.loads(_as_before(fields)))


@pytest.mark.parametrize(
    "fields",
    [{"value": "a@example.nl", "note": ["a", "list"]}, {"attributes": {"n": 5}}, {"ip": None}],
    ids=["a list", "a number in an object", "a null"],
)
def test_fields_holding_anything_but_texts_and_objects_of_texts_are_sealed_as_before(
    fields: dict[str, object],
) -> None:
    assert coded(fields) == _as_before(fields)
    assert opened(coded(fields)) == fields


def test_a_form_this_version_cannot_read_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="number 999"):
        opened(b'[999,"x"]')
    with pytest.raises(ValueError):
        opened(b'[4,"a@example.nl",2]')  # a name without its value


def test_generated_fields_open_as_their_json_object_would() -> None:
    rng = random.Random(16)
    alphabet = 'aé€𝄞 _.,:"\\{}[]0123456789\t'
    names = [*NAMES, "Plaats", "", "0", "naam"]

    def text() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))

    for _ in range(3000):
        fields: dict[str, object] = {}
        for _ in range(rng.randrange(0, 6)):
            name = rng.choice(names)
            fields[name] = (
                {rng.choice(names): text() for _ in range(rng.randrange(0, 6))}
                if rng.random() < 0.3
                else text()
            )
        assert _same(opened(coded(fields)), orjson.loads(_as_before(fields)))
