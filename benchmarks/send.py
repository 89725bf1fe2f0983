"""Benchmark: sending a campaign, with each person judged again as the message is claimed and sent.

Target (issue #16): >= 2,000 messages/s to a local SMTP server on SQLite, addresses decrypted.

Set-up: a SQLite file in a temp directory (or --database-url, e.g. a PostgreSQL database
that may be emptied), initialised with the services; --recipients contact points that
signed up for the newsletter (registration + consent, two events each), and a campaign
to all of them. The SMTP server is aiosmtpd in a separate process on a free loopback
port; it accepts and discards every message.

What is measured: `consentry.services.sending.send` from the first claim to the last
reply, on the real path: claims of --batch rows in a writer transaction with the
per-contact re-check, messages written (templates, links, MIME) and, with --dkim, signed
(dkimpy, RSA 2048), prepared up to the final dot on --concurrency SMTP connections (all
driven by the sender's one event loop), marked sent in one transaction per group with a
second re-check, then let go. Filling the queue (one INSERT ... SELECT from the audience)
is timed apart. Besides messages/s it prints the sender's CPU time a message (this
process's, the sink not included): steadier than the rate on a shared machine, since
the sender is one thread and the rate is about 1 / that time when it has a core. The
sink's CPU a message is printed beside it (from /proc, where there is one), for the send
and for the reference: the sink is one Python process too, and on 2 cores the rate is
bound by the busier of the two.

The SMTP server and the sender share the machine: the figures say how many cores there
are, and the load average (printed before and after) what else ran. Run from the
repository root with the virtualenv active:

    python benchmarks/send.py                          # 20,000 recipients, 64 connections
    python benchmarks/send.py --concurrency 32 --batch 500
    python benchmarks/send.py --recipients 2000 --dkim  # DKIM costs ~10 ms a message (pure Python RSA)

It prints the figures and a PASS/FAIL line for the target, and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import benchkeys  # noqa: F401  (the stores' keys, before any store is built)
import sqlalchemy as sa

from consentry.adapters.smtp_pipeline import dot_stuffed
from consentry.bootstrap import App, bootstrap
from consentry.policy.facts import Question
from consentry.policy.rules import evaluate
from consentry.services import campaigns, ledger, purposes, sending, setup, states
from consentry.services.sending.messages import Letters
from consentry.services.sending.model import Job
from consentry.services.setup import controller
from consentry.settings import Settings

TARGET = 2_000
SECRET = "benchmark-secret-key-0123456789abcdef"
# The sink is aiosmtpd, a complete SMTP server; it runs on uvloop where that is installed
# (`--sink-loop asyncio` to compare), and logs nothing: on a 2-core machine every
# microsecond the server spends is one the sender cannot.
SINK = textwrap.dedent(
    """
    import logging, sys, time
    from aiosmtpd.controller import Controller

    logging.disable(logging.CRITICAL)
    loop = None
    if sys.argv[2] == "uvloop":
        import uvloop
        loop = uvloop.new_event_loop()

    class Discard:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    Controller(Discard(), hostname="127.0.0.1", port=int(sys.argv[1]), loop=loop).start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)
    """
)
CAMPAIGN = {
    "key": "benchmark",
    "name": "Benchmark",
    "purpose": "nieuwsbrief",
    "channel": "email",
    "sender": {
        "name": "Koffiebranderij De Boon",
        "email": "nieuws@deboon.example",
        "legal_name": "De Boon B.V.",
        "address": "Markt 1, 3511 AA Utrecht",
        "kvk": "12345678",
    },
    "content": {
        "nl": {
            "subject": "Nieuwe koffie voor {{ name }}",
            "body": "Hallo {{ name }},\n\n"
            + "De najaarskoffie is er: vol, rond en een beetje nootachtig.\n" * 12,
        },
        "en": {
            "subject": "New coffee for {{ name }}",
            "body": "Hello {{ name }},\n\nThe autumn coffee is here.",
        },
    },
}


def process_cpu(pid: int) -> float | None:
    """Another process's CPU seconds so far (user + system, from /proc); None where there is no /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _per_message(before: float | None, after: float | None, messages: int) -> str:
    if before is None or after is None or not messages:
        return "n/a"
    return f"{(after - before) / messages * 1e6:,.0f} us"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def calibrate(port: int, connections: int, messages: int) -> float:
    """Messages/s the sink takes from the plainest client (smtplib, no database, a tiny message).

    The ceiling on this machine at this moment: the sink and the sender share its cores.
    """
    body = b"From: a@example.nl\r\nTo: b@example.nl\r\nSubject: x\r\n\r\nhello\r\n.\r\n"
    per = messages // connections

    def one() -> None:
        s = smtplib.SMTP("127.0.0.1", port)
        s.ehlo()
        for _ in range(per):
            s.putcmd("mail", "FROM:<a@example.nl>")
            s.getreply()
            s.putcmd("rcpt", "TO:<b@example.nl>")
            s.getreply()
            s.putcmd("data")
            s.getreply()
            s.send(body)
            s.getreply()
        s.quit()

    threads = [threading.Thread(target=one) for _ in range(connections)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return per * connections / (time.perf_counter() - t0)


class _Bare(asyncio.Protocol):
    """The reference client's connection: replies counted as they come, nothing parsed but their ends."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[None] | None = None
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.buf.endswith(b"\r\n") and self.buf.rsplit(b"\r\n", 2)[-2][3:4] != b"-":
            self.buf = b""
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(None)

    async def say(self, data: bytes) -> None:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        await self.waiter


def reference(port: int, connections: int, messages: int, data: bytes) -> tuple[float, float]:
    """Messages/s and CPU µs a message of the plainest client on the sender's kind of event loop.

    The same conversation as the sender's (MAIL, RCPT, DATA, the message, then its dot in a
    write of its own) on `connections` connections of one uvloop (asyncio's where it is not
    installed), every message the same prepared bytes: no database, no judging, no writing.
    """
    try:
        import uvloop

        loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        loop = asyncio.new_event_loop()
    per = messages // connections

    async def one() -> None:
        bare = _Bare()
        bare.waiter = loop.create_future()
        await loop.create_connection(lambda: bare, "127.0.0.1", port)
        await bare.waiter
        await bare.say(b"EHLO bench\r\n")
        for _ in range(per):
            await bare.say(b"MAIL FROM:<nieuws@deboon.example>\r\n")
            await bare.say(b"RCPT TO:<klant000001@example.nl>\r\n")
            await bare.say(b"DATA\r\n")
            assert bare.transport is not None
            bare.transport.write(data)
            await bare.say(b".\r\n")
        await bare.say(b"QUIT\r\n")

    async def run() -> None:
        await asyncio.gather(*(one() for _ in range(connections)))

    t0, cpu = time.perf_counter(), time.process_time()
    loop.run_until_complete(run())
    took, cpu = time.perf_counter() - t0, time.process_time() - cpu
    loop.close()
    return per * connections / took, cpu / (per * connections) * 1e6


def sample_message(app: App) -> bytes:
    """One of the campaign's messages as the sender writes it (dot-stuffed), for the reference client."""
    c = campaigns.get(app, "benchmark")
    with app.store.reader() as r:
        purpose = r.purpose(c.purpose)
        # A Dutch recipient's (four in five are): the longer of the campaign's two messages.
        loaded = map(partial(states.load, r), r.point_ids())
        state = next(s for s in loaded if s.attributes["language"] == "nl")
        point = state.id
        boss = controller(r)
    assert purpose is not None
    decision = evaluate(app.pack, state, Question(c.channel, purpose, app.clock.now(), c.kind), boss)
    job = Job(point, state.registered_seq, 0, state, decision, False)  # the number is not in the message
    return dot_stuffed(Letters(app, c, purpose).outgoing(job).data)


def prepare(url: str, port: int, recipients: int, dkim_key: Path | None) -> App:
    """An initialised database with the recipients and the campaign."""
    extra: dict[str, Any] = {}
    if dkim_key is not None:
        extra = {"dkim_domain": "deboon.example", "dkim_selector": "bench", "dkim_key_file": str(dkim_key)}
    settings = Settings(
        database_url=url, secret_key=SECRET, smtp_port=port, base_url="https://koffie.example", **extra
    )
    app = bootstrap(settings)
    setup.init(app, name="De Boon B.V.", sector="commercial")
    purposes.define(app, "nieuwsbrief", "Nieuwsbrief", "Newsletter", categories=["koffie"])
    chunk = 5000
    for start in range(0, recipients, chunk):
        records = []
        for i in range(start, min(start + chunk, recipients)):
            address = f"klant{i:06d}@example.nl"
            lang = "en" if i % 5 == 0 else "nl"
            records.append(
                {
                    "type": "contact_point.registered",
                    "kind": "email",
                    "value": address,
                    "source": "web_form",
                    "display_name": f"Klant {i}",
                    "attributes": {"language": lang},
                }
            )
            records.append(
                {
                    "type": "consent.given",
                    "contact": address,
                    "purpose": "nieuwsbrief",
                    "channels": ["email"],
                    "method": "single_opt_in",
                }
            )
        ledger.append_records(app, enumerate(records, 1))
    campaigns.define(app, CAMPAIGN)
    return app


def _dkim_key(folder: Path) -> Path:
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    return key


def _empty_pg(url: str) -> None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--recipients", type=int, default=20_000)
    ap.add_argument("--concurrency", type=int, default=64, help="SMTP connections (one event loop)")
    ap.add_argument("--batch", type=int, default=500, help="rows claimed per transaction")
    ap.add_argument("--rate", type=float, default=None, help="messages/s limit (default none)")
    ap.add_argument("--dkim", action="store_true", help="sign every message with DKIM (RSA 2048)")
    ap.add_argument("--database-url", default=None, help="a PostgreSQL database to EMPTY and use")
    ap.add_argument(
        "--sink-loop",
        choices=("uvloop", "asyncio"),
        default="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        help="the SMTP sink's event loop (default uvloop where installed)",
    )
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = args.database_url or f"sqlite:///{folder / 'send.db'}"
        if args.database_url:
            _empty_pg(url)
        port = free_port()
        sink = subprocess.Popen(
            [sys.executable, "-c", SINK, str(port), args.sink_loop],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
            ceiling = calibrate(port, 16, 3000)
            t0 = time.perf_counter()
            app = prepare(url, port, args.recipients, _dkim_key(folder) if args.dkim else None)
            print(
                f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; "
                f"{'PostgreSQL' if args.database_url else 'SQLite'}; "
                f"{args.recipients:,} recipients prepared in {time.perf_counter() - t0:.1f} s"
            )
            t1 = time.perf_counter()
            sending.start(app, "benchmark")
            fill = time.perf_counter() - t1
            opts = sending.SendOptions(
                concurrency=args.concurrency,
                batch=args.batch,
                rate=args.rate,
                retry_after=timedelta(seconds=1),
            )
            t2, cpu, sink0 = time.perf_counter(), time.process_time(), process_cpu(sink.pid)
            report = sending.send(app, "benchmark", opts)
            took, cpu, sink1 = time.perf_counter() - t2, time.process_time() - cpu, process_cpu(sink.pid)
            cache = app.states
            data = sample_message(app)
            app.store.engine.dispose()
            messages = max(args.recipients, args.concurrency)
            ref0 = process_cpu(sink.pid)
            ref_rate, ref_cpu = reference(port, args.concurrency, messages, data)
            ref1 = process_cpu(sink.pid)
        finally:
            sink.kill()
            sink.wait()
    rate = report.sent / took if took else 0.0
    print(f"queue filled (audience judged set-wise, one INSERT ... SELECT) in {fill * 1000:.0f} ms")
    print(
        f"concurrency {args.concurrency}, batch {args.batch}, rate limit {args.rate or 'none'}, "
        f"DKIM {'on' if args.dkim else 'off'}, sink aiosmtpd on {args.sink_loop}"
    )
    print(
        f"sent {report.sent:,}, skipped {report.skipped}, failed {report.failed}, retried {report.retried} "
        f"in {took:.2f} s: {rate:,.0f} messages/s (state cache {cache.hits:,} hits, {cache.misses:,} misses)"
    )
    per = cpu / report.sent * 1e6 if report.sent else 0.0
    sink_per = _per_message(sink0, sink1, report.sent)
    print(
        f"sender CPU {cpu:.2f} s: {per:,.0f} us a message; the sink's CPU {sink_per} a message; "
        f"load after {os.getloadavg()[0]:.2f}"
    )
    print(f"the sink's ceiling now (a bare smtplib client, 16 connections): {ceiling:,.0f} messages/s")
    ref_sink = _per_message(ref0, ref1, messages // args.concurrency * args.concurrency)
    print(
        f"reference, same run: a bare client on one event loop, {args.concurrency} connections, the same "
        f"conversation, one {len(data):,}-byte message: {ref_rate:,.0f} messages/s, "
        f"{ref_cpu:,.0f} us CPU a message (the sink's {ref_sink})"
    )
    ok = rate >= TARGET and report.sent == args.recipients
    print(f"{'PASS' if ok else 'FAIL'}: {rate:,.0f} messages/s (target >= {TARGET:,})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
