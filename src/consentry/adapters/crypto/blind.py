"""Keyed blind indexes: finding and keeping unique an address without storing it in clear.

A blind index is HMAC-SHA-256 of the normalised value under a secret kept outside the
database (CONSENTRY_BLIND_INDEX_KEY), so someone holding only the database cannot test
guesses (every Dutch mobile number is only ~10**8 guesses away from a plain hash). Each
kind (email, phone, postal) has its own subkey derived from the secret: the same string
as an e-mail address and as a postal address gives unrelated indexes.

Indexes are truncated to 16 bytes (128 bits). Two different values share an index with
probability about n**2 / 2**129 for n values: under 10**-20 at a billion. That matters,
as a shared index would make two people one (one's unsubscribe suppressing the other);
8 bytes would already give ~3% at a billion values, 12 bytes ~6 * 10**-12. 16 bytes keep
a collision out of reach at any realistic size for half of SHA-256's storage, and sort and
index as a short binary key.

Search terms (`term`: name words, tags, the attributes a campaign selects by) are kept to
their first 8 bytes (`term`, `TERM_BYTES`): they never make two people one, they only find
rows. A term asked for matches some other term already stored with probability about
n / 2**64 for n distinct terms (under 10**-12 at ten million), and then a search or a
selection would show one point too many; at that size the saving (8 bytes a term, twice: the
table and its index, about ten terms a point) is worth more. A term's index is the prefix of
its 16-byte index, so shorter terms can be cut from stored longer ones without the secret.

The secret cannot be rotated like a master key: an erased contact's suppression record
keeps only its index, and without the value no new index can be made for it. Losing the
secret, or changing it, makes every suppression record unmatchable; keep it as carefully
as the master key and for as long as the database.
"""

from __future__ import annotations

import hashlib
import hmac

from consentry.domain.ids import DerivedIds

__all__ = ["INDEX_BYTES", "KINDS", "TERM_BYTES", "BlindIndex"]

#: Bytes of an index kept (see the module docstring for the collision trade-off).
INDEX_BYTES = 16
#: Bytes of a search term's index kept (see the module docstring).
TERM_BYTES = 8
#: The kinds of value indexed; each has its own subkey. `contact` indexes an importer's contact id
#: (which may itself be personal), `term` the words and attributes a search or selection asks for.
KINDS = ("email", "phone", "postal", "contact", "term")
#: A secret shorter than this is refused: an index is only as strong as its secret.
MIN_SECRET_BYTES = 32


class BlindIndex:
    """HMAC-SHA-256 indexes of normalised values, one subkey per kind."""

    __slots__ = ("_id_key", "_macs", "_term")

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"a blind index secret needs at least {MIN_SECRET_BYTES} bytes, not {len(secret)}"
            )
        # A keyed HMAC object per kind, copied per value: the key schedule is done once. (Measured:
        # copy + update + digest ~1.2 µs, a one-shot `hmac.digest`, which keys anew, ~1.8-2.3 µs.)
        self._macs = {
            kind: hmac.new(
                hmac.new(secret, b"consentry/blind-index/v1/" + kind.encode(), hashlib.sha256).digest(),
                digestmod=hashlib.sha256,
            )
            for kind in KINDS
        }
        self._term = self._macs["term"]
        #: The subkey of the ids an import derives from what a row says (`derived_ids`).
        self._id_key = hmac.new(secret, b"consentry/derived-id/v1", hashlib.sha256).digest()

    def __repr__(self) -> str:  # never the secret
        return "BlindIndex(...)"

    def index(self, kind: str, normalised: str) -> bytes:
        """The blind index of `normalised` (already normalised, e.g. a lower-case address) as `kind`."""
        base = self._macs.get(kind)
        if base is None:
            raise ValueError(f"no blind index for kind {kind!r}; kinds: {', '.join(KINDS)}")
        mac = base.copy()
        mac.update(normalised.encode())
        return mac.digest()[:INDEX_BYTES]

    def derived_ids(self) -> DerivedIds:
        """A keyed maker of the ids an import derives from a row (`domain.ids.DerivedIds`):
        under a subkey of this secret, so as stable as the blind indexes and as hard to guess."""
        return DerivedIds(self._id_key)

    def term(self, term: str) -> bytes:
        """The blind index of a search term (`factrows.terms`): the first `TERM_BYTES` of its index."""
        mac = self._term.copy()
        mac.update(term.encode())
        return mac.digest()[:TERM_BYTES]
