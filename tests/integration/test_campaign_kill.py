"""Exactly once under SIGKILL: a real `consentry campaign send` process is killed mid-campaign, then resumed.

The SMTP server runs in the test process and counts deliveries by recipient. It
kills the sender at chosen moments, from inside the SMTP conversation so the
moment is exact: at a RCPT (a message is being prepared: not yet committed, so
the server discards it and the resumed worker sends it again) and just after a
final dot arrived (the message is committed and delivered: the resumed worker
must not send it again). Other claimed messages of the batch are in flight
either way.

The sender runs with one connection here. With several, a kill can land between
a commit and the dots that follow it within microseconds (the at-most-once
window `consentry.services.sending` describes), which a test cannot aim past;
several workers sharing a campaign are tested in test_campaign_send.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import Envelope
from test_campaign_send import CAMPAIGN, load, person, rows

from conftest import define_purposes, make_app, serving_smtp
from consentry.bootstrap import App
from consentry.services import campaigns

PEOPLE = [f"klant{i:03d}@example.nl" for i in range(60)]
#: (deliveries so far, where to kill): at a RCPT (before a commit) or after a message arrived.
KILLS = [(8, "rcpt"), (21, "data"), (34, "rcpt"), (47, "data")]
CONSENTRY = str(Path(sys.executable).parent / "consentry")


class KillingServer:
    """Counts deliveries by recipient; kills the sender when the next kill point is reached."""

    def __init__(self) -> None:
        self.by_rcpt: Counter[str] = Counter()
        self.pid: int | None = None
        self.kills = list(KILLS)
        self.killed: list[tuple[int, str]] = []
        self.lock = threading.Lock()

    def _maybe_kill(self, where: str) -> None:
        with self.lock:
            delivered = sum(self.by_rcpt.values())
            if self.kills and self.pid and self.kills[0][1] == where and delivered >= self.kills[0][0]:
                os.kill(self.pid, signal.SIGKILL)
                self.killed.append((delivered, where))
                self.kills.pop(0)
                self.pid = None

    async def handle_RCPT(
        self, server: object, session: object, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self._maybe_kill("rcpt")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: object, envelope: Envelope) -> str:
        with self.lock:
            self.by_rcpt[envelope.rcpt_tos[0]] += 1
        self._maybe_kill("data")
        return "250 OK"


@pytest.fixture
def killing_server() -> Iterator[tuple[KillingServer, int]]:
    srv = KillingServer()
    with serving_smtp(srv) as port:
        yield srv, port


@pytest.fixture
def list_app(store_url: str, killing_server: tuple[KillingServer, int]) -> Iterator[App]:
    app = make_app(store_url, smtp_port=killing_server[1])
    define_purposes(app)
    load(app, *(person(a, a.split("@")[0]) for a in PEOPLE))
    campaigns.define(app, CAMPAIGN)
    yield app
    app.store.engine.dispose()


def sender(store_url: str, port: int) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "CONSENTRY_DATABASE_URL": store_url,
        "CONSENTRY_SMTP_PORT": str(port),
        "CONSENTRY_SECRET_KEY": "test-secret-key-0123456789",
        "CONSENTRY_BASE_URL": "https://koffie.example",
    }
    args = [CONSENTRY, "campaign", "send", "najaar", "--concurrency", "1", "--batch", "5", "--rate", "150"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_killed_sender_resumes_and_every_allowed_person_gets_exactly_one_message(
    store_url: str, list_app: App, killing_server: tuple[KillingServer, int]
) -> None:
    srv, port = killing_server
    runs = 0
    while True:
        runs += 1
        assert runs <= len(KILLS) + 2, f"still not done after {runs - 1} runs; kills: {srv.killed}"
        proc = sender(store_url, port)
        with srv.lock:
            srv.pid = proc.pid
        out, err = proc.communicate(timeout=120)
        if proc.returncode == -signal.SIGKILL:
            continue
        assert proc.returncode == 0, f"sender failed ({proc.returncode}):\n{out}\n{err}"
        break
    assert len(srv.killed) == len(KILLS), f"only killed at {srv.killed}"
    assert [k for k in srv.killed if k[1] == "rcpt"] and [k for k in srv.killed if k[1] == "data"]
    twice = {a: n for a, n in srv.by_rcpt.items() if n > 1}
    missing = sorted(set(PEOPLE) - set(srv.by_rcpt))
    assert twice == {} and missing == []
    assert sum(srv.by_rcpt.values()) == len(PEOPLE)
    assert {r["status"] for r in rows(list_app).values()} == {"sent"}
    assert campaigns.progress(list_app, "najaar").status.value == "done"
