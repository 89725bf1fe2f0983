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
from typing import Any

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


#: SHA-256 reads its input in blocks of this many bytes; HMAC pads its key to one block.
_BLOCK = 64
#: A key block's bytes XORed with HMAC's inner (0x36) and outer (0x5C) pad, as tables for `bytes.translate`.
_INNER_PAD = bytes(b ^ 0x36 for b in range(256))
_OUTER_PAD = bytes(b ^ 0x5C for b in range(256))


def _keyed(key: bytes) -> tuple[Any, Any]:
    """HMAC-SHA-256 under `key` (RFC 2104) up to its message: SHA-256 fed the key block XOR the
    inner pad, and SHA-256 fed the key block XOR the outer pad. `_mac` finishes it for a message."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    block = key.ljust(_BLOCK, b"\0")
    return hashlib.sha256(block.translate(_INNER_PAD)), hashlib.sha256(block.translate(_OUTER_PAD))


def _mac(keyed: tuple[Any, Any], message: bytes) -> bytes:
    """HMAC-SHA-256 of `message` under the key `keyed` was made from: `hmac.new(key, message,
    sha256).digest()`, from copies of the two keyed hashes (all in C; `hmac.HMAC`'s copy, update
    and digest are three Python calls more a value, ~1.0 against ~1.9 µs)."""
    inner, outer = keyed[0].copy(), keyed[1].copy()
    inner.update(message)
    outer.update(inner.digest())
    digest: bytes = outer.digest()
    return digest


class BlindIndex:
    """HMAC-SHA-256 indexes of normalised values, one subkey per kind."""

    __slots__ = ("_macs", "_term")

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise ValueError(
                f"a blind index secret needs at least {MIN_SECRET_BYTES} bytes, not {len(secret)}"
            )
        # Each kind's subkey made ready once, its two keyed hashes copied per value: the key's
        # blocks are hashed once (a one-shot `hmac.digest`, which keys anew, ~1.8-2.3 µs a value).
        self._macs = {
            kind: _keyed(
                hmac.new(secret, b"consentry/blind-index/v1/" + kind.encode(), hashlib.sha256).digest()
            )
            for kind in KINDS
        }
        self._term = self._macs["term"]

    def __repr__(self) -> str:  # never the secret
        return "BlindIndex(...)"

    def index(self, kind: str, normalised: str) -> bytes:
        """The blind index of `normalised` (already normalised, e.g. a lower-case address) as `kind`."""
        keyed = self._macs.get(kind)
        if keyed is None:
            raise ValueError(f"no blind index for kind {kind!r}; kinds: {', '.join(KINDS)}")
        return _mac(keyed, normalised.encode())[:INDEX_BYTES]

    def term(self, term: str) -> bytes:
        """The blind index of a search term (`factrows.terms`): the first `TERM_BYTES` of its index."""
        return _mac(self._term, term.encode())[:TERM_BYTES]
