"""Unsubscribes that arrive by e-mail: the mailto: link of List-Unsubscribe (RFC 2369).

A campaign message's List-Unsubscribe header carries, besides the one-click URL,
`mailto:MAILBOX?subject=unsubscribe%20TOKEN`. A mail client that uses it sends a
message with that subject to the mailbox. Feeding such a message in (the raw
message, as received) verifies the token and records the unsubscribe, with the
message's sender, date and Message-ID as evidence. The token alone decides who is
unsubscribed: whoever sends the mail, only the person the link was made for is
affected, and an unknown or forged token changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from consentry.services import public
from consentry.services.app import App
from consentry.services.errors import InputError, TokenExpired, TokenInvalid

#: "unsubscribe TOKEN" in the subject (clients may prefix "Re:" or add words around it).
_SUBJECT = re.compile(r"\bunsubscribe\s+([A-Za-z0-9_\-.]+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MailUnsubscribe:
    """What one unsubscribe mail did."""

    contact_point: str
    purpose: str | None
    sender: str


def unsubscribe_by_mail(app: App, raw: bytes) -> MailUnsubscribe:
    """Record the unsubscribe a mailto: reply asks for; InputError when the message carries none."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    subject = str(msg.get("Subject", ""))
    found = _SUBJECT.search(subject)
    if found is None:
        raise InputError("Subject", f"no 'unsubscribe TOKEN' in the subject {subject[:80]!r}")
    token = found.group(1)
    try:
        claims, purpose = public.unsubscribe_claims(app, token)
    except TokenExpired:
        raise InputError("Subject", "the unsubscribe token has expired") from None
    except TokenInvalid:
        raise InputError(
            "Subject", "the unsubscribe token is not valid (forged, cut off or unknown)"
        ) from None
    sender = str(msg.get("From", "")).strip()[:300]
    details = {"mail_from": sender} if sender else {}
    if msg.get("Message-ID"):
        details["mail_message_id"] = str(msg["Message-ID"]).strip()[:300]
    public.unsubscribe(app, token, False, "reply", public.Evidence(), details)
    return MailUnsubscribe(claims.contact_point, purpose.key if purpose else None, sender)
