"""The campaign sender's SMTP session on its own, against a real server (aiosmtpd).

`consentry.adapters.smtp_pipeline.SmtpSession` runs on an event loop: these tests
drive it directly through the two steps (prepare up to the final dot, then commit
or abort) with the server features the sender's integration tests do not reach:
PIPELINING (RFC 2920; aiosmtpd does not offer it unless told to), AUTH, and a
server that refuses mid-pipeline.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from conftest import free_port, serving_smtp
from consentry.adapters.smtp_pipeline import SmtpSession, SmtpTransport, dot_stuffed
from consentry.adapters.transport import Outgoing
from consentry.settings import Settings

MESSAGE = b"From: a@example.nl\r\nTo: b@example.nl\r\nSubject: x\r\n\r\nhallo\r\n.met een punt\r\n"


class Server:
    """Keeps what arrives; refuses scripted recipients; can offer PIPELINING."""

    def __init__(self, pipelining: bool = False) -> None:
        self.pipelining = pipelining
        self.received: list[tuple[str, bytes]] = []
        self.refuse: dict[str, str] = {}
        self.lock = threading.Lock()

    async def handle_EHLO(
        self, server: object, session: Any, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname  # the new-style hook's duty
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(
        self, server: object, session: object, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        with self.lock:
            self.received.append((envelope.rcpt_tos[0], envelope.original_content or b""))
        return "250 OK queued"


def session(port: int, **settings: Any) -> SmtpSession:
    return SmtpTransport(Settings(smtp_port=port, smtp_timeout=5.0, **settings)).session()


def outgoing(to: str) -> Outgoing:
    return Outgoing(f"k.{to}", to, "nieuws@deboon.example", MESSAGE)


async def send_one(s: SmtpSession, to: str, commit: bool = True) -> tuple[int, int | None]:
    """Prepare, then commit (or abort); the codes of both steps."""
    prepared = await s.prepare(outgoing(to))
    if prepared.code != 354:
        return prepared.code, None
    if not commit:
        s.abort()
        return prepared.code, None
    s.commit()
    return prepared.code, (await s.outcome()).code


@pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])
def test_a_message_arrives_only_after_its_dot_and_a_refusal_leaves_the_connection_usable(
    pipelining: bool,
) -> None:
    srv = Server(pipelining)
    srv.refuse["nee@example.nl"] = "550 5.1.1 no such user"
    with serving_smtp(srv) as port:

        async def scenario() -> list[tuple[int, int | None]]:
            s = session(port)
            results = [await send_one(s, "een@example.nl")]
            assert ("PIPELINING" in s.extensions) is pipelining
            results.append(await send_one(s, "nee@example.nl"))
            results.append(await send_one(s, "twee@example.nl", commit=False))
            results.append(await send_one(s, "drie@example.nl"))
            await s.close()
            return results

        results = asyncio.run(scenario())
    assert results == [(354, 250), (550, None), (354, None), (354, 250)]
    assert [to for to, _ in srv.received] == ["een@example.nl", "drie@example.nl"]
    # dot-stuffed on the wire, un-stuffed by the server: the message as it was given
    assert srv.received[0][1] == MESSAGE and dot_stuffed(MESSAGE).count(b"\r\n..met") == 1


def test_a_refused_sender_in_a_pipeline_is_reported_with_the_servers_words() -> None:
    class RefusesMail(Server):
        async def handle_MAIL(
            self, server: Any, session: object, envelope: Envelope, address: str, options: list[str]
        ) -> str:
            return "451 4.3.0 try again later"

    srv = RefusesMail(pipelining=True)
    with serving_smtp(srv) as port:

        async def scenario() -> tuple[int, str]:
            s = session(port)
            reply = await s.prepare(outgoing("een@example.nl"))
            await s.close()
            return reply.code, reply.text

        assert asyncio.run(scenario()) == (451, "4.3.0 try again later")
    assert srv.received == []


def _authenticator(
    server: object, session: object, envelope: object, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"boon",
        b"geheim",
    )
    return AuthResult(success=ok, handled=False)


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_the_session_logs_in_when_the_settings_name_a_user(mechanism: str) -> None:
    class OneMechanism(Server):
        async def handle_EHLO(
            self, server: object, session: Any, envelope: Envelope, hostname: str, responses: list[str]
        ) -> list[str]:
            session.host_name = hostname
            return [f"250-AUTH {mechanism}" if r.startswith("250-AUTH") else r for r in responses]

    srv = OneMechanism()
    smtp = {"authenticator": _authenticator, "auth_require_tls": False, "auth_required": True}
    with serving_smtp(srv, **smtp) as port:

        async def scenario() -> tuple[tuple[int, int | None], int, str]:
            good = session(port, smtp_user="boon", smtp_password="geheim")
            delivered = await send_one(good, "een@example.nl")
            await good.close()
            bad = session(port, smtp_user="boon", smtp_password="fout")
            refused = await bad.prepare(outgoing("twee@example.nl"))
            await bad.close()
            return delivered, refused.code, refused.text

        delivered, code, text = asyncio.run(scenario())
    assert delivered == (354, 250)
    assert code == 451 and f"AUTH {mechanism}: 535" in text
    assert [to for to, _ in srv.received] == ["een@example.nl"]


def test_a_server_that_is_not_there_is_a_temporary_failure() -> None:
    async def scenario() -> tuple[int, str]:
        s = session(free_port())
        reply = await s.prepare(outgoing("een@example.nl"))
        await s.close()
        return reply.code, reply.text

    code, text = asyncio.run(scenario())
    assert code == 451 and text.startswith("connection failed")


def test_a_server_that_stops_answering_times_out_at_each_step_without_a_timer_a_wait() -> None:
    """A wait longer than the timeout fails with 451; later waits on the same watchdog do too."""

    class Stalls(Server):
        def __init__(self) -> None:
            super().__init__()
            self.stall = asyncio.Event()  # never set: the server keeps its answer

        async def handle_RCPT(
            self, server: object, session: object, envelope: Envelope, address: str, options: list[str]
        ) -> str:
            if address.startswith("stil"):
                await self.stall.wait()
            return await super().handle_RCPT(server, session, envelope, address, options)

    srv = Stalls()
    with serving_smtp(srv) as port:

        async def scenario() -> list[tuple[int, float]]:
            loop = asyncio.get_running_loop()
            out = []
            for to in ("een@example.nl", "stil1@example.nl", "twee@example.nl", "stil2@example.nl"):
                s = SmtpTransport(Settings(smtp_port=port, smtp_timeout=0.4)).session()
                t0 = loop.time()
                code, _ = await send_one(s, to)
                out.append((code, loop.time() - t0))
                await s.close()
            return out

        results = asyncio.run(scenario())
    assert [code for code, _ in results] == [354, 451, 354, 451]
    assert all(0.35 <= took < 2.0 for code, took in results if code == 451), results
    assert [to for to, _ in srv.received] == ["een@example.nl", "twee@example.nl"]


def test_each_reply_of_the_envelope_has_the_whole_timeout_to_come() -> None:
    """MAIL and RCPT answered slowly, each within the timeout but not both together: sent."""

    class Slow(Server):
        async def handle_MAIL(
            self, server: object, session: object, envelope: Envelope, address: str, options: list[str]
        ) -> str:
            await asyncio.sleep(0.25)
            envelope.mail_from = address
            return "250 OK"

        async def handle_RCPT(
            self, server: object, session: object, envelope: Envelope, address: str, options: list[str]
        ) -> str:
            await asyncio.sleep(0.25)
            return await super().handle_RCPT(server, session, envelope, address, options)

    srv = Slow()
    with serving_smtp(srv) as port:

        async def scenario() -> int:
            s = SmtpTransport(Settings(smtp_port=port, smtp_timeout=0.4)).session()
            code, _ = await send_one(s, "een@example.nl")
            await s.close()
            return code

        assert asyncio.run(scenario()) == 354
    assert [to for to, _ in srv.received] == ["een@example.nl"]
