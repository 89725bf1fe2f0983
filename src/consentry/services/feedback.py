"""Bounces and complaints fed back from delivery: recorded once, all or nothing, suppressing.

A hard bounce or a complaint (spam report) makes the point `suppressed`, so rule
OPS-SUPP-01 denies every later electronic message to it. Soft bounces are
counted; when `soft_bounce_limit` of them fall within `soft_bounce_days`, a hard
bounce is derived and recorded in the ledger (`derived_from` names the soft
bounces), so the suppression has the same evidence trail as any other.

Feedback is idempotent: an item with a caller's `id`, or with a `message_id`,
gets an event id derived from it (and its contact point and kind), so the same
feedback sent twice is recorded once and reported as a duplicate. An item with
neither is recorded each time it is sent.

A request is all or nothing: every item is checked first and any problem rejects
the whole request, each problem naming its item (line) and field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from consentry.domain.clock import MomentError, parse_moment
from consentry.domain.errors import FieldError
from consentry.domain.events import Event
from consentry.domain.ids import derived_id
from consentry.domain.text import control_character
from consentry.domain.vocabulary import PointKind
from consentry.services.app import App
from consentry.services.contacts import UnknownContact, resolve
from consentry.services.errors import FileRejected, InputError, LineProblem
from consentry.services.ledger import MAX_PROBLEMS, append_in
from consentry.services.ports import Writing

BOUNCE = "bounce.recorded"
COMPLAINT = "complaint.recorded"
#: ARF feedback types (RFC 5965) that are complaints; `not-spam` (RFC 6430) is not one.
FEEDBACK_TYPES = ("abuse", "fraud", "virus", "other")
#: Enhanced status code (RFC 3463) or basic SMTP reply code (RFC 5321).
_CODE = re.compile(r"^(?:[245]\.\d{1,3}\.\d{1,3}|[245]\d\d)$")
_LIMITS = {
    "code": 16,
    "reason": 2000,
    "campaign": 200,
    "message_id": 998,
    "source": 200,
    "feedback_type": 32,
    "id": 200,
}
#: Where a ledger field comes from in the caller's terms, to name it in errors.
_INPUT_NAMES = {"bounce_kind": "kind", "diagnostic": "reason", "status": "code", "feedback_source": "source"}


class BounceKind(StrEnum):
    """A bounce is permanent (`hard`) or temporary (`soft`)."""

    HARD = "hard"
    SOFT = "soft"


@dataclass(frozen=True, slots=True)
class Bounce:
    """A message to the contact point could not be delivered."""

    contact: str
    kind: str | None = None
    code: str | None = None
    reason: str | None = None
    campaign: str | None = None
    message_id: str | None = None
    id: str | None = None
    occurred_at: str | None = None


@dataclass(frozen=True, slots=True)
class Complaint:
    """The person reported a message as spam (a feedback loop, an ARF report, a STOP reply)."""

    contact: str
    feedback_type: str | None = None
    source: str | None = None
    campaign: str | None = None
    message_id: str | None = None
    id: str | None = None
    occurred_at: str | None = None


Feedback = Bounce | Complaint


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one item: its event, and whether it was there already."""

    line: int
    event_id: str
    contact_point: str
    duplicate: bool


@dataclass
class FeedbackReport:
    """What a request recorded."""

    recorded: int = 0
    duplicates: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    #: Contact points this request suppressed (hard bounce, complaint or soft-bounce limit).
    suppressed: list[str] = field(default_factory=list)
    #: How the lines of a CSV file were read (None for other requests).
    file: FileLines | None = None

    def accounting(self) -> str:
        """The line that accounts for every row and line of a CSV file (all rows were
        recorded, or already there: a file with a problem records nothing)."""
        f = self.file
        if f is None:
            return ""
        parts = [f"{f.header_lines} header", f"{f.rows} rows"]
        if f.lines - f.header_lines - f.blank_lines - f.rows:
            parts.append(f"{f.lines - f.header_lines - f.blank_lines - f.rows} more in quoted fields")
        if f.blank_lines:
            parts.append(f"{f.blank_lines} blank")
        new = len(self.outcomes) - self.duplicates
        return (
            f"rows: {f.rows} = {new} recorded + {self.duplicates} already recorded + 0 rejected; "
            f"lines: {f.lines} = {' + '.join(parts)}"
        )


@dataclass(frozen=True, slots=True)
class FileLines:
    """How a CSV file's physical lines were read: the header, rows and blank lines."""

    rows: int
    lines: int
    header_lines: int
    blank_lines: int


@dataclass(frozen=True, slots=True)
class _Planned:
    line: int
    point: str
    record: dict[str, Any]


def _text(name: str, value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > _LIMITS[name]:
        raise InputError(name, f"is longer than {_LIMITS[name]} characters")
    _unicode(name, value)
    return value


def _unicode(name: str, value: str) -> None:
    """Refuse lone surrogates (JSON can carry them) and control characters such as NUL:
    PostgreSQL cannot store them, and a look-up with one would fail there."""
    problem = control_character(value)
    if problem:
        raise InputError(name, problem)


def _message_id(value: str | None) -> str | None:
    text = _text("message_id", value)
    if text is None:
        return None
    return text.strip("<>").strip() or None


def _moment(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return parse_moment(value).isoformat()
    except MomentError as exc:
        raise InputError("occurred_at", str(exc)) from None


def _bounce_kind(kind: str | None, code: str | None) -> BounceKind:
    if kind is not None and kind.strip():
        try:
            return BounceKind(kind.strip().lower())
        except ValueError:
            raise InputError("kind", f"{kind!r} is not one of: hard, soft") from None
    if code is None:
        raise InputError("kind", "is required: hard or soft (or give a code to tell it from)")
    if code.startswith("2"):
        raise InputError("code", f"{code} means delivered: it is not a bounce")
    return BounceKind.HARD if code.startswith("5") else BounceKind.SOFT


def _code(value: str | None) -> str | None:
    code = _text("code", value)
    if code is not None and not _CODE.match(code):
        raise InputError("code", f"{code!r} is not an SMTP status such as 5.1.1 or 550")
    return code


def _plan(app: App, w: Writing, line: int, item: Feedback) -> _Planned:
    """Check one item and turn it into a ledger record for its contact point."""
    if not isinstance(item.contact, str) or not item.contact.strip():
        raise InputError("contact", "is required: an e-mail address, phone number or contact point id")
    _unicode("contact", item.contact)
    try:
        point, kind = resolve(w, item.contact, app.settings.default_region)
    except UnknownContact:
        raise InputError(
            "contact", "is not a registered contact point; feedback is recorded only for known ones"
        ) from None
    if kind is PointKind.POSTAL:
        raise InputError("contact", "bounces and complaints are for e-mail addresses and phone numbers")
    given = _text("id", item.id)
    message_id = _message_id(item.message_id)
    record: dict[str, Any] = {"contact": point, "campaign": _text("campaign", item.campaign)}
    record["message_id"] = message_id
    record["occurred_at"] = _moment(item.occurred_at)
    if isinstance(item, Bounce):
        code = _code(item.code)
        bounce_kind = _bounce_kind(item.kind, code)
        record |= {
            "type": BOUNCE,
            "bounce_kind": bounce_kind.value,
            "status": code,
            "diagnostic": _text("reason", item.reason),
        }
        key = bounce_kind.value
    else:
        feedback_type = (_text("feedback_type", item.feedback_type) or "abuse").lower()
        if feedback_type not in FEEDBACK_TYPES:
            raise InputError("feedback_type", f"must be one of: {', '.join(FEEDBACK_TYPES)}")
        record |= {
            "type": COMPLAINT,
            "feedback_type": feedback_type,
            "feedback_source": _text("source", item.source),
        }
        key = "complaint"
    if given is not None:
        record["id"] = derived_id("fb", "caller", record["type"], given)
    elif message_id is not None:
        record["id"] = derived_id("fb", "message", point, message_id, key)
    else:
        record["id"] = app.ids("ev")
    return _Planned(line, point, {k: v for k, v in record.items() if v is not None})


def record(app: App, items: Iterable[tuple[int, Feedback | InputError]]) -> FeedbackReport:
    """Record numbered bounces and complaints in one transaction; FileRejected if any is bad.

    An item may be an InputError already (a line that could not be read): it is
    reported in its place like any other problem.
    """
    with app.store.writer() as w:
        planned: list[_Planned] = []
        problems: list[LineProblem] = []
        for line, item in items:
            try:
                if isinstance(item, InputError):
                    raise item
                planned.append(_plan(app, w, line, item))
            except FieldError as exc:
                problems.append(LineProblem(line, exc.field, exc.message))
                if len(problems) > MAX_PROBLEMS:
                    break
        if problems:
            raise FileRejected(problems[:MAX_PROBLEMS], len(problems) > MAX_PROBLEMS)
        return _write(app, w, planned)


def _write(app: App, w: Writing, planned: list[_Planned]) -> FeedbackReport:
    report = FeedbackReport()
    existing = w.existing_event_ids([p.record["id"] for p in planned])
    before = {point: _is_suppressed(w.state(point)) for point in {p.point for p in planned}}
    fresh: list[tuple[int, dict[str, Any]]] = []
    for p in planned:
        event_id = p.record["id"]
        duplicate = event_id in existing
        existing.add(event_id)
        report.outcomes.append(Outcome(p.line, event_id, p.point, duplicate))
        if not duplicate:
            fresh.append((p.line, p.record))
    report.duplicates = len(planned) - len(fresh)
    try:
        result = append_in(app, w, fresh, trusted_ids=True)
    except FileRejected as exc:
        problems = [LineProblem(p.line, _INPUT_NAMES.get(p.field, p.field), p.message) for p in exc.problems]
        raise FileRejected(problems, exc.truncated) from None
    report.recorded = result.appended
    soft = sorted({rec["contact"] for _, rec in fresh if rec.get("bounce_kind") == BounceKind.SOFT})
    report.recorded += _escalate(app, w, soft)
    w.project_pending()
    report.suppressed = sorted(
        point for point, was in before.items() if not was and _is_suppressed(w.state(point))
    )
    return report


def _is_suppressed(state: dict[str, Any] | None) -> bool:
    return bool(state and (state.get("hard_bounced_at") or state.get("complained_at")))


def _escalate(app: App, w: Writing, points: Sequence[str]) -> int:
    """Record a derived hard bounce for each point whose soft bounces reached the limit."""
    limit, window = app.settings.soft_bounce_limit, timedelta(days=app.settings.soft_bounce_days)
    if limit <= 0 or not points:
        return 0
    derived: list[Event] = []
    for point in points:
        bounces = [e for e in w.events_for(point) if e.type == BOUNCE]
        if any(e.payload["bounce_kind"] == BounceKind.HARD for e in bounces):
            continue
        run = _first_run(sorted(bounces, key=lambda e: e.occurred_at), limit, window)
        if run is None:
            continue
        at = run[-1].occurred_at
        days = app.settings.soft_bounce_days
        derived.append(
            Event(
                id=derived_id("fb", "soft-limit", point, run[0].id),
                type=BOUNCE,
                contact_point_id=point,
                occurred_at=at,
                recorded_at=w.now,
                payload={
                    "bounce_kind": BounceKind.HARD.value,
                    "diagnostic": f"{len(run)} soft bounces within {days} days (consentry soft-bounce limit)",
                    "derived_from": [e.id for e in run],
                },
            )
        )
    w.append(derived, project=False)
    return len(derived)


def _first_run(bounces: Sequence[Event], limit: int, window: timedelta) -> list[Event] | None:
    """The first `limit` soft bounces that fall within `window` of each other, if any."""
    start = 0
    for end, last in enumerate(bounces):
        while last.occurred_at - bounces[start].occurred_at > window:
            start += 1
        if end - start + 1 >= limit:
            return list(bounces[start : end + 1])
    return None


def record_one(app: App, item: Feedback) -> FeedbackReport:
    """Record one bounce or complaint; InputError naming the field when it is wrong."""
    try:
        return record(app, [(1, item)])
    except FileRejected as exc:
        first = exc.problems[0]
        raise InputError(first.field, first.message) from None
