"""Writing an e-mail out as bytes: one builder for every message consentry sends.

Campaign messages (`consentry.adapters.smtp_pipeline`) and the public flows'
confirmation mails (`consentry.adapters.mailer`) are both written here.
Messages are built by hand rather than with `email.message`: the standard
library's builder costs milliseconds a message, this a few tens of
microseconds, and campaigns send thousands a second. The format is the
plain one every client reads: multipart/alternative of quoted-printable
text and HTML, non-ASCII header words as RFC 2047 encoded words.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, formataddr
from functools import lru_cache

from consentry.domain.memo import Memo


@dataclass(frozen=True, slots=True)
class Mail:
    """What an e-mail says, ready to be written out."""

    sender: str
    to: str
    subject: str
    text: str
    message_id: str
    date: datetime
    lang: str
    html: str | None = None
    reply_to: str | None = None
    extra_headers: Sequence[tuple[str, str]] = field(default_factory=tuple)


def encoded_words(text: str, always: bool = False) -> str:
    """A header value as RFC 2047 encoded words where it is not ASCII (or `always`), folded to short lines."""
    if text.isascii() and not always:
        return text
    words, chunk = [], b""
    for ch in text:
        b = ch.encode()
        if len(chunk) + len(b) > 45:
            words.append(chunk)
            chunk = b""
        chunk += b
    if chunk:
        words.append(chunk)
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode()}?=" for w in words)


def address(name: str, addr: str) -> str:
    """A From or To value: the name (encoded where needed) and the address."""
    if name.isascii():
        return formataddr((name, addr))
    return f"{encoded_words(name)} <{addr}>"


#: Chunks a sender's memo keeps (`_qp`, a `Memo`): a campaign's own paragraphs are a
#: handful; the personal lines (names, links with tokens) churn through.
CHUNKS_KEPT = 512


def _qp(text: str, sep: str = "\n\n", kept: Memo[str, bytes] | None = None) -> bytes:
    """The text quoted-printable with CRLF line ends, ending in one.

    Written in chunks of whole lines (split after each `sep`, a run of line ends):
    quoted-printable starts afresh after every line end, so the chunks' codes joined are
    the code of the whole, byte for byte. With `kept` (a campaign sender's memo, dropped
    with its send) each chunk is encoded once: a campaign's messages share most of their
    paragraphs (a message of 4 KB spent ~40 µs in the encoder). No memo lives longer than
    its caller, so no person's words or links stay in a process after their send.
    """
    chunks = (text.replace("\r\n", "\n") if "\r" in text else text).split(sep)
    last = chunks.pop()
    wanted = [chunk + sep for chunk in chunks]
    if last or not wanted:
        wanted.append(last if last.endswith("\n") else last + "\n")
    if kept is None:
        return b"".join(map(_qp_chunk, wanted))
    return b"".join(kept.many(wanted, _qp_chunk))


def _qp_chunk(lines: str) -> bytes:
    """Whole lines (each ending in LF) quoted-printable, with CRLF line ends."""
    return binascii.b2a_qp(lines.replace("\n", "\r\n").encode(), istext=True)


def _fold(name: str, value: str) -> bytes:
    """One header line; long lists of <...> items are folded after their commas."""
    line = f"{name}: {value}"
    if len(line) > 78 and ">, <" in value:
        line = f"{name}: " + ",\r\n ".join(value.split(", "))
    return line.encode()


#: The line length RFC 5322 asks for (2.1.1); 998 is the hard limit SMTP servers enforce.
_LINE = 78


def _subject(text: str) -> bytes:
    """The Subject line, folded where it is long: a subject rendered with long names can pass
    SMTP's 998-character line limit, and a server refuses such a line."""
    if not text.isascii():
        return b"Subject: " + encoded_words(text).encode()  # encoded words are short lines
    line = f"Subject: {text}"
    if len(line) <= _LINE:
        return line.encode()
    words = text.split(" ")
    if "" in words or max(map(len, words)) > _LINE:
        # A word longer than a line, or runs of spaces, cannot be folded at a space: as encoded
        # words (whose spaces are inside them) it splits anywhere and reads back exactly. (The
        # email package's folder was not used: it drops a space between such words.)
        return b"Subject: " + encoded_words(text, always=True).encode()
    lines, line = [], f"Subject: {words[0]}"
    for word in words[1:]:
        if len(line) + 1 + len(word) > _LINE:
            lines.append(line)
            line = f" {word}"  # folding: the line break goes before the space (RFC 5322 2.2.3)
        else:
            line = f"{line} {word}"
    lines.append(line)
    return "\r\n".join(lines).encode()


@lru_cache(maxsize=8)
def _date_line(moment: datetime) -> bytes:
    return b"Date: " + format_datetime(moment).encode()


def _date(moment: datetime) -> bytes:
    """The Date header line (a message a second or more share one: made once a second)."""
    return _date_line(moment.replace(microsecond=0))


def mime(m: Mail, kept: Memo[str, bytes] | None = None) -> bytes:
    """The message as bytes with CRLF line ends (not yet dot-stuffed); `kept`: a sender's memo of
    encoded chunks (`_qp`)."""
    boundary = "=_cs_" + hashlib.sha1(m.message_id.encode()).hexdigest()[:24]
    headers = [
        _fold("From", m.sender),
        _fold("To", m.to),
        _subject(m.subject),
        _date(m.date),
        f"Message-ID: <{m.message_id}>".encode(),
        b"MIME-Version: 1.0",
        f"Content-Language: {m.lang}".encode(),
    ]
    if m.reply_to:
        headers.append(_fold("Reply-To", m.reply_to))
    headers.extend(_fold(name, value) for name, value in m.extra_headers)
    text_part = [b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: quoted-printable"]
    if m.html is None:
        return b"\r\n".join([*headers, *text_part, b"", _qp(m.text, kept=kept)])
    sep = f"--{boundary}".encode()
    return b"\r\n".join(
        [
            *headers,
            f'Content-Type: multipart/alternative; boundary="{boundary}"'.encode(),
            b"",
            sep,
            *text_part,
            b"",
            _qp(m.text, kept=kept),
            sep,
            b"Content-Type: text/html; charset=utf-8",
            b"Content-Transfer-Encoding: quoted-printable",
            b"",
            _qp(m.html, "\n", kept),
            sep + b"--",
            b"",
        ]
    )
