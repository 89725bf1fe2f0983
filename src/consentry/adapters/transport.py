"""What the sender needs from a transport: sessions that can hold a message back until told to let go.

A session delivers in two steps so that a message is recorded as sent in the
same instant it becomes irrevocable (see consentry.services.sending):

1. `prepare` does everything short of the irrevocable step and answers like
   an SMTP server: 354 (ready), or a 4xx/5xx refusal;
2. after the caller has committed, `commit` takes the irrevocable step without
   waiting for anything, and `outcome` reads the transport's answer.

A `revocable` session can still `abort` a prepared message (SMTP: hang up
before the final dot). A session that is not revocable (an HTTP webhook) has
already handed the message over in `prepare`, and relies on the idempotency
key to make a repeated hand-over harmless.

Sessions come in two kinds. A blocking `Session` (the webhook) is driven from a
pool of threads, one call at a time. An `AsyncSession` (SMTP) is a state machine
on the sender's event loop: one thread drives every connection, and `commit`,
which must not wait, is a plain call that puts the last bytes in the kernel's
socket buffer before it returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message as the transport carries it."""

    #: Unique per (campaign, contact point): the Message-ID, or the idempotency key.
    key: str
    to: str
    #: E-mail: the envelope sender; other transports ignore it.
    sender: str
    #: E-mail: the whole message (CRLF lines); other transports: the UTF-8 text.
    data: bytes
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reply:
    """A transport's answer, in SMTP's terms: 2xx done, 354 ready, 4xx try later, 5xx never."""

    code: int
    text: str = ""

    @property
    def ok(self) -> bool:
        """Delivered (or, after `prepare`, ready to be)."""
        return 200 <= self.code < 400

    @property
    def temporary(self) -> bool:
        """Refused for now; worth another attempt later."""
        return 400 <= self.code < 500

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class Session(Protocol):
    """One connection to a transport, used by one thread at a time."""

    revocable: bool

    def prepare(self, msg: Outgoing) -> Reply:
        """Everything short of the irrevocable step; 354 when the message waits for `commit`."""
        ...

    def commit(self) -> None:
        """Take the irrevocable step for the prepared message, without waiting for an answer."""
        ...

    def outcome(self) -> Reply:
        """The transport's answer to the committed message."""
        ...

    def abort(self) -> None:
        """Drop the prepared message (revocable sessions only)."""
        ...

    def close(self) -> None:
        """Close the connection, politely where possible."""
        ...


class Transport(Protocol):
    """Opens sessions; the sender opens one per unit of concurrency."""

    def session(self) -> Session:
        """A new session (connecting lazily is fine)."""
        ...


class AsyncSession(Protocol):
    """One connection driven by the sender's event loop; the steps mean what they mean for `Session`."""

    revocable: bool

    async def prepare(self, msg: Outgoing) -> Reply:
        """Everything short of the irrevocable step; 354 when the message waits for `commit`."""
        ...

    def commit(self) -> None:
        """Take the irrevocable step now, synchronously: the bytes are handed to the kernel on return."""
        ...

    async def outcome(self) -> Reply:
        """The transport's answer to the committed message."""
        ...

    def abort(self) -> None:
        """Drop the prepared message (or whatever is under way) at once: hang up."""
        ...

    async def close(self) -> None:
        """Close the connection, politely where possible."""
        ...


@runtime_checkable
class AsyncTransport(Protocol):
    """Opens sessions for the sender's event loop."""

    def async_session(self) -> AsyncSession:
        """A new session (connecting lazily is fine)."""
        ...
