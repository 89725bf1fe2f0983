"""Checkpoints leave the database: a file, a webhook (a real HTTP server), a mail (a real SMTP
server), and every N seconds from a serving process."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from conftest import Inbox, body_text
from consentry.adapters import signing, webhook
from consentry.bootstrap import App
from consentry.domain.checkpoint import from_json
from consentry.entrypoints.http import _serving, create_app
from consentry.services import checkpoints, ledger

SECRET = "webhook-secret-0123456789abcdef"


class Receiver:
    """An HTTP endpoint that records each POST and answers with `status`."""

    def __init__(self) -> None:
        self.status = 200
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.received.append((dict(self.headers.items()), body))
                self.send_response(outer.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/checkpoints"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    thread = threading.Thread(target=r.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def configured(app: App, tmp_path: Path, **more: object) -> signing.Signer:
    key = signing.generate(tmp_path / "checkpoint.pem")
    app.settings = app.settings.model_copy(
        update={"checkpoint_key_file": str(tmp_path / "checkpoint.pem"), **more}
    )
    ledger.append_lines(
        app,
        ['{"type":"contact_point.registered","kind":"email","value":"a@example.nl","source":"web_form"}'],
    )
    return key


def test_the_webhook_gets_the_signed_checkpoint_with_the_hmac_headers(
    app: App, tmp_path: Path, receiver: Receiver
) -> None:
    key = configured(app, tmp_path, checkpoint_webhook_url=receiver.url, webhook_secret=SECRET)
    done = checkpoints.checkpoint(app)
    assert done.sent_to == [receiver.url] and done.failed == []
    [(headers, body)] = receiver.received
    assert webhook.verify_signature(
        SECRET, headers[webhook.TIMESTAMP_HEADER], body, headers[webhook.SIGNATURE_HEADER]
    )
    posted = from_json(json.loads(body))
    assert posted == done.checkpoint and key.public.verifies(posted.signed_bytes(), posted.signature_bytes())


def test_a_failing_webhook_is_reported_and_the_file_is_still_written(
    app: App, tmp_path: Path, receiver: Receiver
) -> None:
    receiver.status = 500
    log = tmp_path / "out" / "checkpoints.jsonl"
    configured(app, tmp_path, checkpoint_webhook_url=receiver.url, checkpoint_file=str(log))
    done = checkpoints.checkpoint(app)
    assert done.sent_to == [str(log)]
    assert len(done.failed) == 1 and done.failed[0].startswith(receiver.url) and "500" in done.failed[0]
    assert checkpoints.read_checkpoints(log) == [done.checkpoint]


def test_the_privacy_officer_is_mailed_the_checkpoint_line_verify_can_read(
    app: App, tmp_path: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    key = configured(app, tmp_path, checkpoint_mail_to="fg@example.nl", smtp_port=port)
    done = checkpoints.checkpoint(app)
    assert done.sent_to == ["fg@example.nl"]
    [message] = inbox.wait_for(1)
    assert message["To"] == "fg@example.nl" and "checkpoint" in message["Subject"]
    line = next(x for x in body_text(message).splitlines() if x.startswith('{"format"'))
    mailed = from_json(json.loads(line))
    assert mailed == done.checkpoint and key.public.verifies(mailed.signed_bytes(), mailed.signature_bytes())


def test_a_serving_process_signs_checkpoints_every_few_seconds_while_the_ledger_grows(
    app: App, tmp_path: Path
) -> None:
    log = tmp_path / "checkpoints.jsonl"
    configured(app, tmp_path, checkpoint_file=str(log), checkpoint_every_s=0.05)
    with TestClient(create_app(app, lifespan=_serving(app))):
        deadline = time.monotonic() + 10
        while not log.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        ledger.append_lines(
            app,
            ['{"type":"contact_point.registered","kind":"email","value":"b@example.nl","source":"web_form"}'],
        )
        while len(checkpoints.read_checkpoints(log)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    sizes = [cp.size for cp in checkpoints.read_checkpoints(log)]
    assert sizes == [1, 2]  # one per growth, none while the ledger stood still
