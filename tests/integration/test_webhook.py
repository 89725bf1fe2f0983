"""The webhook transport against a real HTTP server on the loopback interface."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from conftest import free_port
from consentry.adapters.transport import Transport
from consentry.adapters.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    PermanentFailure,
    TemporaryFailure,
    WebhookConfigError,
    WebhookTransport,
    verify_signature,
)
from consentry.settings import Settings

SECRET = "gedeeld-geheim-0123456789"
NUMBER = "+31612345678"


@dataclass
class Answer:
    """What the server answers to one request."""

    status: int = 200
    body: bytes = b'{"message_id": "sms-1"}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Received:
    """One request as the server saw it."""

    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Gateway:
    """A scripted SMS gateway: answers in turn (the last one repeats) and records each request."""

    def __init__(self) -> None:
        self.answers: list[Answer] = [Answer()]
        self.received: list[Received] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                gateway.received.append(Received(dict(self.headers.items()), body))
                index = min(len(gateway.received), len(gateway.answers)) - 1
                answer = gateway.answers[index]
                time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the client gave up waiting (the timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def answer(self, *answers: Answer) -> None:
        self.answers = list(answers)


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gw = Gateway()
    gw.thread.start()
    try:
        yield gw
    finally:
        gw.server.shutdown()
        gw.server.server_close()


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def transport(gateway: Gateway, waits: list[float]) -> Iterator[WebhookTransport]:
    with WebhookTransport(gateway.url, SECRET, timeout=2.0, retries=2, sleep=waits.append) as t:
        yield t


def send(t: WebhookTransport, key: str = "camp-1:cp_000001") -> str | None:
    return t.send(NUMBER, "Koffie in de aanbieding", key, {"campaign": "camp-1", "channel": "sms"})


def test_a_message_is_posted_as_json_and_the_providers_message_id_returned(
    gateway: Gateway, transport: WebhookTransport
) -> None:
    assert send(transport) == "sms-1"
    (request,) = gateway.received
    assert request.headers["Content-Type"] == "application/json"
    assert request.json() == {
        "to": NUMBER,
        "text": "Koffie in de aanbieding",
        "idempotency_key": "camp-1:cp_000001",
        "metadata": {"campaign": "camp-1", "channel": "sms"},
    }


def test_an_answer_without_a_message_id_is_still_a_success(
    gateway: Gateway, transport: WebhookTransport
) -> None:
    gateway.answer(Answer(202, b"accepted"))
    assert send(transport) is None


def test_the_signature_verifies_with_the_shared_secret_and_not_with_another_or_a_changed_body(
    gateway: Gateway, transport: WebhookTransport
) -> None:
    send(transport)
    (request,) = gateway.received
    timestamp, signature = request.headers[TIMESTAMP_HEADER], request.headers[SIGNATURE_HEADER]
    assert signature.startswith("sha256=")
    assert abs(int(timestamp) - time.time()) < 60
    assert verify_signature(SECRET, timestamp, request.body, signature)
    assert not verify_signature("een ander geheim", timestamp, request.body, signature)
    assert not verify_signature(SECRET, timestamp, request.body.replace(b"Koffie", b"Thee"), signature)
    assert not verify_signature(SECRET, str(int(timestamp) + 1), request.body, signature)
    # A request replayed later than the tolerance is refused even with a valid signature.
    assert not verify_signature(SECRET, timestamp, request.body, signature, now=int(timestamp) + 3600)


def test_the_idempotency_key_is_sent_and_stays_the_same_on_every_retry(
    gateway: Gateway, transport: WebhookTransport
) -> None:
    gateway.answer(Answer(503, b"busy"), Answer(502, b"bad gateway"), Answer())
    assert send(transport, "camp-7:cp_000042") == "sms-1"
    assert [r.headers["Idempotency-Key"] for r in gateway.received] == ["camp-7:cp_000042"] * 3
    assert len({r.body for r in gateway.received}) == 1  # the very same body each time


def test_a_server_error_is_a_temporary_failure_once_the_retries_are_used_up(
    gateway: Gateway, transport: WebhookTransport, waits: list[float]
) -> None:
    gateway.answer(Answer(500, b'{"error": "database down"}'))
    with pytest.raises(TemporaryFailure) as caught:
        send(transport)
    assert caught.value.status == 500 and "database down" in caught.value.text
    assert NUMBER not in str(caught.value)
    assert len(gateway.received) == 3 and waits == [0.5, 1.0]  # backing off between attempts


def test_a_400_is_a_permanent_failure_and_is_not_tried_again(
    gateway: Gateway, transport: WebhookTransport
) -> None:
    gateway.answer(Answer(400, b'{"error": "invalid number"}'))
    with pytest.raises(PermanentFailure) as caught:
        send(transport)
    assert caught.value.status == 400 and "invalid number" in caught.value.text
    assert "400" in str(caught.value)
    assert len(gateway.received) == 1


def test_a_429_waits_as_long_as_retry_after_says_and_then_succeeds(
    gateway: Gateway, transport: WebhookTransport, waits: list[float]
) -> None:
    gateway.answer(Answer(429, b"slow down", {"Retry-After": "2"}), Answer())
    assert send(transport) == "sms-1"
    assert waits == [2.0] and len(gateway.received) == 2


def test_a_retry_after_longer_than_the_transport_may_wait_is_passed_on_to_the_caller(
    gateway: Gateway, transport: WebhookTransport, waits: list[float]
) -> None:
    gateway.answer(Answer(429, b"quota", {"Retry-After": "120"}))
    with pytest.raises(TemporaryFailure) as caught:
        send(transport)
    assert caught.value.status == 429 and caught.value.retry_after == 120.0
    assert waits == [] and len(gateway.received) == 1


def test_a_retry_after_given_as_a_date_is_honoured(gateway: Gateway, waits: list[float]) -> None:
    gateway.answer(Answer(503, b"maintenance", {"Retry-After": "Wed, 21 Oct 2026 07:28:10 GMT"}), Answer())
    moment = 1792567680.0  # 2026-10-21 07:28:00 UTC: ten seconds before
    with WebhookTransport(gateway.url, SECRET, retries=1, sleep=waits.append, clock=lambda: moment) as t:
        assert send(t) == "sms-1"
    assert waits == [10.0]


def test_a_gateway_that_does_not_answer_in_time_is_a_temporary_failure(gateway: Gateway) -> None:
    gateway.answer(Answer(delay=1.0))
    with (
        WebhookTransport(gateway.url, SECRET, timeout=0.2, retries=0) as t,
        pytest.raises(TemporaryFailure) as caught,
    ):
        send(t)
    assert caught.value.status is None and "in time" in str(caught.value)


def test_a_gateway_that_cannot_be_reached_is_a_temporary_failure() -> None:
    port = free_port()  # nothing listens there
    with (
        WebhookTransport(f"http://127.0.0.1:{port}/sms", SECRET, retries=0) as t,
        pytest.raises(TemporaryFailure) as caught,
    ):
        send(t)
    assert caught.value.status is None


def test_a_redirect_is_not_followed_but_refused(gateway: Gateway, transport: WebhookTransport) -> None:
    gateway.answer(Answer(301, b"", {"Location": "http://example.invalid/"}))
    with pytest.raises(PermanentFailure):
        send(transport)
    assert len(gateway.received) == 1


def test_the_webhook_transport_is_a_transport_and_is_configured_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("URL", "SECRET", "TIMEOUT", "RETRIES"):
        monkeypatch.delenv(f"CONSENTRY_WEBHOOK_{name}", raising=False)
    assert WebhookTransport.from_settings(Settings()) is None
    monkeypatch.setenv("CONSENTRY_WEBHOOK_URL", "https://sms.example.nl/hook")
    with pytest.raises(WebhookConfigError):
        WebhookTransport.from_settings(Settings())
    monkeypatch.setenv("CONSENTRY_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("CONSENTRY_WEBHOOK_TIMEOUT", "3.5")
    monkeypatch.setenv("CONSENTRY_WEBHOOK_RETRIES", "0")
    t = WebhookTransport.from_settings(Settings())
    assert t is not None and isinstance(t, Transport)
    assert (t.url, t.retries) == ("https://sms.example.nl/hook", 0)
    t.close()
    with pytest.raises(WebhookConfigError):
        WebhookTransport("ftp://sms.example.nl", SECRET)
