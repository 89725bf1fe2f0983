"""Personal fields encrypted under a contact's data key (AES-256-GCM).

A stored field is `version (1 byte) | nonce (12 bytes) | ciphertext | tag (16 bytes)`:
29 bytes more than the UTF-8 text. The associated data names the contact and the field,
so a ciphertext copied to another contact's row or into another field of the same contact
fails to decrypt instead of being read as that contact's or that field's value.

Two versions: `FORMAT_V1` encrypts the bytes as they are; `FORMAT_PACKED` (2) encrypts
them deflated with a fixed dictionary (`packing`), for the JSON of an event's personal
fields and a point's attributes, which it makes less than half as long. Its associated
data names its version, so a packed field relabelled as version 1 (or the other way
round) does not decrypt. `decrypt_bytes` reads both; which one a field was written in is
the writer's choice (`encrypt_packed` falls back to version 1 for short or incompressible
bytes).

Nonces are random. AES-GCM with random 96-bit nonces stays within its bounds for up to
2**32 encryptions under one key (NIST SP 800-38D); a contact's data key encrypts a few
fields a change, so no key comes near that.
"""

from __future__ import annotations

import os
import zlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from consentry.adapters.crypto.packing import pack, unpack

__all__ = [
    "DATA_KEY_BYTES",
    "FORMAT_PACKED",
    "FORMAT_V1",
    "ContactCipher",
    "DecryptionFailed",
    "new_data_key",
    "nonces",
]

#: A data key is an AES-256 key.
DATA_KEY_BYTES = 32
#: The first byte of every stored field; a later format gets the next number.
FORMAT_V1 = 1
#: A field deflated with `packing.DICTIONARY_V1` before it was encrypted.
FORMAT_PACKED = 2
#: Shorter bytes are not packed (what deflating them saves is less than its cost).
PACK_FROM = 64
_NONCE = 12
_TAG = 16
_HEADER = bytes([FORMAT_V1])
_PACKED_HEADER = bytes([FORMAT_PACKED])
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


def _associated(contact_id: str, field: str, version: bytes = b"v1") -> bytes:
    if "\x00" in field or "\x00" in contact_id:
        raise ValueError(f"a contact id or field name may not hold a NUL character: {field!r}")
    return b"consentry/field/" + version + _SEP + contact_id.encode() + _SEP + field.encode()


class ContactCipher:
    """Encrypts and decrypts the personal fields of one contact with its data key."""

    __slots__ = ("_aad", "_aead", "_packed_aad", "contact_id")

    def __init__(self, contact_id: str, data_key: bytes) -> None:
        if len(data_key) != DATA_KEY_BYTES:
            raise ValueError(f"a data key has {DATA_KEY_BYTES} bytes, not {len(data_key)}")
        self.contact_id = contact_id
        self._aead = AESGCM(data_key)
        # The associated data's common part is built once; each field adds its name. (Each
        # event's sealed fields are bound to the event's own name, so a memo per field name
        # would only grow.)
        self._aad = _associated(contact_id, "")
        self._packed_aad = _associated(contact_id, "", b"v2")

    def __repr__(self) -> str:  # never the key
        return f"ContactCipher({self.contact_id!r})"

    def _aad_for(self, field: str, common: bytes) -> bytes:
        if "\x00" in field:
            raise ValueError(f"a contact id or field name may not hold a NUL character: {field!r}")
        return common + field.encode()

    def encrypt_bytes(self, field: str, data: bytes, nonce: bytes | None = None) -> bytes:
        """`data` of `field`, encrypted and bound to this contact and field (`FORMAT_V1`).

        `nonce`, when given, is 12 fresh random bytes (`nonces`) for this encryption alone.
        """
        nonce = _checked(nonce)
        return _HEADER + nonce + self._aead.encrypt(nonce, data, self._aad_for(field, self._aad))

    def encrypt_packed(self, field: str, data: bytes, nonce: bytes | None = None) -> bytes:
        """`encrypt_bytes`, with `data` deflated first (`FORMAT_PACKED`) when that makes it shorter:
        for JSON whose names `packing.DICTIONARY_V1` holds (an event's personal fields)."""
        if len(data) >= PACK_FROM:
            packed = pack(data)
            if len(packed) < len(data):
                nonce = _checked(nonce)
                aad = self._aad_for(field, self._packed_aad)
                return _PACKED_HEADER + nonce + self._aead.encrypt(nonce, packed, aad)
        return self.encrypt_bytes(field, data, nonce)

    def decrypt_bytes(self, field: str, blob: bytes) -> bytes:
        """The bytes `encrypt_bytes(field, ...)` or `encrypt_packed(field, ...)` encrypted;
        `DecryptionFailed` for anything else."""
        if len(blob) < _SHORTEST:
            raise DecryptionFailed(f"{self.contact_id}/{field}: {len(blob)} bytes is too short for a field")
        version = blob[0]
        if version == FORMAT_V1:
            aad = self._aad_for(field, self._aad)
        elif version == FORMAT_PACKED:
            aad = self._aad_for(field, self._packed_aad)
        else:
            raise DecryptionFailed(f"{self.contact_id}/{field}: unknown format version {version}")
        try:
            data = self._aead.decrypt(blob[1:_BODY], blob[_BODY:], aad)
        except InvalidTag:
            raise DecryptionFailed(
                f"{self.contact_id}/{field}: does not decrypt (another contact's or field's value, "
                "altered, or a wrong key)"
            ) from None
        if version == FORMAT_V1:
            return data
        try:
            return unpack(data)
        except (zlib.error, ValueError):  # authenticated, so written so by a faulty writer
            raise DecryptionFailed(f"{self.contact_id}/{field}: its packed bytes do not unpack") from None

    def encrypt(self, field: str, text: str) -> bytes:
        """`text` of `field`, encrypted (UTF-8) and bound to this contact and field."""
        return self.encrypt_bytes(field, text.encode())

    def decrypt(self, field: str, blob: bytes) -> str:
        """The text `encrypt(field, ...)` encrypted; `DecryptionFailed` for anything else."""
        return self.decrypt_bytes(field, blob).decode()


def _checked(nonce: bytes | None) -> bytes:
    """`nonce`, or fresh random bytes when None; `ValueError` for one of the wrong length."""
    if nonce is None:
        return os.urandom(_NONCE)
    if len(nonce) != _NONCE:
        raise ValueError(f"a nonce has {_NONCE} bytes, not {len(nonce)}")
    return nonce
