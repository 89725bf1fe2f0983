"""The message encoder's quoted-printable, written in remembered chunks of whole lines.

`mime._qp` encodes a text chunk by chunk (split after each blank line, or each line for the
HTML part) and, given a sender's memo, remembers each chunk's code; it must give the standard
library's encoding of the whole text, byte for byte, whatever the text holds.
"""

from __future__ import annotations

import binascii
import email.policy
from datetime import UTC, datetime
from email import message_from_bytes

from hypothesis import given
from hypothesis import strategies as st

from consentry.adapters.mime import CHUNKS_KEPT, Mail, _qp, mime
from consentry.domain.memo import Memo


def whole(text: str) -> bytes:
    """The encoding before chunks: the whole text, CRLF line ends, at once."""
    crlf = text.replace("\r\n", "\n").replace("\n", "\r\n")
    if not crlf.endswith("\r\n"):
        crlf += "\r\n"
    return binascii.b2a_qp(crlf.encode(), istext=True)


# Lines with what quoted-printable treats apart: '=', trailing blanks, a lone dot, CR, long runs.
PIECES = st.sampled_from(["\n", "\n\n", "\r\n", "\r", " ", "\t", "=", ".", "é", "x" * 90, "Hallo Anna,"])
TEXTS = st.lists(st.one_of(PIECES, st.text(max_size=20)), max_size=30).map("".join)


@given(TEXTS)
def test_chunks_encode_as_the_whole_text_by_paragraphs_and_by_lines(text: str) -> None:
    kept: Memo[str, bytes] = Memo(CHUNKS_KEPT)
    assert _qp(text) == whole(text)
    assert _qp(text, "\n", kept) == whole(text)
    assert _qp(text, "\n", kept) == whole(text)  # again, now from the remembered chunks
    assert _qp(text, kept=kept) == whole(text)  # the same memo, chunked by paragraphs


def test_a_full_memo_starts_afresh_and_still_encodes_the_whole() -> None:
    kept: Memo[str, bytes] = Memo(CHUNKS_KEPT)
    for i in range(CHUNKS_KEPT + 10):
        text = f"Hallo {i},\n\nDe najaarskoffie = er.\n"
        assert _qp(text, kept=kept) == whole(text)
        assert len(kept) <= CHUNKS_KEPT


def test_a_campaign_like_message_reads_back_whole() -> None:
    text = (
        "Hallo Anna,\n\n"
        + "De najaarskoffie is er: vol, rond en een beetje nootachtig.\n" * 12
        + "\n-- \n=1\n"
    )
    html = (
        '<!doctype html>\n<html lang="nl"><body>\n<p>Hallo Anna,</p>\n<p>'
        + "x" * 500
        + "</p>\n</body></html>\n"
    )
    m = Mail(
        "De Boon <n@deboon.example>",
        "anna@example.nl",
        "Koffie",
        text,
        "k.1@deboon.example",
        datetime(2026, 11, 23, 12, tzinfo=UTC),
        "nl",
        html=html,
    )
    raw = mime(m)
    body = raw.partition(b"\r\n\r\n")[2]
    assert max(len(line) for line in body.split(b"\r\n")) <= 76  # quoted-printable's limit
    parsed = message_from_bytes(raw, policy=email.policy.default)
    plain, rich = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and rich is not None
    # the parts read back as written (the parser keeps the CRLF line ends of the wire)
    assert plain.get_content().replace("\r\n", "\n") == text  # type: ignore[attr-defined]
    assert rich.get_content().replace("\r\n", "\n") == html  # type: ignore[attr-defined]
