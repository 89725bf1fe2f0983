"""Sealed fields packed before they are encrypted (`FORMAT_PACKED`): smaller, read as before.

An event's personal fields (and a point's attributes) are deflated with a fixed dictionary
of their names before AES-GCM; fields written before that (`FORMAT_V1`) are read as they
are, so a ledger holds both and every reader opens both.
"""

from __future__ import annotations

import hashlib
import os

import orjson
import pytest

from consentry.adapters.crypto.fields import (
    FORMAT_PACKED,
    FORMAT_V1,
    PACK_FROM,
    ContactCipher,
    DecryptionFailed,
    new_data_key,
)
from consentry.adapters.crypto.packing import DICTIONARY_V1, pack, unpack
from consentry.adapters.sql.sealing import event_field, open_payload, seal

#: A Mailchimp member's registration and consent, personal fields only (as `sealing.split` gives).
REGISTRATION = {
    "attributes": {
        "First Name": "Sanne",
        "Last Name": "de Boer",
        "Plaats": "Amsterdam",
        "mailchimp.CC": "NL",
        "mailchimp.MEMBER_RATING": "5",
        "mailchimp.REGION": "NH",
        "mailchimp.TIMEZONE": "Europe/Amsterdam",
    },
    "display_name": "Sanne de Boer",
    "source_detail": "Mailchimp, LEID 100001",
    "value": "sanne.deboer1@kpnmail.nl",
}
CONSENT = {
    "ip": "198.51.63.243",
    "source_fields": {
        "CONFIRM_IP": "198.51.114.162",
        "CONFIRM_TIME": "2023-02-08 02:19:00",
        "EUID": "0000000001",
        "LAST_CHANGED": "2024-06-01 10:00:00",
        "LEID": "100001",
        "OPTIN_IP": "198.51.63.243",
        "OPTIN_TIME": "2023-02-08 02:15:00",
    },
}


def _json(fields: dict[str, object]) -> bytes:
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def test_the_packing_dictionary_never_changes_because_stored_fields_need_it() -> None:
    assert hashlib.sha256(DICTIONARY_V1).hexdigest() == (
        "279aa75aa108f26fff43422bb4646d8108dbd8db2346cf83dbe5efb8dbe47c8e"
    )


@pytest.mark.parametrize("fields", [REGISTRATION, CONSENT], ids=["registration", "consent"])
def test_an_events_personal_fields_are_packed_to_under_half_and_open_as_recorded(
    fields: dict[str, object],
) -> None:
    cipher = ContactCipher("cp_1", new_data_key())
    packed = seal(cipher, "ev_1", fields)
    plain = cipher.encrypt_bytes(event_field("ev_1"), _json(fields))  # as sealed before packing
    assert packed[0] == FORMAT_PACKED and plain[0] == FORMAT_V1
    assert len(packed) < len(plain) / 2
    assert open_payload(cipher, "ev_1", {"kind": "email"}, packed) == {"kind": "email", **fields}
    assert open_payload(cipher, "ev_1", {"kind": "email"}, plain) == {"kind": "email", **fields}
    assert b"Sanne" not in packed and b"198.51" not in packed


def test_short_or_incompressible_bytes_are_sealed_unpacked() -> None:
    cipher = ContactCipher("cp_1", new_data_key())
    short = _json({"ip": "198.51.114.162"})
    noise = os.urandom(300)
    assert len(short) < PACK_FROM
    for data in (short, noise):
        blob = cipher.encrypt_packed("event:ev_1", data)
        assert blob[0] == FORMAT_V1 and len(blob) == len(data) + 29
        assert cipher.decrypt_bytes("event:ev_1", blob) == data


def test_a_field_relabelled_with_the_other_format_version_does_not_decrypt() -> None:
    cipher = ContactCipher("cp_1", new_data_key())
    data = _json(REGISTRATION)
    packed = cipher.encrypt_packed("event:ev_1", data)
    plain = cipher.encrypt_bytes("event:ev_1", data)
    for bad in (bytes([FORMAT_V1]) + packed[1:], bytes([FORMAT_PACKED]) + plain[1:]):
        with pytest.raises(DecryptionFailed, match="does not decrypt"):
            cipher.decrypt_bytes("event:ev_1", bad)


def test_a_packed_field_is_bound_to_its_contact_and_field_as_an_unpacked_one() -> None:
    key = new_data_key()
    packed = ContactCipher("cp_1", key).encrypt_packed("event:ev_1", _json(CONSENT))
    with pytest.raises(DecryptionFailed):
        ContactCipher("cp_2", key).decrypt_bytes("event:ev_1", packed)
    with pytest.raises(DecryptionFailed):
        ContactCipher("cp_1", key).decrypt_bytes("event:ev_2", packed)


def test_unpacking_gives_the_bytes_packed_and_refuses_a_cut_or_padded_stream() -> None:
    data = _json(REGISTRATION) * 3 + "é€𝄞".encode()
    deflated = pack(data)
    assert unpack(deflated) == data
    for bad in (deflated[:-3], deflated + b"x"):
        with pytest.raises(ValueError):
            unpack(bad)
