"""Key management: per-contact data keys wrapped under a master key.

`KeyManager` is the interface the store and the services use; `LocalKeyManager` keeps
its master keys in the process (from settings, see `consentry.adapters.crypto.configured`).
A KMS or Vault plugs in as another `KeyManager`: `wrap` and `unwrap` become calls to
its encrypt and decrypt operations (Vault's transit engine, a KMS's Encrypt/Decrypt with
the contact id as encryption context), `key_id` names its key version, and `unwrap` takes
a batch so such a manager can answer a thousand contacts in one round trip (Vault's
`batch_input`), since sending and audience export load keys by the thousand.

Every master key has an id, stored beside each data key it wraps. Rotation adds a new
master key as the current one, keeps the old one for unwrapping, re-wraps every data key
under the new one (`consentry.adapters.sql.data_keys.DataKeyStore.rotate`) and then
retires the old one; the encrypted fields are never touched, since their data keys do not
change.

The interface holds only standard-library types so it can move to the services' ports
unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = [
    "MASTER_KEY_BYTES",
    "KeyManager",
    "LocalKeyManager",
    "UnknownMasterKey",
    "UnwrapFailed",
    "WrappedKey",
]

MASTER_KEY_BYTES = 32
_WRAP_V1 = 1
_NONCE = 12


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A contact's data key as stored: wrapped under the master key `key_id`."""

    contact_id: str
    key_id: str
    wrapped: bytes

    def __repr__(self) -> str:  # the wrapped bytes are of no use to a reader of logs
        return f"WrappedKey({self.contact_id!r}, {self.key_id!r})"


class UnknownMasterKey(LookupError):
    """A data key is wrapped under a master key this manager does not have."""


class UnwrapFailed(ValueError):
    """A wrapped data key does not unwrap: wrong master key, another contact's, or altered."""


class KeyManager(Protocol):
    """Wraps and unwraps per-contact data keys under a master key (local, a KMS or Vault)."""

    @property
    def key_id(self) -> str:
        """The id of the current master key: new and re-wrapped data keys are wrapped under it."""
        ...

    def knows(self, key_id: str) -> bool:
        """Whether this manager can unwrap data keys wrapped under `key_id`."""
        ...

    def wrap(self, contact_id: str, data_key: bytes) -> WrappedKey:
        """`data_key` of `contact_id`, wrapped under the current master key and bound to the contact."""
        ...

    def unwrap(self, keys: Sequence[WrappedKey]) -> list[bytes]:
        """The data keys, in order; `UnknownMasterKey` or `UnwrapFailed` when one cannot be."""
        ...


def _derive(master: bytes, purpose: bytes) -> bytes:
    """A subkey of `master` for one purpose, so the key id reveals nothing of the wrapping key."""
    return hmac.new(master, b"consentry/" + purpose, hashlib.sha256).digest()


def local_key_id(master: bytes) -> str:
    """The id of a local master key: a fingerprint of it (64 bits, not the key)."""
    return "local-" + _derive(master, b"key-id/v1")[:8].hex()


def _associated_prefix(key_id: str) -> bytes:
    """The associated data of a wrapped key, up to its contact id (which follows)."""
    return b"consentry/data-key/v1\x00" + key_id.encode() + b"\x00"


class LocalKeyManager:
    """Master keys held in the process: the current one first, then those being rotated away from.

    A key's id is its fingerprint (`local_key_id`), so a different key given under the
    same setting has another id and is noticed, not used. A wrapped key is
    `version (1) | nonce (12) | AES-256-GCM of the data key with its tag (48)`, 61 bytes,
    bound to its contact and master key id by the associated data.
    """

    __slots__ = ("_by_id", "_current")

    _by_id: dict[str, tuple[AESGCM, bytes]]

    def __init__(self, current: bytes, previous: Iterable[bytes] = ()) -> None:
        keys = [current, *previous]
        for i, key in enumerate(keys):
            if len(key) != MASTER_KEY_BYTES:
                which = "the master key" if i == 0 else f"previous master key {i}"
                raise ValueError(f"{which} has {len(key)} bytes; it must have {MASTER_KEY_BYTES}")
        self._by_id = {}
        for key in keys:
            key_id = local_key_id(key)
            self._by_id.setdefault(key_id, (AESGCM(_derive(key, b"wrap/v1")), _associated_prefix(key_id)))
        self._current = local_key_id(current)

    def __repr__(self) -> str:  # never the keys
        return f"LocalKeyManager(key_id={self._current!r}, known={sorted(self._by_id)!r})"

    @property
    def key_id(self) -> str:
        """The id of the current master key."""
        return self._current

    def knows(self, key_id: str) -> bool:
        """Whether a master key with this id was given."""
        return key_id in self._by_id

    def wrap(self, contact_id: str, data_key: bytes) -> WrappedKey:
        """`data_key` wrapped under the current master key, bound to `contact_id`."""
        nonce = os.urandom(_NONCE)
        aead, prefix = self._by_id[self._current]
        sealed = aead.encrypt(nonce, data_key, prefix + contact_id.encode())
        return WrappedKey(contact_id, self._current, bytes([_WRAP_V1]) + nonce + sealed)

    def unwrap(self, keys: Sequence[WrappedKey]) -> list[bytes]:
        """The data keys of `keys`, in order."""
        out: list[bytes] = []
        for key in keys:
            found = self._by_id.get(key.key_id)
            if found is None:
                raise UnknownMasterKey(
                    f"the data key of {key.contact_id} is wrapped under master key {key.key_id}, "
                    f"which is not configured (known: {', '.join(sorted(self._by_id))})"
                )
            blob = key.wrapped
            if not blob or blob[0] != _WRAP_V1:
                raise UnwrapFailed(f"the data key of {key.contact_id} has an unknown wrapping format")
            aead, prefix = found
            try:
                out.append(
                    aead.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], prefix + key.contact_id.encode())
                )
            except InvalidTag:
                raise UnwrapFailed(
                    f"the data key of {key.contact_id} does not unwrap under master key {key.key_id} "
                    "(another contact's key, altered, or a different key under the same id)"
                ) from None
        return out
