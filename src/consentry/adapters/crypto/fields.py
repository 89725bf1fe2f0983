"""Personal fields encrypted under a contact's data key (AES-256-GCM).

A stored field is `version (1 byte) | nonce (12 bytes) | ciphertext | tag (16 bytes)`:
29 bytes more than the UTF-8 text. The associated data names the contact and the field,
so a ciphertext copied to another contact's row or into another field of the same contact
fails to decrypt instead of being read as that contact's or that field's value.

Nonces are random. AES-GCM with random 96-bit nonces stays within its bounds for up to
2**32 encryptions under one key (NIST SP 800-38D); a contact's data key encrypts a few
fields a change, so no key comes near that.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["DATA_KEY_BYTES", "FORMAT_V1", "ContactCipher", "DecryptionFailed", "new_data_key", "nonces"]

#: A data key is an AES-256 key.
DATA_KEY_BYTES = 32
#: The first byte of every stored field; a later format gets the next number.
FORMAT_V1 = 1
_NONCE = 12
_TAG = 16
_HEADER = bytes([FORMAT_V1])
_BODY = 1 + _NONCE
_SHORTEST = 1 + _NONCE + _TAG
#: Separates the contact id from the field name in the associated data (neither holds a NUL).
_SEP = b"\x00"


class DecryptionFailed(ValueError):
    """A stored field does not decrypt: another contact's or field's, altered, or a wrong key."""


def new_data_key(count: int = 1) -> bytes:
    """A fresh random data key for one contact; `count` keys end to end for a batch of contacts."""
    return os.urandom(DATA_KEY_BYTES * count)


def nonces(count: int) -> list[bytes]:
    """`count` random nonces, drawn from the system's random source in one read.

    Each is as random as one read of its own (`os.urandom(12)`), for a fraction of the
    cost: a batch of events is sealed with one read instead of one a field.
    """
    block = os.urandom(_NONCE * count)
    return [block[i : i + _NONCE] for i in range(0, _NONCE * count, _NONCE)]


#: The refusal of a contact id or field name holding a NUL (it would blur the associated data).
_NUL_REFUSED = "a contact id or field name may not hold a NUL character: {!r}"


def _associated(contact_id: str, field: str) -> bytes:
    if "\x00" in field or "\x00" in contact_id:
        raise ValueError(_NUL_REFUSED.format(field))
    return b"consentry/field/v1" + _SEP + contact_id.encode() + _SEP + field.encode()


class ContactCipher:
    """Encrypts and decrypts the personal fields of one contact with its data key."""

    __slots__ = ("_aad", "_aead", "contact_id")

    def __init__(self, contact_id: str, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError(f"a data key has {DATA_KEY_BYTES} bytes, not {len(data_key)}")
        self.contact_id = contact_id
        self._aead = AESGCM(data_key)
        # The associated data's common part is built once; each field adds its name. (Each
        # event's sealed fields are bound to the event's own name, so a memo per field name
        # would only grow.)
        self._aad = _associated(contact_id, "")

    def __repr__(self) -> str:  # never the key
        return f"ContactCipher({self.contact_id!r})"

    def _aad_for(self, field: str) -> bytes:
        if "\x00" in field:
            raise ValueError(_NUL_REFUSED.format(field))
        return self._aad + field.encode()

    def encrypt_bytes(self, field: str, data: bytes, nonce: bytes | None = None) -> bytearray:
        """`data` of `field`, encrypted and bound to this contact and field.

        `nonce`, when given, is 12 fresh random bytes (`nonces`) for this encryption alone.
        A `bytearray`, which sqlite3 binds as its blob straight away: for `bytes` it looks an
        adapter up first (`engine._bind_as_they_are`; ~1,200 instructions a value, against
        ~100 for the copy). The stores keep and give back the same bytes. Mutable and
        unhashable: made for binding; take `bytes()` of it to keep it as a key or value.
        """
        if nonce is None:
            nonce = os.urandom(_NONCE)
        elif len(nonce) != _NONCE:
            raise ValueError(f"a nonce has {_NONCE} bytes, not {len(nonce)}")
        if "\x00" in field:  # `_aad_for`, without the call: every sealed field and event comes here
            raise ValueError(_NUL_REFUSED.format(field))
        return bytearray(_HEADER + nonce + self._aead.encrypt(nonce, data, self._aad + field.encode()))

    def decrypt_bytes(self, field: str, blob: bytes | bytearray) -> bytes:
        """The bytes `encrypt_bytes(field, ...)` encrypted; `DecryptionFailed` for anything else."""
        if len(blob) < _SHORTEST:
            raise DecryptionFailed(f"{self.contact_id}/{field}: {len(blob)} bytes is too short for a field")
        if blob[0] != FORMAT_V1:
            raise DecryptionFailed(f"{self.contact_id}/{field}: unknown format version {blob[0]}")
        try:
            return self._aead.decrypt(blob[1:_BODY], blob[_BODY:], self._aad_for(field))
        except InvalidTag:
            raise DecryptionFailed(
                f"{self.contact_id}/{field}: does not decrypt (another contact's or field's value, "
                "altered, or a wrong key)"
            ) from None

    def encrypt(self, field: str, text: str) -> bytearray:
        """`text` of `field`, encrypted (UTF-8) and bound to this contact and field."""
        return self.encrypt_bytes(field, text.encode())

    def decrypt(self, field: str, blob: bytes | bytearray) -> str:
        """The text `encrypt(field, ...)` encrypted; `DecryptionFailed` for anything else."""
        return self.decrypt_bytes(field, blob).decode()
