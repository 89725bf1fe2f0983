"""Reading bounce and complaint reports from raw messages with the standard `email` package.

- A delivery status notification (DSN, RFC 3464) is `multipart/report;
  report-type=delivery-status`: a human-readable part, a `message/delivery-status`
  part (one block about the message, then one per recipient) and, often, the
  returned message or its headers.
- An abuse report (ARF, RFC 5965) is `multipart/report; report-type=feedback-report`:
  a human-readable part, a `message/feedback-report` part and the reported message
  or its headers.

Only what the reports say is returned; deciding what it means is the service's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime


class ReportError(ValueError):
    """The message is not a report of the expected kind, or lacks what it must say."""


@dataclass(frozen=True, slots=True)
class RecipientStatus:
    """One recipient block of a DSN."""

    recipient: str
    action: str
    status: str
    diagnostic: str | None
    at: str | None


@dataclass(frozen=True, slots=True)
class Dsn:
    """A delivery status notification: who it is about, and the message it returns."""

    recipients: list[RecipientStatus]
    message_id: str | None
    reporting_mta: str | None


@dataclass(frozen=True, slots=True)
class Arf:
    """An abuse report: the complaint and the reported message."""

    recipient: str
    feedback_type: str
    source: str | None
    message_id: str | None
    at: str | None


def _report(raw: bytes, report_type: str) -> Message:
    msg = message_from_bytes(raw, policy=policy.compat32)
    if msg.get_content_type() != "multipart/report" or msg.get_param("report-type") != report_type:
        found = msg.get_content_type()
        if found == "multipart/report":
            found += f"; report-type={msg.get_param('report-type')}"
        raise ReportError(f"not a multipart/report; report-type={report_type} message (it is {found})")
    return msg


def _part(msg: Message, content_type: str) -> Message | None:
    for part in msg.get_payload():
        if isinstance(part, Message) and part.get_content_type() == content_type:
            return part
    return None


def _blocks(part: Message | None) -> list[Message]:
    payload = part.get_payload() if part is not None else None
    return [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []


def _typed(value: str | None) -> str | None:
    """A typed field's value: `smtp; 550 5.1.1 unknown` as `550 5.1.1 unknown`, unfolded."""
    if not value:
        return None
    _kind, sep, rest = value.partition(";")
    return " ".join((rest if sep else value).split()) or None


def _address(value: str | None) -> str | None:
    """`rfc822; jan@example.nl` or `<jan@example.nl>` as `jan@example.nl`."""
    text = _typed(value)
    if text is None:
        return None
    return text.strip("<> ") or None


def _moment(value: str | None) -> str | None:
    """An RFC 5322 date as ISO 8601; None when absent or unreadable."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).isoformat()
    except (TypeError, ValueError):
        return None


def _returned_headers(msg: Message) -> Message | None:
    """The headers of the returned or reported message, whichever way they were attached."""
    for part in msg.get_payload():
        if not isinstance(part, Message):
            continue
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0]
        elif kind == "text/rfc822-headers":
            text = part.get_payload(decode=True)
            if isinstance(text, bytes):
                return HeaderParser().parsestr(text.decode("utf-8", "replace"))
    return None


def _message_id(headers: Message | None) -> str | None:
    value = headers.get("Message-ID") if headers is not None else None
    return _address(str(value)) if value else None


def parse_dsn(raw: bytes) -> Dsn:
    """The recipients a DSN reports on, with the Message-ID of the message it returns."""
    msg = _report(raw, "delivery-status")
    blocks = _blocks(_part(msg, "message/delivery-status"))
    if len(blocks) < 2:
        raise ReportError("the delivery-status part names no recipient")
    about, per_recipient = blocks[0], blocks[1:]
    recipients = []
    for block in per_recipient:
        recipient = _address(block.get("Original-Recipient")) or _address(block.get("Final-Recipient"))
        action = (block.get("Action") or "").strip().lower()
        status = (block.get("Status") or "").strip().split(" ")[0]
        if not recipient or not action or not status:
            raise ReportError("a recipient block lacks Final-Recipient, Action or Status (RFC 3464)")
        diagnostic = _typed(block.get("Diagnostic-Code"))
        at = _moment(block.get("Last-Attempt-Date")) or _moment(about.get("Arrival-Date"))
        recipients.append(RecipientStatus(recipient, action, status, diagnostic, at))
    return Dsn(recipients, _message_id(_returned_headers(msg)), _typed(about.get("Reporting-MTA")))


def parse_arf(raw: bytes) -> Arf:
    """The complaint an ARF report makes: who, what kind, reported by whom, about which message."""
    msg = _report(raw, "feedback-report")
    blocks = _blocks(_part(msg, "message/feedback-report"))
    if not blocks:
        raise ReportError("the report has no message/feedback-report part")
    fields = blocks[0]
    feedback_type = (fields.get("Feedback-Type") or "").strip().lower()
    if not feedback_type:
        raise ReportError("the feedback report has no Feedback-Type (RFC 5965)")
    headers = _returned_headers(msg)
    recipient = _address(fields.get("Original-Rcpt-To"))
    if recipient is None and headers is not None:
        found = [a for _name, a in getaddresses([str(headers.get("To", ""))]) if "@" in a]
        recipient = found[0] if len(found) == 1 else None
    if recipient is None:
        raise ReportError(
            "the report does not say who complained: no Original-Rcpt-To, and the reported "
            "message's To is not one address (the provider may have redacted it)"
        )
    source = _typed(fields.get("Reporting-MTA")) or (fields.get("User-Agent") or "").strip() or None
    return Arf(recipient, feedback_type, source, _message_id(headers), _moment(fields.get("Arrival-Date")))
