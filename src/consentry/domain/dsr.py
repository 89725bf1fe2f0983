"""Data-subject requests (GDPR Art. 15-21) and their deadlines (Art. 12(3)).

A request is answered within one month of receipt; that period may be extended
once by two further months, if the person is told so, with the reasons, within
the first month. A month is counted by the calendar in Dutch time: a request
received on 15 January (Amsterdam) is due by the end of 15 February; one
received on 31 January by the end of the last day of February (Regulation
1182/71 art. 3(2)(c) counts month periods this way). `due_at` is the first
moment after the period: the next day's midnight in Amsterdam, in UTC.

The request row holds ids and codes only; what people wrote (the note, the
reason of an extension, the outcome) is kept in the ledger events whose ids
the row names, where the store seals personal fields.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from consentry.domain.clock import LOCAL_TZ
from consentry.domain.state import add_months, local_day

#: Months to answer in, and the months an extension adds (Art. 12(3)).
ANSWER_MONTHS = 1
EXTENSION_MONTHS = 2


class RequestKind(StrEnum):
    """What the person asks for."""

    ACCESS = "access"  # Art. 15
    RECTIFICATION = "rectification"  # Art. 16
    ERASURE = "erasure"  # Art. 17
    RESTRICTION = "restriction"  # Art. 18
    PORTABILITY = "portability"  # Art. 20
    OBJECTION = "objection"  # Art. 21


class RequestState(StrEnum):
    """Where a request stands. The last three are closed: nothing changes them any more."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


CLOSED = frozenset({RequestState.DONE, RequestState.REFUSED, RequestState.WITHDRAWN})


class Outcome(StrEnum):
    """How a request was closed (the closed states)."""

    DONE = "done"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class IdentityStatus(StrEnum):
    """Whether the person is who the request says (Art. 12(6))."""

    UNVERIFIED = "unverified"
    VERIFIED = "verified"
    FAILED = "failed"


class IdentityMethod(StrEnum):
    """How the identity was checked."""

    #: The request came through a signed link mailed to the address (the preference centre).
    SIGNED_LINK = "signed_link"
    #: A reply from the registered address to a mail sent to it.
    EMAIL_REPLY = "email_reply"
    #: A call back to the registered number.
    CALL_BACK = "call_back"
    #: A document was shown (and not copied: only that it was seen is recorded).
    DOCUMENT_SEEN = "document_seen"
    #: The person logged in to their customer account.
    ACCOUNT_LOGIN = "account_login"
    #: In person, at a desk or a meeting.
    IN_PERSON = "in_person"


class Via(StrEnum):
    """How the request reached the sender."""

    PREFERENCE_CENTRE = "preference_centre"
    API = "api"
    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"
    IN_PERSON = "in_person"


class ToldVia(StrEnum):
    """How the person was told (an extension and its reasons, an outcome)."""

    EMAIL = "email"
    LETTER = "letter"
    PHONE = "phone"


def period_end(day: date) -> datetime:
    """The first moment after a Dutch calendar day (its end), in UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), LOCAL_TZ).astimezone(UTC)


def last_day(moment: datetime) -> date:
    """The Dutch calendar day a period ending at `moment` (exclusive) ends on."""
    return local_day(moment - timedelta(microseconds=1))


def due_after(received_at: datetime) -> datetime:
    """When a request received at that moment must be answered by (exclusive)."""
    return period_end(add_months(local_day(received_at), ANSWER_MONTHS))


def extended_due(due_at: datetime) -> datetime:
    """The deadline after the one extension: two further months from the first deadline's day."""
    return period_end(add_months(last_day(due_at), EXTENSION_MONTHS))


@dataclass(frozen=True, slots=True)
class DsrRequest:
    """A data-subject request as stored: ids, codes and moments only."""

    id: str
    contact_point_id: str
    kind: RequestKind
    received_at: datetime
    due_at: datetime
    via: Via
    language: str
    received_event: str
    #: The point's contact as the store keys it (the person's other points share it).
    contact_ref: str | None = None
    state: RequestState = RequestState.OPEN
    identity: IdentityStatus = IdentityStatus.UNVERIFIED
    identity_method: IdentityMethod | None = None
    identity_checked_at: datetime | None = None
    extended_until: datetime | None = None
    #: The `request.extended` event: it holds the reason given to the person.
    extension_event: str | None = None
    extension_notified_at: datetime | None = None
    handler: str | None = None
    handled_at: datetime | None = None
    #: The `request.handled` event: it holds the outcome note.
    outcome_event: str | None = None
    person_told_at: datetime | None = None
    #: The Dutch day the privacy officer was last reminded of it.
    reminded_on: date | None = None
    updated_at: datetime | None = None

    @property
    def deadline(self) -> datetime:
        """The deadline in force: the extended one once extended."""
        return self.extended_until or self.due_at

    @property
    def deadline_day(self) -> date:
        """The Dutch calendar day the request must be answered on at the latest."""
        return last_day(self.deadline)

    @property
    def closed(self) -> bool:
        """Done, refused or withdrawn."""
        return self.state in CLOSED

    def overdue(self, now: datetime) -> bool:
        """Still open past its deadline."""
        return not self.closed and now >= self.deadline

    def days_left(self, now: datetime) -> int:
        """Dutch calendar days from today to the deadline's day (negative when overdue)."""
        return (self.deadline_day - local_day(now)).days

    def but(self, **changes: Any) -> DsrRequest:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_json(self, now: datetime | None = None) -> dict[str, Any]:
        """The request as JSON (the API's and `dsr list --json`'s shape)."""

        def ts(d: datetime | None) -> str | None:
            return d.isoformat() if d else None

        out: dict[str, Any] = {
            "id": self.id,
            "contact_point_id": self.contact_point_id,
            "contact_ref": self.contact_ref,
            "kind": self.kind.value,
            "state": self.state.value,
            "received_at": ts(self.received_at),
            "due_at": ts(self.due_at),
            "due_day": last_day(self.due_at).isoformat(),
            "extended_until": ts(self.extended_until),
            "extension_event": self.extension_event,
            "extension_notified_at": ts(self.extension_notified_at),
            "deadline_day": self.deadline_day.isoformat(),
            "identity": self.identity.value,
            "identity_method": self.identity_method.value if self.identity_method else None,
            "identity_checked_at": ts(self.identity_checked_at),
            "via": self.via.value,
            "language": self.language,
            "handler": self.handler,
            "handled_at": ts(self.handled_at),
            "received_event": self.received_event,
            "outcome_event": self.outcome_event,
            "person_told_at": ts(self.person_told_at),
        }
        if now is not None:
            out["overdue"] = self.overdue(now)
            out["days_left"] = self.days_left(now)
        return out
