"""Field encryption, master key wrapping, blind indexes and the key settings."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from consentry.adapters.crypto.blind import INDEX_BYTES, BlindIndex
from consentry.adapters.crypto.configured import KeySettingError, blind_index, key_manager
from consentry.adapters.crypto.fields import ContactCipher, DecryptionFailed, new_data_key
from consentry.adapters.crypto.keyring import KeyDestroyed, Keyring
from consentry.adapters.crypto.keys import LocalKeyManager, UnknownMasterKey, UnwrapFailed, WrappedKey
from consentry.settings import Settings

MASTER = bytes(range(32))


@pytest.fixture(autouse=True)
def no_keys_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests give the key settings themselves: not the test keys from the environment."""
    monkeypatch.delenv("CONSENTRY_MASTER_KEY", raising=False)
    monkeypatch.delenv("CONSENTRY_BLIND_INDEX_KEY", raising=False)


OTHER = bytes(range(1, 33))


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_a_field_decrypts_to_the_text_it_encrypted() -> None:
    cipher = ContactCipher("ct_1", new_data_key())
    blob = cipher.encrypt("email", "eva.hendriks@example.nl")
    assert cipher.decrypt("email", blob) == "eva.hendriks@example.nl"
    assert b"eva" not in blob
    assert len(blob) == len("eva.hendriks@example.nl") + 29


def test_encrypting_the_same_text_twice_gives_different_ciphertexts() -> None:
    cipher = ContactCipher("ct_1", new_data_key())
    assert cipher.encrypt("name", "Eva") != cipher.encrypt("name", "Eva")


def test_a_ciphertext_moved_to_another_field_does_not_decrypt() -> None:
    cipher = ContactCipher("ct_1", new_data_key())
    blob = cipher.encrypt("email", "eva@example.nl")
    with pytest.raises(DecryptionFailed, match="ct_1/name"):
        cipher.decrypt("name", blob)


def test_a_ciphertext_moved_to_another_contact_does_not_decrypt_even_under_the_same_key() -> None:
    key = new_data_key()
    blob = ContactCipher("ct_1", key).encrypt("email", "eva@example.nl")
    with pytest.raises(DecryptionFailed):
        ContactCipher("ct_2", key).decrypt("email", blob)


def test_an_altered_or_truncated_or_unknown_version_ciphertext_is_refused() -> None:
    cipher = ContactCipher("ct_1", new_data_key())
    blob = cipher.encrypt("email", "eva@example.nl")
    flipped = blob[:-1] + bytes([blob[-1] ^ 1])
    for bad, says in (
        (flipped, "does not decrypt"),
        (blob[:20], "too short"),
        (b"\x09" + blob[1:], "version 9"),
    ):
        with pytest.raises(DecryptionFailed, match=says):
            cipher.decrypt("email", bad)


def test_a_data_key_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes, not 16"):
        ContactCipher("ct_1", bytes(16))


def test_a_wrapped_data_key_unwraps_under_the_master_key_it_was_wrapped_under() -> None:
    manager = LocalKeyManager(MASTER)
    key = new_data_key()
    wrapped = manager.wrap("ct_1", key)
    assert wrapped.key_id == manager.key_id and wrapped.key_id.startswith("local-")
    assert len(wrapped.wrapped) == 61
    assert manager.unwrap([wrapped]) == [key]


def test_a_master_key_id_is_a_fingerprint_that_differs_per_key_and_shows_no_key() -> None:
    one, two = LocalKeyManager(MASTER), LocalKeyManager(OTHER)
    assert one.key_id != two.key_id
    assert MASTER.hex()[:16] not in one.key_id
    assert "MASTER" not in repr(one) and MASTER.hex() not in repr(one)


def test_a_wrapped_key_moved_to_another_contact_does_not_unwrap() -> None:
    manager = LocalKeyManager(MASTER)
    wrapped = manager.wrap("ct_1", new_data_key())
    with pytest.raises(UnwrapFailed, match="ct_2"):
        manager.unwrap([WrappedKey("ct_2", wrapped.key_id, wrapped.wrapped)])


def test_a_key_wrapped_under_an_unconfigured_master_key_is_named_not_guessed() -> None:
    wrapped = LocalKeyManager(OTHER).wrap("ct_1", new_data_key())
    with pytest.raises(UnknownMasterKey, match=wrapped.key_id):
        LocalKeyManager(MASTER).unwrap([wrapped])


def test_a_manager_with_a_previous_key_unwraps_old_keys_and_wraps_under_the_new_one() -> None:
    key = new_data_key()
    old = LocalKeyManager(MASTER).wrap("ct_1", key)
    rotating = LocalKeyManager(OTHER, previous=[MASTER])
    assert rotating.knows(old.key_id) and rotating.unwrap([old]) == [key]
    assert rotating.wrap("ct_1", key).key_id == LocalKeyManager(OTHER).key_id


def test_a_keyring_gives_the_cipher_of_each_contact_and_says_when_a_key_is_gone() -> None:
    manager = LocalKeyManager(MASTER)
    keys = {c: new_data_key() for c in ("ct_1", "ct_2")}
    ring = Keyring.unwrapped(manager, [manager.wrap(c, k) for c, k in keys.items()])
    blob = ContactCipher("ct_2", keys["ct_2"]).encrypt("name", "Henk")
    assert ring.cipher("ct_2").decrypt("name", blob) == "Henk"
    assert ring.get("ct_3") is None and ring.missing(["ct_1", "ct_3"]) == ["ct_3"]
    with pytest.raises(KeyDestroyed, match="ct_3"):
        ring.cipher("ct_3")


def test_the_same_value_as_another_kind_gets_another_blind_index() -> None:
    index = BlindIndex(os.urandom(32))
    assert index.index("email", "a@b.nl") == index.index("email", "a@b.nl")
    assert index.index("email", "a@b.nl") != index.index("postal", "a@b.nl")
    assert len(index.index("phone", "+31612345678")) == INDEX_BYTES


def test_a_blind_index_depends_on_its_secret() -> None:
    assert BlindIndex(bytes(32)).index("email", "a@b.nl") != BlindIndex(bytes(range(32))).index(
        "email", "a@b.nl"
    )


def test_a_blind_index_refuses_an_unknown_kind_and_a_short_secret() -> None:
    with pytest.raises(ValueError, match="'fax'"):
        BlindIndex(bytes(32)).index("fax", "x")
    with pytest.raises(ValueError, match="at least 32"):
        BlindIndex(bytes(16))


def test_the_master_key_comes_from_the_setting_or_from_a_file(tmp_path: Path) -> None:
    from_value = key_manager(Settings(master_key=b64(MASTER)))  # type: ignore[arg-type]
    path = tmp_path / "master.key"
    path.write_text(b64(MASTER) + "\n")
    from_file = key_manager(Settings(master_key_file=str(path)))
    assert from_value.key_id == from_file.key_id == LocalKeyManager(MASTER).key_id


def test_previous_master_keys_are_read_from_a_comma_separated_setting() -> None:
    manager = key_manager(
        Settings(master_key=b64(OTHER), master_key_previous=f"{b64(MASTER)}, {b64(bytes(32))}")  # type: ignore[arg-type]
    )
    assert manager.knows(LocalKeyManager(MASTER).key_id) and manager.knows(LocalKeyManager(bytes(32)).key_id)


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({}, "no master key"),
        ({"master_key": "not base64!"}, "CONSENTRY_MASTER_KEY is not valid base64"),
        ({"master_key": b64(bytes(16))}, "16 bytes; it must be 32"),
        ({"master_key": b64(MASTER), "master_key_file": "/x"}, "not both"),
        ({"master_key_file": "/nonexistent/master.key"}, "/nonexistent/master.key: cannot be read"),
        ({"master_key": b64(MASTER), "master_key_previous": "xx"}, "PREVIOUS \\(key 1\\) is not valid"),
    ],
)
def test_a_missing_or_malformed_master_key_setting_is_named_without_its_value(
    settings: dict[str, str], says: str
) -> None:
    with pytest.raises(KeySettingError, match=says) as err:
        key_manager(Settings(**settings))  # type: ignore[arg-type]
    assert b64(MASTER) not in str(err.value)


def test_the_blind_index_secret_comes_from_its_setting_and_must_be_long_enough() -> None:
    secret = os.urandom(32)
    configured = blind_index(Settings(blind_index_key=b64(secret)))  # type: ignore[arg-type]
    assert configured.index("email", "a@b.nl") == BlindIndex(secret).index("email", "a@b.nl")
    with pytest.raises(KeySettingError, match="CONSENTRY_BLIND_INDEX_KEY"):
        blind_index(Settings(blind_index_key=None))
    with pytest.raises(KeySettingError, match="20 bytes"):
        blind_index(Settings(blind_index_key=b64(bytes(20))))  # type: ignore[arg-type]


def test_key_settings_do_not_show_their_values() -> None:
    settings = Settings(master_key=b64(MASTER), blind_index_key=b64(OTHER))  # type: ignore[arg-type]
    assert b64(MASTER) not in repr(settings) and b64(OTHER) not in str(settings.model_dump())
