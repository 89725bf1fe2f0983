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

Every transport (SMTP, the webhook) is one `Transport`: it opens
`AsyncSession`s, driven by the sender's event loop: one thread drives every
connection, and `commit`, which must not wait, is a plain call that puts the
last bytes in the kernel's socket buffer before it returns. A transport whose
calls block (the webhook's HTTP client) writes a blocking `Session` and wraps
it in `Threaded`, which runs its waiting calls on a thread of its own.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
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


#: What stands for an e-mail address in a server's words once they are stored.
ADDRESS = "<address>"

#: An e-mail address in a server's answer, simply: an `@` with non-space characters on both
#: sides (no check that it is a valid one). In angle brackets it goes with its brackets; bare,
#: it starts after a `:` `(` `[` `,` `;` or quote (`TO:jan@...`) and ends at its last letter or
#: digit (or a literal's `]`), so the sentence's own "." or ")" stays, and a `,` or `;` ends
#: it. A quoted local part (`"jan jansen"@...`) goes whole.
_ADDRESS = re.compile(
    r"<[^\s<>]+@[^\s<>]+>"
    r'|(?:"[^"\n]*"|[^\s<>()\[\],;:"]+)@[^\s<>,;]*[\w\]]'
)


def without_addresses(text: str) -> str:
    """A transport's answer fit to store: every e-mail address in it replaced by `ADDRESS`.

    A server's refusal often quotes the recipient (`550 5.1.1 <jan@example.com>: Recipient
    address rejected`); the code and the reason are what an operator needs, and a stored
    address would outlive the person's erasure (a campaign's note is no one's row).
    """
    return _ADDRESS.sub(ADDRESS, text) if "@" in text else text


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
class Transport(Protocol):
    """Opens sessions; the sender opens one per unit of concurrency, all on its event loop."""

    def session(self) -> AsyncSession:
        """A new session (connecting lazily is fine)."""
        ...


class Threaded:
    """A blocking session on the event loop: its waiting calls run on a thread of its own.

    `commit` and `abort` do not wait, so they run on the loop's thread, in the
    order the sender calls them.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.revocable = session.revocable
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="send")

    async def prepare(self, msg: Outgoing) -> Reply:
        """`Session.prepare` on the session's thread."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.session.prepare, msg)

    def commit(self) -> None:
        """`Session.commit`, now."""
        self.session.commit()

    async def outcome(self) -> Reply:
        """`Session.outcome` on the session's thread."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.session.outcome)

    def abort(self) -> None:
        """`Session.abort`, now."""
        self.session.abort()

    async def close(self) -> None:
        """`Session.close` on the session's thread, which then ends."""
        try:
            await asyncio.get_running_loop().run_in_executor(self.pool, self.session.close)
        finally:
            self.pool.shutdown(wait=False)
