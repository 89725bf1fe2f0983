"""E-mail for campaigns: DKIM signing and a two-step SMTP session.

The session speaks SMTP on an asyncio event loop, one thread driving all of a
sender's connections (a thread per connection cost more in switches than the
SMTP itself): MAIL, RCPT and DATA, then the dot-stuffed message *without* the
final line with a single dot. A server discards a message whose connection drops before
that dot arrives, so until `commit` writes it nothing has been delivered.

The message bytes come from `consentry.adapters.mime`, the builder the
confirmation mails use too.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
import ssl
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

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
    # A byte replace, not a multiline regex: a quoted-printable part puts dots at line starts
    # in most campaign messages, and the regex cost ~10 µs a message.
    stuffed = data.replace(b"\n.", b"\n..")
    return b"." + stuffed if stuffed.startswith(b".") else stuffed


#: What an address may not carry into an SMTP command.
_UNSAFE = re.compile(r"[\r\n<> ]")
#: The replies an envelope needs, step by step: MAIL 250, RCPT 250 or 251, DATA 354.
_ENVELOPE_OK = ((250,), (250, 251), (354,))


@dataclass(slots=True)
class _Envelope:
    """A message's MAIL, RCPT and DATA under way (`_Wire.envelope`): what is left to write, the replies."""

    commands: tuple[bytes, bytes, bytes]
    data: bytes
    pipelined: bool
    timeout: float
    got: list[tuple[int, bytes]] = field(default_factory=list)
    failed: ConnectionError | None = None


class SmtpError(Exception):
    """The server ended the conversation while the connection was set up (greeting, EHLO, TLS, AUTH)."""


class _Wire(asyncio.Protocol):
    """One connection's bytes: writes go straight to the transport, replies are parsed as they arrive.

    The write buffer's high-water mark is 0, so `drained` returns only when every byte
    written is in the kernel's socket buffer: what is there is delivered even if this
    process dies, what waits in user space is not.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.lines: list[bytes] = []
        self.replies: deque[tuple[int, bytes]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.lost: ConnectionError | None = None
        #: When the present wait times out (loop time); the watchdog checks it.
        self.deadline = 0.0
        self.watchdog: asyncio.TimerHandle | None = None
        self.watch_at = 0.0  # when the watchdog fires
        self.envelope_: _Envelope | None = None  # the envelope under way, driven by the replies

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.attach(cast(asyncio.Transport, transport))  # uvloop's transports do not subclass it

    def attach(self, transport: asyncio.Transport) -> None:
        """Use this transport (a new one after STARTTLS)."""
        self.transport = transport
        transport.set_write_buffer_limits(high=0)

    def data_received(self, data: bytes) -> None:
        if not self.buf and not self.lines and data[3:4] == b" " and data.find(b"\n") == len(data) - 1:
            # One whole one-line reply, as nearly every answer to a message is: no splitting.
            code = int(data[:3]) if data[:3].isdigit() else -1
            self.replies.append((code, data[4:].strip(b" \t\r\n")))
            self._answered()
            return
        buf = self.buf + data if self.buf else data
        start = 0
        while (end := buf.find(b"\n", start)) >= 0:
            line = buf[start:end]
            start = end + 1
            self.lines.append(line)
            if line[3:4] != b"-":  # the last line of a reply: "250 ok", not "250-..."
                lines, self.lines = self.lines, []
                code = int(line[:3]) if line[:3].isdigit() else -1
                self.replies.append((code, b"\n".join(x[4:].strip(b" \t\r") for x in lines)))
        self.buf = buf[start:]
        if len(self.buf) > 65536:
            self.abort()
        if self.replies:
            self._answered()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = ConnectionError(f"the connection was closed{f' ({exc})' if exc else ''}")
        self._wake()

    def resume_writing(self) -> None:
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def _answered(self) -> None:
        """Replies came: the envelope under way takes its next step, or the waiting reader wakes."""
        if self.envelope_ is None:
            self._wake()
            return
        e = self.envelope_
        while self.replies:
            reply = self.replies.popleft()
            e.got.append(reply)
            step = len(e.got)
            ok = reply[0] in _ENVELOPE_OK[step - 1]
            if step < 3 and (ok or e.pipelined):
                self.deadline = self.loop.time() + e.timeout  # each reply has the timeout to come
                if not e.pipelined:
                    self._write_for(e, e.commands[step])
                if e.failed is None:
                    continue
            elif ok and all(r[0] in accepted for r, accepted in zip(e.got, _ENVELOPE_OK, strict=True)):
                self._write_for(e, e.data)
            self.envelope_ = None  # done: accepted and the data written, refused, or failed
            self._wake()
            return

    def _write_for(self, e: _Envelope, data: bytes) -> None:
        try:
            self.write(data)
        except (OSError, RuntimeError) as exc:  # closing under the callback: the envelope ends here
            e.failed = exc if isinstance(exc, ConnectionError) else ConnectionError(str(exc))

    async def _wait(self, timeout: float) -> None:
        # No timer a wait (four a message): one watchdog a connection, armed when none is, that
        # looks at the present wait's deadline when it fires and sleeps on until it.
        self.deadline = self.loop.time() + timeout
        if self.watchdog is None or self.watch_at > self.deadline:
            self._arm()
        self.waiter = waiter = self.loop.create_future()
        try:
            await waiter
        finally:
            self.waiter = None

    def _arm(self) -> None:
        if self.watchdog is not None:
            self.watchdog.cancel()
        self.watch_at = self.deadline
        self.watchdog = self.loop.call_at(self.deadline, self._watch)

    def _watch(self) -> None:
        """The watchdog: expire a wait past its deadline; sleep until the next deadline, if any."""
        self.watchdog = None
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self.loop.time() >= self.deadline:
            waiter.set_exception(TimeoutError("the server did not answer in time"))
        else:
            self._arm()

    def write(self, data: bytes) -> None:
        """Hand bytes to the transport (to the kernel at once, unless its buffer is full)."""
        if self.lost is not None or self.transport is None:
            raise self.lost or ConnectionError("not connected")
        self.transport.write(data)

    async def envelope(
        self, mail: bytes, rcpt: bytes, data: bytes, pipelined: bool, timeout: float
    ) -> list[tuple[int, bytes]]:
        """MAIL, RCPT and DATA, then on 354 the data (without its final dot); the replies, up to
        the first refusal (all three when `pipelined`: written at once, as RFC 2920 allows).

        Each command and the data are written from the reply callback (`_answered`), so a
        message costs the caller one wait rather than one a reply. Each reply has `timeout` to
        come, as `reply` gives it.
        """
        e = _Envelope((mail, rcpt, b"DATA\r\n"), data, pipelined, timeout)
        self.envelope_ = e
        try:
            self.write(mail + rcpt + b"DATA\r\n" if pipelined else mail)
            while self.envelope_ is e:
                if self.lost is not None:
                    raise self.lost
                await self._wait(timeout)
        finally:
            if self.envelope_ is e:
                self.envelope_ = None
        if e.failed is not None:
            raise e.failed
        return e.got

    async def reply(self, timeout: float) -> tuple[int, bytes]:
        """The next reply: its code (-1 when unreadable) and its text, lines joined by LF."""
        while not self.replies:
            if self.lost is not None:
                raise self.lost
            await self._wait(timeout)
        return self.replies.popleft()

    async def drained(self, timeout: float) -> None:
        """Return once everything written is in the kernel's socket buffer."""
        while self.transport is not None and self.transport.get_write_buffer_size():
            if self.lost is not None:
                raise self.lost
            await self._wait(timeout)
        if self.lost is not None:
            raise self.lost

    def abort(self) -> None:
        """Hang up at once, discarding anything not yet written."""
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None
        if self.transport is not None:
            self.transport.abort()


class SmtpSession:
    """One SMTP connection on the sender's event loop that prepares a message up to its final dot.

    MAIL, RCPT and DATA go one by one, or in one write when the server offers
    PIPELINING (RFC 2920); the message follows the 354 without its final dot, and
    `prepare` returns only once all of it is in the kernel's socket buffer. `commit`
    writes the dot synchronously (a three-byte write to an empty buffer goes to the
    kernel in the same call). STARTTLS, implicit TLS and AUTH PLAIN/LOGIN are
    spoken when the settings ask for them.
    """

    revocable = True

    def __init__(self, settings: Settings, local_hostname: str) -> None:
        self.s = settings
        self.local = local_hostname
        self.wire: _Wire | None = None
        self.extensions: dict[str, str] = {}
        self.pending = False
        self.lost: Exception | None = None

    # -- setting up ----------------------------------------------------------------------------

    async def _open(self) -> _Wire:
        s = self.s
        loop = asyncio.get_running_loop()
        context = ssl.create_default_context() if s.smtp_ssl or s.smtp_starttls else None
        wire = _Wire(loop)
        await asyncio.wait_for(
            loop.create_connection(
                lambda: wire, s.smtp_host, s.smtp_port, ssl=context if s.smtp_ssl else None
            ),
            s.smtp_timeout,
        )
        try:
            self._expect(await wire.reply(s.smtp_timeout), 220, "greeting")
            await self._ehlo(wire)
            if s.smtp_starttls and not s.smtp_ssl:
                if "STARTTLS" not in self.extensions:
                    raise SmtpError("the server does not offer STARTTLS")
                self._expect(await self._command(wire, b"STARTTLS"), 220, "STARTTLS")
                assert wire.transport is not None and context is not None
                tls = await loop.start_tls(wire.transport, wire, context, server_hostname=s.smtp_host)
                assert tls is not None
                wire.attach(tls)
                await self._ehlo(wire)
            if s.smtp_user:
                await self._login(wire, s.smtp_user, s.smtp_password or "")
        except BaseException:
            wire.abort()
            raise
        return wire

    async def _command(self, wire: _Wire, line: bytes) -> tuple[int, bytes]:
        wire.write(line + b"\r\n")
        return await wire.reply(self.s.smtp_timeout)

    @staticmethod
    def _expect(reply: tuple[int, bytes], code: int, what: str) -> None:
        if reply[0] != code:
            raise SmtpError(f"{what}: {reply[0]} {reply[1].decode('utf-8', 'replace')}")

    async def _ehlo(self, wire: _Wire) -> None:
        name = self.local.encode("ascii", "replace")
        code, text = await self._command(wire, b"EHLO " + name)
        if code != 250:
            self.extensions = {}
            self._expect(await self._command(wire, b"HELO " + name), 250, "HELO")
            return
        found = {}
        for line in text.decode("ascii", "replace").split("\n")[1:]:
            keyword, _, params = line.partition(" ")
            found[keyword.upper()] = params
        self.extensions = found

    async def _login(self, wire: _Wire, user: str, password: str) -> None:
        methods = self.extensions.get("AUTH", "").upper().split()
        if "PLAIN" in methods:
            token = base64.b64encode(f"\0{user}\0{password}".encode())
            self._expect(await self._command(wire, b"AUTH PLAIN " + token), 235, "AUTH PLAIN")
        elif "LOGIN" in methods:
            self._expect(await self._command(wire, b"AUTH LOGIN"), 334, "AUTH LOGIN")
            self._expect(await self._command(wire, base64.b64encode(user.encode())), 334, "AUTH LOGIN")
            self._expect(await self._command(wire, base64.b64encode(password.encode())), 235, "AUTH LOGIN")
        else:
            raise SmtpError(f"the server offers no AUTH method spoken here (PLAIN, LOGIN): {methods}")

    # -- a message -----------------------------------------------------------------------------

    async def prepare(self, msg: Outgoing) -> Reply:
        """MAIL, RCPT, DATA and the message without its final dot; 354 when it waits for `commit`."""
        assert not self.pending, "the last message was neither committed nor aborted"
        if _UNSAFE.search(msg.sender) or _UNSAFE.search(msg.to):
            return Reply(553, "the address cannot be put in an SMTP command")
        timeout = self.s.smtp_timeout
        try:
            wire = self.wire = self.wire or await self._open()
        except (OSError, SmtpError) as exc:
            self._drop()
            return Reply(451, f"connection failed: {exc}")
        wide = not (msg.sender + msg.to).isascii()
        if wide and "SMTPUTF8" not in self.extensions:
            return Reply(553, "the address needs SMTPUTF8, which the server does not offer")
        # Addresses are normalised (no spaces, CR or LF): they go into the commands as they are.
        mail = f"MAIL FROM:<{msg.sender}>{' SMTPUTF8' if wide else ''}\r\n".encode()
        rcpt = f"RCPT TO:<{msg.to}>\r\n".encode()
        try:
            pipelined = "PIPELINING" in self.extensions
            replies = await wire.envelope(mail, rcpt, dot_stuffed(msg.data), pipelined, timeout)
            refused = next((r for r, ok in zip(replies, _ENVELOPE_OK, strict=False) if r[0] not in ok), None)
            if refused is not None:
                if len(replies) == 3 and replies[2][0] == 354:
                    self._drop()  # pipelined: it waits for a message that is not coming
                    return Reply(refused[0], refused[1].decode("utf-8", "replace"))
                return await self._refused(*refused)
            await wire.drained(timeout)
        except OSError as exc:
            self._drop()
            return Reply(451, f"connection failed: {exc}")
        self.pending, self.lost = True, None
        return Reply(354, "waiting for the final dot")

    async def _refused(self, code: int, text: bytes) -> Reply:
        reply = Reply(code, text.decode("utf-8", "replace"))
        if code == 421 or code < 0:
            self._drop()
            return Reply(451 if code < 0 else 421, reply.text or "the server closed the connection")
        try:
            assert self.wire is not None
            await self._command(self.wire, b"RSET")
        except OSError:
            self._drop()
        return reply

    def commit(self) -> None:
        """Write the final dot, now: it is in the kernel's socket buffer when this returns."""
        wire = self.wire
        if wire is None or wire.lost is not None:
            self.lost = ConnectionError("the connection was closed")
            return
        try:
            wire.write(b".\r\n")
        except OSError as exc:
            self.lost = exc

    async def outcome(self) -> Reply:
        """The server's answer to the message."""
        self.pending = False
        if self.lost is not None or self.wire is None:
            self._drop()
            return Reply(451, f"connection lost before the final dot: {self.lost}")
        try:
            code, text = await self.wire.reply(self.s.smtp_timeout)
        except OSError as exc:
            self._drop()
            return Reply(451, f"no answer after the message: {exc}")
        if code == 421:
            self._drop()
        return Reply(code, text.decode("utf-8", "replace"))

    def abort(self) -> None:
        """Hang up without the final dot: the server discards the message."""
        self.pending = False
        self._drop()

    async def close(self) -> None:
        """QUIT (or just hang up, mid-message)."""
        wire = self.wire
        if wire is not None and not self.pending and wire.lost is None:
            with contextlib.suppress(OSError):
                wire.write(b"QUIT\r\n")
                await wire.reply(min(self.s.smtp_timeout, 5.0))
        self.abort()

    def _drop(self) -> None:
        if self.wire is not None:
            self.wire.abort()
        self.wire = None


class SmtpTransport:
    """Opens SMTP sessions to the configured server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local: str | None = None

    def session(self) -> SmtpSession:
        """A new session; it connects on its first message."""
        if self._local is None:
            self._local = socket.getfqdn()  # what smtplib says in EHLO
        return SmtpSession(self.settings, self._local)
