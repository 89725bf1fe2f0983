"""Many contacts' ciphers at once: what sending and audience export decrypt with."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from consentry.adapters.crypto.fields import ContactCipher
from consentry.adapters.crypto.keys import KeyManager, WrappedKey

__all__ = ["KeyDestroyed", "Keyring"]


class KeyDestroyed(LookupError):
    """The contact's data key is gone (erased: crypto-shredded) or was never made."""


class Keyring:
    """The ciphers of a batch of contacts, their data keys unwrapped in one call to the key manager."""

    __slots__ = ("_ciphers",)

    def __init__(self, ciphers: dict[str, ContactCipher]) -> None:
        self._ciphers = ciphers

    @classmethod
    def unwrapped(cls, manager: KeyManager, keys: Sequence[WrappedKey]) -> Keyring:
        """A keyring of `keys`, unwrapped by `manager`."""
        data_keys = manager.unwrap(keys)
        return cls(
            {k.contact_id: ContactCipher(k.contact_id, dk) for k, dk in zip(keys, data_keys, strict=True)}
        )

    def __repr__(self) -> str:
        return f"Keyring({len(self._ciphers)} contacts)"

    def __len__(self) -> int:
        return len(self._ciphers)

    def __contains__(self, contact_id: object) -> bool:
        return contact_id in self._ciphers

    def __iter__(self) -> Iterator[str]:
        return iter(self._ciphers)

    def get(self, contact_id: str) -> ContactCipher | None:
        """The contact's cipher, or None when its key is destroyed (or was never made)."""
        return self._ciphers.get(contact_id)

    def cipher(self, contact_id: str) -> ContactCipher:
        """The contact's cipher; `KeyDestroyed` when its key is gone."""
        found = self._ciphers.get(contact_id)
        if found is None:
            raise KeyDestroyed(f"contact {contact_id} has no data key (erased, or never given one)")
        return found

    def missing(self, contact_ids: Iterable[str]) -> list[str]:
        """Those of `contact_ids` without a key here, in order."""
        return [c for c in contact_ids if c not in self._ciphers]
