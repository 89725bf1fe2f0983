"""Sending messages through a webhook: signed JSON to an SMS or messaging-app gateway.

Each message is one `POST` of a JSON object `{"to", "text", "idempotency_key",
"metadata"}` with these headers:

- `Idempotency-Key`: the same for every attempt at one message, so the receiver can
  drop a repeat. A campaign resumed after a crash sends the same keys again; that is
  what makes it exactly-once on this transport.
- `X-Consentry-Timestamp`: the attempt's moment in Unix seconds.
- `X-Consentry-Signature`: `sha256=` and the hex HMAC-SHA256, keyed with the shared
  secret, of the timestamp, a dot and the raw body (`f"{timestamp}.{body}"`).
  Signing the timestamp with the body lets a receiver refuse a replayed request;
  `verify_signature` is what a receiver (in Python) runs.

For the sender the webhook is a `consentry.adapters.transport.Transport` like
SMTP, but one that cannot hold a message back: a session's `prepare` hands it
over, with the Message-ID as its idempotency key, so a repeat after a crash is
dropped by the receiver. Its sessions are therefore not revocable, and `commit`
has nothing left to do.

A 2xx answer is success; the provider's message id is read from a JSON answer's
`message_id` or `id`. A timeout, a connection error, 408, 425, 429 or a 5xx is a
`TemporaryFailure`, retried up to `retries` times (waiting as `Retry-After` says,
unless that is longer than `max_wait`: then the caller is told to come back later);
any other answer is a `PermanentFailure`. Redirects are not followed. Exception
messages carry the status only: a provider's answer may repeat the number, so its
text is kept on the exception (`text`) and never put in its message.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any

import httpx

from consentry.adapters.transport import Outgoing, Reply, Threaded
from consentry.settings import Settings

SIGNATURE_HEADER = "X-Consentry-Signature"
TIMESTAMP_HEADER = "X-Consentry-Timestamp"
#: How old a signed request a receiver should still accept, in seconds.
SIGNATURE_TOLERANCE = 300
_TEMPORARY = frozenset({408, 425, 429})
_TEXT_KEPT = 500


class TransportError(Exception):
    """A message was not handed over; `status` is the HTTP status, if there was an answer."""

    def __init__(self, message: str, status: int | None = None, text: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.text = text[:_TEXT_KEPT]


class TemporaryFailure(TransportError):
    """Try again later (after `retry_after` seconds, when the receiver said so)."""

    def __init__(
        self, message: str, status: int | None = None, text: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(message, status, text)
        self.retry_after = retry_after


class PermanentFailure(TransportError):
    """Sending this message again will not help (refused, malformed, unknown recipient)."""


class WebhookConfigError(ValueError):
    """The webhook settings are incomplete or wrong."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for a body sent at `timestamp` (Unix seconds, as text)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: float | None = None,
    tolerance: float = SIGNATURE_TOLERANCE,
) -> bool:
    """True when `signature` signs this body and timestamp, and the timestamp is recent."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def _retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.fromtimestamp(now, UTC)).total_seconds())


def _message_id(response: httpx.Response) -> str | None:
    try:
        doc = response.json()
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    found = doc.get("message_id", doc.get("id"))
    return str(found) if isinstance(found, str | int) and str(found) else None


class WebhookTransport:
    """POSTs each message as signed JSON to one URL; see the module docstring for the contract."""

    def __init__(
        self,
        url: str,
        secret: str,
        timeout: float = 10.0,
        retries: int = 2,
        *,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise WebhookConfigError("the webhook URL must start with https:// (or http://)")
        if not secret:
            raise WebhookConfigError("the webhook needs a secret to sign its requests")
        if retries < 0 or timeout <= 0:
            raise WebhookConfigError("retries must be 0 or more and the timeout more than 0")
        self.url = url
        self._secret = secret
        self.retries = retries
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> WebhookTransport | None:
        """The transport configured by CONSENTRY_WEBHOOK_*, or None when no URL is set."""
        if not settings.webhook_url:
            return None
        if not settings.webhook_secret:
            raise WebhookConfigError("CONSENTRY_WEBHOOK_URL is set: set CONSENTRY_WEBHOOK_SECRET too")
        return cls(
            settings.webhook_url,
            settings.webhook_secret,
            settings.webhook_timeout,
            settings.webhook_retries,
        )

    def send(self, to: str, text: str, idempotency_key: str, metadata: Mapping[str, Any]) -> str | None:
        """POST one message, retrying temporary failures; the provider's message id, if any."""
        if not idempotency_key:
            raise ValueError("an idempotency key is required")
        doc = {"to": to, "text": text, "idempotency_key": idempotency_key, "metadata": dict(metadata)}
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        attempt = 0
        while True:
            try:
                return self._attempt(body, idempotency_key)
            except TemporaryFailure as failure:
                wait = failure.retry_after if failure.retry_after is not None else 0.5 * 2**attempt
                if attempt >= self.retries or wait > self.max_wait:
                    raise
                attempt += 1
                self._sleep(wait)

    def _attempt(self, body: bytes, idempotency_key: str) -> str | None:
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise TemporaryFailure("the webhook did not answer in time") from None
        except httpx.TransportError as exc:
            raise TemporaryFailure(f"could not reach the webhook ({type(exc).__name__})") from None
        status = response.status_code
        if 200 <= status < 300:
            return _message_id(response)
        message = f"the webhook answered {status} {response.reason_phrase}".rstrip()
        if status in _TEMPORARY or status >= 500:
            wait = _retry_after(response.headers.get("Retry-After"), self._clock())
            raise TemporaryFailure(message, status, response.text, wait)
        raise PermanentFailure(message, status, response.text)

    def session(self) -> Threaded:
        """A sender's session (see `WebhookSession`), its calls on a thread of its own."""
        return Threaded(WebhookSession(self))

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> WebhookTransport:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class WebhookSession:
    """One sender connection's use of a shared webhook transport (a blocking session)."""

    revocable = False

    def __init__(self, sender: WebhookTransport) -> None:
        self.sender = sender

    def prepare(self, msg: Outgoing) -> Reply:
        """Hand the message over (once per key); 354 when it was taken."""
        try:
            self.sender.send(msg.to, msg.data.decode(), msg.key, dict(msg.metadata))
        except TemporaryFailure as exc:
            return Reply(451, str(exc))
        except PermanentFailure as exc:
            return Reply(554, str(exc))
        return Reply(354, "handed over")

    def commit(self) -> None:
        """Nothing left to do: the message was handed over in `prepare`."""

    def outcome(self) -> Reply:
        """Taken."""
        return Reply(250, "handed over")

    def abort(self) -> None:
        """Nothing can be taken back."""

    def close(self) -> None:
        """The shared transport stays open for the other sessions."""


class NoWebhook(ValueError):
    """SMS or app messages need the webhook, and it is not configured."""


def transport_for(settings: Settings) -> WebhookTransport:
    """The configured webhook as a sender transport; NoWebhook when none is set."""
    try:
        found = WebhookTransport.from_settings(settings)
    except WebhookConfigError as exc:
        raise NoWebhook(str(exc)) from None
    if found is None:
        raise NoWebhook("SMS and app campaigns go through the webhook: set CONSENTRY_WEBHOOK_URL and _SECRET")
    return found
