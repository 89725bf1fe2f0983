"""SMS and messaging-app campaigns over the webhook, as sessions of the sender (see adapters.transport).

A webhook cannot hold a message back: `prepare` hands it over, with the
Message-ID as its idempotency key, so a repeat after a crash is dropped by the
receiver. The session is therefore not revocable, and `commit` has nothing left
to do.
"""

from __future__ import annotations

from typing import Any

from consentry.adapters import webhook
from consentry.adapters.transport import Outgoing, Reply
from consentry.settings import Settings


class WebhookSession:
    """One sender thread's use of a shared webhook transport."""

    revocable = False

    def __init__(self, sender: webhook.Transport) -> None:
        self.sender = sender

    def prepare(self, msg: Outgoing) -> Reply:
        """Hand the message over (once per key); 354 when it was taken."""
        try:
            self.sender.send(msg.to, msg.data.decode(), msg.key, dict(msg.metadata))
        except webhook.TemporaryFailure as exc:
            return Reply(451, str(exc))
        except webhook.PermanentFailure as exc:
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


class WebhookSessions:
    """Opens sessions on one shared webhook transport."""

    def __init__(self, sender: Any) -> None:
        self.sender: webhook.Transport = sender

    def session(self) -> WebhookSession:
        """A session on the shared transport."""
        return WebhookSession(self.sender)


class NoWebhook(ValueError):
    """SMS or app messages need the webhook, and it is not configured."""


def transport_for(settings: Settings) -> WebhookSessions:
    """The configured webhook as a sender transport; NoWebhook when none is set."""
    try:
        found = webhook.WebhookTransport.from_settings(settings)
    except webhook.WebhookConfigError as exc:
        raise NoWebhook(str(exc)) from None
    if found is None:
        raise NoWebhook("SMS and app campaigns go through the webhook: set CONSENTRY_WEBHOOK_URL and _SECRET")
    return WebhookSessions(found)
