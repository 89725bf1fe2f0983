"""Packing a sealed field before it is encrypted: raw DEFLATE with a fixed preset dictionary.

An event's personal fields are sealed as JSON (`adapters.sql.sealing`) whose names take
half its bytes: `"attributes":{"First Name":"..."`, `"source_fields":{"OPTIN_TIME":"..."`.
Deflated with a dictionary of those names they take about 40% of their length (a
Mailchimp member's registration 297 -> 123 bytes, its consent 229 -> 98). A field packed
so is stored as `fields.FORMAT_PACKED`, which `ContactCipher.decrypt_bytes` unpacks.

`DICTIONARY_V1` is part of the stored format: fields packed with it can only be read with
it, so it never changes (a test holds its digest); a better dictionary would be a new
format number beside this one. It holds the names consentry's payloads use for personal
fields (`sealing.PERSONAL`), and the column and attribute names the Mailchimp importer
writes (`services.imports.mailchimp`), as orjson writes them; no values, so what a packed
field's length says about its content is whether it uses these names.

The compressor's settings (level, window, memory) are not part of the format: any raw
DEFLATE stream with this dictionary unpacks.
"""

from __future__ import annotations

import zlib

__all__ = ["DICTIONARY_V1", "pack", "unpack"]

#: The preset dictionary of packed fields (the most common names last: nearer, cheaper).
DICTIONARY_V1 = (
    b'"contact_id":"","diagnostic":"","mail_from":"","order_ref":"","note":"","reason":"",'
    b'"published_for_offers_evidence":"","user_agent":"","mailchimp.NOTES":"",'
    b'"CONFIRM_TIME":"","CONFIRM_IP":"","EUID":"","LAST_CHANGED":"","LEID":"",'
    b'"OPTIN_IP":"","OPTIN_TIME":"20","source_fields":{"","ip":"","value":"",'
    b'"display_name":"","source_detail":"Mailchimp, LEID ",'
    b'"mailchimp.CC":"","mailchimp.MEMBER_RATING":"","mailchimp.REGION":"","mailchimp.TIMEZONE":"",'
    b'{"attributes":{"First Name":"","Last Name":"'
)
#: Raw DEFLATE (no zlib header or checksum: the AES-GCM tag authenticates the bytes).
_RAW = -15
#: A 2 KB window and a small hash table: fields are short, and a compressor is made per field.
_WINDOW, _MEMORY = -11, 2


def pack(data: bytes) -> bytes:
    """`data` deflated with `DICTIONARY_V1`."""
    z = zlib.compressobj(6, zlib.DEFLATED, _WINDOW, _MEMORY, zlib.Z_DEFAULT_STRATEGY, DICTIONARY_V1)
    return z.compress(data) + z.flush()


def unpack(packed: bytes) -> bytes:
    """The bytes `pack` deflated; `zlib.error` (or `ValueError` for a stream that ends early or
    has bytes after its end) for anything else."""
    z = zlib.decompressobj(_RAW, DICTIONARY_V1)
    data = z.decompress(packed) + z.flush()
    if not z.eof or z.unused_data:
        raise ValueError("a packed field's DEFLATE stream is cut short or followed by other bytes")
    return data
