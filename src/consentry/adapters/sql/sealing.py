"""Sealing personal fields: what of an event is stored in clear and what under the contact's data key.

Every personal field of a payload (the `PERSONAL` names, whatever the event type) is taken
out of the stored payload and kept in the event's `sealed` column: encrypted with the data
key of the point's contact (`contact_ref`), bound to the event's id, in the form
`sealed_form` describes (names it knows as numbers). The
rules and the audience SQL read only clear fields (kinds, purposes, channels, flags,
dates, tags, campaign keys), so nothing they need is sealed.
`contact_point.erased` is the exception: its `reason` is a code that must stay readable
after the key is gone, and it carries nothing personal.

A contact point's contact (`contact_ref`, the owner of the data key) is fixed when the
point is registered: `c` + the blind index of the registration's `contact_id` (an
importer's contact id may itself be personal), or else the point's own id.

A name added to `PERSONAL` later is sealed in the events appended from then on. Rows stored
before keep it in their clear payload: they are never rewritten (the chain hashes them as
stored), and `open_payload` merges the clear and the sealed fields, so they read and verify
as they did; such a clear value outlives its contact's key (`mail_message_id`, sealed since
it was found to name the person's own mail domain, is one).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime
from typing import Any, Generic, TypeVar

from consentry.adapters.addresses import match_form
from consentry.adapters.crypto.fields import ContactCipher
from consentry.adapters.crypto.keys import WrappedKey
from consentry.adapters.crypto.vault import Vault
from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.data_keys import DataKeyStore
from consentry.adapters.sql.sealed_form import coded, opened
from consentry.adapters.sql.stored import chunks
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import PointKind

__all__ = [
    "PERSONAL",
    "Ciphers",
    "PointKey",
    "Preferred",
    "contact_ref",
    "event_field",
    "open_payload",
    "split",
]

#: The payload fields that are personal data, by name, in any event type. Anything a person or
#: their browser or mail client supplies belongs here: a mail's Message-ID (`mail_message_id`)
#: is made by the person's own client, often as `<uuid@their-own-domain>`.
PERSONAL = frozenset(
    {
        "value",
        "display_name",
        "attributes",
        "source_detail",
        "published_for_offers_evidence",
        "source_fields",
        "ip",
        "user_agent",
        "reason",
        "note",
        "mail_from",
        "mail_message_id",
        "diagnostic",
        "order_ref",
        "contact_id",
    }
)
#: Event types stored wholly in clear (they carry codes, nothing personal).
CLEAR_TYPES = frozenset({"contact_point.erased"})


#: A contact point's normalised value with its kind: what a look-up by blind index is asked for.
PointKey = tuple[PointKind, str]
_T = TypeVar("_T")


class Preferred(Generic[_T]):
    """What rows found by `Ciphers.ranked_lookups` give each (kind, value) pair: the row found by
    the better-ranked index (the compared form's) wins over one found by the value's own."""

    __slots__ = ("_rank", "found")

    def __init__(self) -> None:
        self.found: dict[PointKey, _T] = {}
        self._rank: dict[PointKey, int] = {}

    def offer(self, pairs: Iterable[tuple[PointKey, int]], value: _T) -> None:
        """A row found by an index that stands for these pairs, at these ranks."""
        for key, rank in pairs:
            if rank < self._rank.get(key, 2):
                self.found[key], self._rank[key] = value, rank


def contact_ref(vault: Vault, point_id: str, contact_id: Any) -> str:
    """The contact that owns a point's data key: its importer's contact id, blinded, or the point."""
    if isinstance(contact_id, str) and contact_id:
        return "c" + vault.blind.index("contact", contact_id).hex()[:32]
    return point_id


def split(event_type: str, payload: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, Any] | None]:
    """The payload's clear fields, and its personal ones (None when it has none).

    A payload without personal fields is its own clear part (not copied: events are not
    changed once made). The clear fields keep the payload's order; the personal ones come
    in no particular order (`sealed_form` writes them sorted by name).
    """
    if event_type in CLEAR_TYPES:
        return payload, None
    names = PERSONAL.intersection(payload)
    if not names:
        return payload, None
    clear = dict(payload)
    pop = clear.pop
    return clear, {k: pop(k) for k in names}


#: What an event's id is prefixed with to name the field its sealed bytes are bound to.
EVENT_FIELD = "event:"


def event_field(event_id: str) -> str:
    """The field name an event's sealed bytes are bound to."""
    return EVENT_FIELD + event_id


def seal(
    cipher: ContactCipher, event_id: str, personal: Mapping[str, Any], nonce: bytes | None = None
) -> bytearray:
    """The personal fields of an event in their sealed form (`sealed_form.coded`), encrypted under
    its contact's key (with `nonce`, when given: fresh random bytes for this event alone,
    `fields.nonces`)."""
    # `event_field`, without the call: one an appended event
    return cipher.encrypt_bytes(EVENT_FIELD + event_id, coded(personal), nonce)


def open_payload(
    cipher: ContactCipher | None, event_id: str, clear: Mapping[str, Any], sealed: bytes | None
) -> Mapping[str, Any]:
    """The payload as recorded: the clear fields with the sealed ones merged back.

    Without a cipher (the contact's key was destroyed) only the clear fields remain.
    """
    if sealed is None or cipher is None:
        return clear
    personal = opened(cipher.decrypt_bytes(event_field(event_id), bytes(sealed)))
    return {**clear, **personal}


class Ciphers(Connected):
    """The ciphers of contacts and the contacts of points, cached for one transaction.

    Keys are loaded a batch at a time (one query per 500 contacts); a destroyed key is
    remembered as None, so its contact's sealed fields are left closed.
    """

    vault: Vault

    def _cipher_cache(self) -> dict[str, ContactCipher | None]:
        found: dict[str, ContactCipher | None] | None = self.__dict__.get("_ciphers")
        if found is None:
            found = self.__dict__["_ciphers"] = {}
        return found

    def _ref_cache(self) -> dict[str, str]:
        found: dict[str, str] | None = self.__dict__.get("_refs")
        if found is None:
            found = self.__dict__["_refs"] = {}
        return found

    def lookup(self, kind: str, value: str) -> bytes:
        """The blind index a contact point with this normalised value is registered and found by: that
        of its compared form (`addresses.match_form`: two spellings of one address are one point).

        Kept for the transaction: an import looks a block's values up, then registers them, and
        its projection looks their suppression records up by them (`SuppressionReads.lookups`).
        A transaction over the whole ledger drops it with the other caches (`drop_caches`).
        """
        cache: dict[tuple[str, str], bytes] | None = self.__dict__.get("_indexes")
        if cache is None:
            cache = self.__dict__["_indexes"] = {}
        key = (str(kind), value)
        found = cache.get(key)
        if found is None:
            found = cache[key] = self.vault.blind.index(key[0], match_form(key[0], value))
        return found

    def value_index(self, kind: str, value: str) -> bytes:
        """The blind index of the normalised value itself, as given (not its compared form).

        How points and suppression records were indexed before `match_form`, and how registers
        still match a point (`point_facts.lookup` against a clear register's entries, which are
        blind indexes of the entry as normalised, kept without the entry; `registers.clear_entry`).
        The same as `lookup` for a value that is its own compared form (most e-mail addresses).
        """
        kind = str(kind)
        if match_form(kind, value) == value:
            return self.lookup(kind, value)
        return self.vault.blind.index(kind, value)

    def lookups_for(self, kind: str, value: str) -> tuple[bytes, ...]:
        """The blind indexes a point or suppression record of this normalised value may be stored
        under: `lookup`'s, and, where it differs, `value_index`'s (those indexed before
        `match_form`, which keep their index: an erased point's value is gone for good)."""
        found = self.lookup(kind, value)
        older = self.value_index(kind, value)
        return (found,) if older == found else (found, older)

    def ranked_lookups(
        self, keys: Iterable[PointKey]
    ) -> dict[PointKind, dict[bytes, list[tuple[PointKey, int]]]]:
        """By kind, each blind index these (kind, value) pairs may be stored under (`lookups_for`),
        with the pairs it stands for and its rank for each (0: the compared form's); a pair without
        a value is left out. What the rows found by them hold goes into a `Preferred`."""
        by_kind: dict[PointKind, dict[bytes, list[tuple[PointKey, int]]]] = {}
        for key in dict.fromkeys(keys):
            kind, value = key
            if not value:
                continue
            indexes = by_kind.setdefault(kind, {})
            for rank, lookup in enumerate(self.lookups_for(kind, value)):
                indexes.setdefault(lookup, []).append((key, rank))
        return by_kind

    def lookup_cache(self) -> dict[str, bytes]:
        """The blind indexes (`lookup`) of points registered in this transaction, by point (the writer
        fills it)."""
        found: dict[str, bytes] | None = self.__dict__.get("_lookups")
        if found is None:
            found = self.__dict__["_lookups"] = {}
        return found

    def lookups_of(self, states: Iterable[ContactState]) -> dict[str, bytes]:
        """The `value_index` of each state's value, by point (`point_facts.lookup`, which registers are
        matched by); those registered here whose value is its own compared form are not blinded again."""
        known = self.lookup_cache()
        index = self.vault.blind.index
        out: dict[str, bytes] = {}
        for s in states:
            kind, value = s.kind.value, s.value
            same = match_form(kind, value) == value
            out[s.id] = (known.get(s.id) if same else None) or index(kind, value)
        return out

    def contact_refs(self, point_ids: Iterable[str]) -> dict[str, str]:
        """The contact (`contact_ref`) of each of these registered points (one query on PostgreSQL,
        one per 500 on SQLite)."""
        cache = self._ref_cache()
        wanted = [p for p in dict.fromkeys(point_ids) if p not in cache]
        cache.update(self._rows_of("SELECT id, contact_ref FROM contact_points WHERE id {set}", wanted))
        return cache

    def point_ciphers(
        self, point_ids: Iterable[str]
    ) -> tuple[dict[str, str], dict[str, ContactCipher | None]]:
        """The contact of each of these points and its cipher: one query per 500 points for both."""
        refs, cache = self._ref_cache(), self._cipher_cache()
        wanted = [p for p in dict.fromkeys(point_ids) if p not in refs or refs[p] not in cache]
        found: dict[str, WrappedKey] = {}
        for chunk in chunks(wanted):
            where, params = self._in("p.id", chunk)
            sql = (
                "SELECT p.id, p.contact_ref, k.key_id, k.wrapped FROM contact_points p "
                f"LEFT JOIN data_keys k ON k.contact_id = p.contact_ref WHERE {where}"
            )
            for pid, ref, key_id, wrapped in self._plain(sql, params):
                refs[pid] = ref
                if ref in cache:
                    continue
                if wrapped is None:
                    cache[ref] = None
                else:
                    found[ref] = WrappedKey(ref, key_id, bytes(wrapped))
        if found:
            ring = self.vault.keyring(list(found.values()))
            for ref in found:
                cache[ref] = ring.get(ref)
        return refs, cache

    def ciphers(self, refs: Iterable[str]) -> dict[str, ContactCipher | None]:
        """The cipher of each of these contacts (None for one without a key), loaded in batches."""
        cache = self._cipher_cache()
        wanted = [r for r in dict.fromkeys(refs) if r not in cache]
        if wanted:
            ring = self.vault.keyring(DataKeyStore(self.conn, self.vault.keys).wrapped(wanted))
            for r in wanted:
                cache[r] = ring.get(r)
        return cache

    def new_keys(
        self, refs: Iterable[str], now: datetime, unkeyed: AbstractSet[str] = frozenset()
    ) -> list[tuple[str, str, bytes, datetime]]:
        """Data keys for those of these contacts that have none: their ciphers in this
        transaction's cache, and their `data_keys` rows, which the caller stores (within
        `data_keys.kept_once`) before it commits.

        `unkeyed` contacts are known to have none, so their keys are not looked for: points
        registered in this transaction as their own contact (a key under a new point's id
        would have its point already). Were one there, storing the new key stops the
        transaction (`DataKeyExists`), so a wrong guess costs the append, never a key.
        The ciphers are cached before their rows are stored: a caller that catches
        `DataKeyExists` must give up the transaction and this writer with it, never carry on
        (events sealed under a key never stored could not be opened).
        """
        wanted = list(dict.fromkeys(refs))
        cache = self.ciphers(r for r in wanted if r not in unkeyed)
        missing = [r for r in wanted if cache.get(r) is None]
        if not missing:
            return []
        rows, made = DataKeyStore(self.conn, self.vault.keys).made(missing, now)
        cache.update(made)
        return rows

    def drop_caches(self) -> None:
        """Forget the cached ciphers, contacts and blind indexes (with the clear values they are
        kept by): a long transaction (an upgrade, a rebuild of the projection) bounds its memory so."""
        self.__dict__.pop("_ciphers", None)
        self.__dict__.pop("_refs", None)
        self.__dict__.pop("_indexes", None)

    def forget_ciphers(self, refs: Iterable[str]) -> None:
        """Drop these contacts' ciphers from the cache (their keys were destroyed)."""
        cache = self._cipher_cache()
        for r in refs:
            cache.pop(r, None)
        self.vault.forget(refs)
