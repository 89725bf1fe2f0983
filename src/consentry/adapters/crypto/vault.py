"""The store's keys: the key manager (master keys) and the blind index, as the settings give them.

When neither CONSENTRY_MASTER_KEY(_FILE) nor CONSENTRY_BLIND_INDEX_KEY is set and the store is
a local SQLite file, the keys live in a key file beside the database (`<db>.keys`, mode 0600,
JSON with both keys in base64). It is made when the database is new (the run that creates
it says so); a database that exists without its key file is refused, since a new key file
would make every encrypted field unreadable and every suppression record unmatchable. In
production (CONSENTRY_ENV=production) the keys must be set; nothing is made.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from pydantic import SecretStr

from consentry.adapters.crypto.blind import BlindIndex
from consentry.adapters.crypto.configured import KeySettingError, blind_index, key_manager
from consentry.adapters.crypto.fields import ContactCipher
from consentry.adapters.crypto.keyring import Keyring
from consentry.adapters.crypto.keys import MASTER_KEY_BYTES, KeyManager, WrappedKey
from consentry.settings import Settings

__all__ = ["KEY_FILE_SUFFIX", "Vault", "key_file_for", "vault"]

#: The key file of a SQLite database `x.db` is `x.db.keys`.
KEY_FILE_SUFFIX = ".keys"
_SECRET_BYTES = 32
#: Unwrapped data keys kept per process (a decision reads its contact's key on every fold).
CACHED_KEYS = 100_000


@dataclass(frozen=True)
class Vault:
    """What the store encrypts and looks up with: the key manager and the blind index."""

    keys: KeyManager
    blind: BlindIndex
    #: The key file this run made (a new SQLite database's zero-setup keys), to tell the operator.
    made_key_file: Path | None = None
    #: contact -> (its wrapped key as stored, its cipher): a key is unwrapped once while unchanged.
    _unwrapped: dict[str, tuple[bytes, ContactCipher]] = field(default_factory=dict, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False)

    def __repr__(self) -> str:  # never the keys
        return f"Vault(keys={self.keys!r})"

    def keyring(self, wrapped: Sequence[WrappedKey]) -> Keyring:
        """The ciphers of these stored keys; those unwrapped before (the same stored bytes) are reused.

        The store reads the wrapped keys in every transaction, so a destroyed key is never
        served from here: only the unwrapping is saved.
        """
        ciphers: dict[str, ContactCipher] = {}
        todo: list[WrappedKey] = []
        cache = self._unwrapped
        for w in wrapped:
            known = cache.get(w.contact_id)
            if known is not None and known[0] == w.wrapped:
                ciphers[w.contact_id] = known[1]
            else:
                todo.append(w)
        if todo:
            ring = Keyring.unwrapped(self.keys, todo)
            with self._lock:  # requests share the vault: one thread at a time changes the cache
                for w in todo:
                    cipher = ring.cipher(w.contact_id)
                    ciphers[w.contact_id] = cipher
                    cache[w.contact_id] = (w.wrapped, cipher)
                while len(cache) > CACHED_KEYS:
                    del cache[next(iter(cache))]
        return Keyring(ciphers)

    def ciphers_of(self, stored: Iterable[tuple[str, str, bytes]]) -> dict[str, ContactCipher]:
        """The ciphers of (contact, key_id, wrapped) as read beside the rows they open (a stream).

        As `keyring`, from plain tuples: only the keys not in the cache become `WrappedKey`s.
        """
        ciphers: dict[str, ContactCipher] = {}
        todo: list[WrappedKey] = []
        cache = self._unwrapped
        for contact, key_id, wrapped in stored:
            known = cache.get(contact)
            if known is not None and known[0] == wrapped:
                ciphers[contact] = known[1]
            elif contact not in ciphers:
                todo.append(WrappedKey(contact, key_id, bytes(wrapped)))
        if todo:
            ring = self.keyring(list({w.contact_id: w for w in todo}.values()))
            ciphers.update((w.contact_id, ring.cipher(w.contact_id)) for w in todo)
        return ciphers

    def forget(self, contact_ids: Iterable[str]) -> None:
        """Drop these contacts' unwrapped keys from memory (their keys were destroyed)."""
        with self._lock:
            for c in contact_ids:
                self._unwrapped.pop(c, None)


def key_file_for(database_url: str) -> Path | None:
    """The key file beside a local SQLite database file, or None for another store."""
    url = sa.make_url(database_url)
    if not url.drivername.startswith("sqlite") or not url.database or url.database == ":memory:":
        return None
    return Path(url.database + KEY_FILE_SUFFIX)


def vault(settings: Settings) -> Vault:
    """The keys the settings describe; `KeySettingError` names what is missing or wrong."""
    given = settings.master_key is not None or bool(settings.master_key_file)
    if given or settings.blind_index_key is not None:
        return Vault(key_manager(settings), blind_index(settings))
    if settings.env == "production":
        raise KeySettingError(
            "no keys: production (CONSENTRY_ENV=production) needs CONSENTRY_MASTER_KEY (or "
            "CONSENTRY_MASTER_KEY_FILE) and CONSENTRY_BLIND_INDEX_KEY (docs/privacy.md)"
        )
    path = key_file_for(settings.database_url)
    if path is None:
        raise KeySettingError(
            "no keys: set CONSENTRY_MASTER_KEY (or CONSENTRY_MASTER_KEY_FILE) and "
            "CONSENTRY_BLIND_INDEX_KEY; only a local SQLite database keeps its keys in a file "
            "beside it by itself (docs/privacy.md)"
        )
    made = None
    if not path.exists():
        database = Path(path.as_posix().removesuffix(KEY_FILE_SUFFIX))
        if database.exists() and database.stat().st_size > 0:
            raise KeySettingError(
                f"the database {database} exists but its key file {path} does not: restore the key "
                "file, or set CONSENTRY_MASTER_KEY and CONSENTRY_BLIND_INDEX_KEY (docs/privacy.md)"
            )
        _write_key_file(path)
        made = path
    master, blind = _read_key_file(path)
    return Vault(key_manager(settings.model_copy(update={"master_key": master})), BlindIndex(blind), made)


def _write_key_file(path: Path) -> None:
    body = {
        "master_key": base64.b64encode(os.urandom(MASTER_KEY_BYTES)).decode(),
        "blind_index_key": base64.b64encode(os.urandom(_SECRET_BYTES)).decode(),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        json.dump(body, f)


def _read_key_file(path: Path) -> tuple[SecretStr, bytes]:
    try:
        body = json.loads(path.read_text(encoding="ascii"))
        master, blind = str(body["master_key"]), str(body["blind_index_key"])
        secret = base64.b64decode(blind, validate=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeySettingError(f"the key file {path} cannot be read ({type(exc).__name__})") from None
    if len(secret) < _SECRET_BYTES:
        raise KeySettingError(f"the key file {path} holds a blind index key shorter than 32 bytes")
    return SecretStr(master), secret
