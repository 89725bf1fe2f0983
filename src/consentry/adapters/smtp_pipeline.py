"""E-mail for campaigns: building the message bytes, DKIM signing, and a two-step SMTP session.

The session speaks SMTP at the command level (smtplib's putcmd/getreply/send):
MAIL, RCPT and DATA, then the dot-stuffed message *without* the final line
with a single dot. A server discards a message whose connection drops before
that dot arrives, so until `commit` writes it nothing has been delivered.

Messages are built by hand rather than with `email.message`: the standard
library's builder costs milliseconds a message, this a few tens of
microseconds, and campaigns send thousands a second. The format is the
plain one every client reads: multipart/alternative of quoted-printable
text and HTML, non-ASCII header words as RFC 2047 encoded words.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, formataddr
from pathlib import Path

import dkim

from consentry.adapters.transport import Outgoing, Reply
from consentry.settings import Settings

#: Headers the DKIM signature covers; signing an absent one keeps it from being added later.
DKIM_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "mime-version",
    "content-type",
    "content-language",
)
_LINE_START_DOT = re.compile(rb"(?m)^\.")


# -- building messages ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mail:
    """What a campaign e-mail says, ready to be written out."""

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


def encoded_words(text: str) -> str:
    """A header value as RFC 2047 encoded words where it is not ASCII, folded to short lines."""
    if text.isascii():
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


def _qp(text: str) -> bytes:
    crlf = text.replace("\r\n", "\n").replace("\n", "\r\n")
    if not crlf.endswith("\r\n"):
        crlf += "\r\n"
    return binascii.b2a_qp(crlf.encode(), istext=True)


def _fold(name: str, value: str) -> bytes:
    """One header line; long lists of <...> items are folded after their commas."""
    line = f"{name}: {value}"
    if len(line) > 78 and ">, <" in value:
        line = f"{name}: " + ",\r\n ".join(value.split(", "))
    return line.encode()


def mime(m: Mail) -> bytes:
    """The message as bytes with CRLF line ends (not yet dot-stuffed)."""
    boundary = "=_cs_" + hashlib.sha1(m.message_id.encode()).hexdigest()[:24]
    headers = [
        _fold("From", m.sender),
        _fold("To", m.to),
        b"Subject: " + encoded_words(m.subject).encode(),
        b"Date: " + format_datetime(m.date).encode(),
        f"Message-ID: <{m.message_id}>".encode(),
        b"MIME-Version: 1.0",
        f"Content-Language: {m.lang}".encode(),
    ]
    if m.reply_to:
        headers.append(_fold("Reply-To", m.reply_to))
    headers.extend(_fold(name, value) for name, value in m.extra_headers)
    text_part = [b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: quoted-printable"]
    if m.html is None:
        return b"\r\n".join([*headers, *text_part, b"", _qp(m.text)])
    sep = f"--{boundary}".encode()
    return b"\r\n".join(
        [
            *headers,
            f'Content-Type: multipart/alternative; boundary="{boundary}"'.encode(),
            b"",
            sep,
            *text_part,
            b"",
            _qp(m.text),
            sep,
            b"Content-Type: text/html; charset=utf-8",
            b"Content-Transfer-Encoding: quoted-printable",
            b"",
            _qp(m.html),
            sep + b"--",
            b"",
        ]
    )


class DkimSigner:
    """Signs messages with DKIM (dkimpy; rsa-sha256, relaxed/relaxed)."""

    def __init__(self, domain: str, selector: str, private_key: bytes) -> None:
        self.domain = domain.encode()
        self.selector = selector.encode()
        self.key = private_key
        self.headers = [h.encode() for h in DKIM_HEADERS]

    @classmethod
    def from_settings(cls, s: Settings) -> DkimSigner | None:
        """The signer the settings name, or None when DKIM is not configured."""
        if not (s.dkim_domain and s.dkim_selector and s.dkim_key_file):
            return None
        return cls(s.dkim_domain, s.dkim_selector, Path(s.dkim_key_file).read_bytes())

    def sign(self, message: bytes) -> bytes:
        """The message with its DKIM-Signature header in front."""
        signature = dkim.sign(
            message,
            self.selector,
            self.domain,
            self.key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=self.headers,
        )
        return bytes(signature) + message


# -- the session ----------------------------------------------------------------------------


def dot_stuffed(data: bytes) -> bytes:
    """The message as sent after DATA: a leading dot doubled on every line, ending in CRLF."""
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return _LINE_START_DOT.sub(b"..", data)


class SmtpSession:
    """One SMTP connection that prepares a message up to its final dot (see the module docstring)."""

    revocable = True

    def __init__(self, settings: Settings) -> None:
        self.s = settings
        self._conn: smtplib.SMTP | None = None
        self._pending = False
        self._lost: Exception | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.s
        if s.smtp_ssl:
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=ssl.create_default_context()
            )
        else:
            conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
        conn.ehlo()
        if s.smtp_starttls and not s.smtp_ssl:
            conn.starttls(context=ssl.create_default_context())
            conn.ehlo()
        if s.smtp_user:
            conn.login(s.smtp_user, s.smtp_password or "")
        return conn

    def prepare(self, msg: Outgoing) -> Reply:
        """MAIL, RCPT, DATA and the message without its final dot; 354 when it waits for `commit`."""
        assert not self._pending, "the last message was neither committed nor aborted"
        if any(ch in msg.sender + msg.to for ch in "\r\n<> "):
            return Reply(553, "the address cannot be put in an SMTP command")
        try:
            conn = self._conn = self._conn or self._open()
            wide = not (msg.sender + msg.to).isascii()
            if wide and not conn.has_extn("smtputf8"):
                return Reply(553, "the address needs SMTPUTF8, which the server does not offer")
            # Addresses are normalised (no spaces, CR or LF): put them in the commands as they are,
            # without smtplib's address parsing, which costs more than the rest of the exchange.
            conn.putcmd("mail", f"FROM:<{msg.sender}>" + (" SMTPUTF8" if wide else ""))
            code, text = conn.getreply()
            if code == 250:
                conn.putcmd("rcpt", f"TO:<{msg.to}>")
                code, text = conn.getreply()
            if code in (250, 251):
                conn.putcmd("data")
                code, text = conn.getreply()
            if code != 354:
                return self._refused(code, text)
            conn.send(dot_stuffed(msg.data))
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            return Reply(451, f"connection failed: {exc}")
        self._pending, self._lost = True, None
        return Reply(354, "waiting for the final dot")

    def _refused(self, code: int, text: bytes) -> Reply:
        reply = Reply(code, text.decode("utf-8", "replace"))
        if code == 421 or code < 0:
            self._drop()
            return Reply(451 if code < 0 else 421, reply.text or "the server closed the connection")
        try:
            assert self._conn is not None
            self._conn.rset()
        except (OSError, smtplib.SMTPException):
            self._drop()
        return reply

    def commit(self) -> None:
        """Write the final dot (the kernel delivers it even if this process dies right after)."""
        # The thread that prepared the message may be reading the reply (or dropping the
        # connection after an error) meanwhile: take the socket once.
        conn = self._conn
        sock = conn.sock if conn is not None else None
        if sock is None:
            self._lost = ConnectionError("the connection was closed")
            return
        try:
            sock.sendall(b".\r\n")
        except OSError as exc:
            self._lost = exc

    def outcome(self) -> Reply:
        """The server's answer to the message."""
        self._pending = False
        if self._lost is not None or self._conn is None:
            self._drop()
            return Reply(451, f"connection lost before the final dot: {self._lost}")
        try:
            code, text = self._conn.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            return Reply(451, f"no answer after the message: {exc}")
        if code == 421:
            self._drop()
        return Reply(code, text.decode("utf-8", "replace"))

    def hang_up(self) -> None:
        """From another thread: end the connection without the final dot, waking a waiting `outcome`.

        The sender's connection threads wait for the reply to the dot on the socket
        itself (woken by the server, not by the committing thread); a message that may
        not go is stopped this way. The server discards it, as after `abort`.
        """
        conn = self._conn
        sock = conn.sock if conn is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def abort(self) -> None:
        """Hang up without the final dot: the server discards the message."""
        self._pending = False
        self._drop()

    def close(self) -> None:
        """QUIT (or just hang up, mid-message)."""
        if self._conn is not None and not self._pending:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._conn.quit()
        self.abort()

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
        self._conn = None


class SmtpTransport:
    """Opens SMTP sessions to the configured server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def session(self) -> SmtpSession:
        """A new session; it connects on its first message."""
        return SmtpSession(self.settings)
