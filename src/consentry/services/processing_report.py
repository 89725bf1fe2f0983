"""The processing report for a period: what a privacy officer shows an auditor.

Counted from the ledger, by the Dutch calendar days of the period (both included):
consents given (by purpose and method) and confirmed, consents withdrawn and
unsubscribes, objections (GDPR Art. 21) by scope, data-subject requests by kind
with how fast they were answered, and erasures by reason (`request`, or the
retention policy `retention:<policy>`).

A request is received in `request.received` and answered in `request.handled`
(recorded by the data-subject request handling); the two are matched by their
`request_id`, or else by contact point and kind (the first answer after the
request). A request not answered by the end of the period counts as open, with
the days it has waited so far. The days to answer are calendar days
(Europe/Amsterdam), as the one-month deadline of Art. 12(3) counts them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any

from consentry.domain.clock import LOCAL_TZ
from consentry.domain.events import Event
from consentry.domain.state import local_day
from consentry.services.app import App
from consentry.services.errors import InputError

FORMAT = "consentry-processing-report"
VERSION = 1
#: The longest period one report covers (ten years): longer is a typing mistake.
MAX_DAYS = 3660


@dataclass(frozen=True, slots=True)
class Period:
    """Dutch calendar days from `start` to `end`, both included."""

    start: date
    end: date

    @classmethod
    def of(cls, start: date, end: date) -> Period:
        """The period, or InputError when it ends before it starts or spans more than ten years."""
        if end < start:
            raise InputError(
                "to", f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})"
            )
        if (end - start).days > MAX_DAYS:
            raise InputError("to", f"a report covers at most {MAX_DAYS} days; split the period")
        return cls(start, end)

    @property
    def first(self) -> datetime:
        """The first moment of the period."""
        return datetime.combine(self.start, time(), LOCAL_TZ)

    @property
    def after(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.end + timedelta(days=1), time(), LOCAL_TZ)

    def holds(self, moment: datetime) -> bool:
        """Whether a moment falls in the period."""
        return self.first <= moment < self.after


def processing(app: App, start: date, end: date) -> dict[str, Any]:
    """The report for the days from `start` to `end`, read from the whole ledger."""
    period = Period.of(start, end)
    with app.store.reader() as r:
        doc = summarise((row.event for row in r.chain()), period, app.clock.now())
    return doc


def summarise(events: Iterable[Event], period: Period, now: datetime) -> dict[str, Any]:
    """The report's document from the ledger's events (any order)."""
    given: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    objections: Counter[str] = Counter()
    unsubscribes: Counter[str] = Counter()
    erasures: Counter[str] = Counter()
    received: list[Event] = []
    handled: list[Event] = []
    for e in events:
        if e.type == "request.received":
            received.append(e)
        elif e.type == "request.handled":
            handled.append(e)
        if not period.holds(e.occurred_at):
            continue
        counts[e.type] += 1
        p = e.payload
        if e.type == "consent.given":
            given[p["purpose"]] += 1
            methods[p["method"]] += 1
        elif e.type == "objection.recorded":
            objections[p["scope"]] += 1
        elif e.type == "unsubscribed":
            unsubscribes[p.get("via") or "-"] += 1
        elif e.type == "contact_point.erased":
            erasures[p.get("reason") or "-"] += 1
    until = min(period.after, now)
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": now.isoformat(),
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "empty": not counts,
        "consents": {
            "given": counts["consent.given"],
            "given_by_purpose": dict(sorted(given.items())),
            "given_by_method": dict(sorted(methods.items())),
            "confirmed": counts["consent.confirmed"],
            "withdrawn": counts["consent.withdrawn"],
            "unsubscribed": counts["unsubscribed"],
            "unsubscribed_by_via": dict(sorted(unsubscribes.items())),
        },
        "objections": {
            "recorded": counts["objection.recorded"],
            "by_scope": dict(sorted(objections.items())),
        },
        "requests": _requests(received, handled, period, until),
        "erasures": {"total": counts["contact_point.erased"], "by_reason": dict(sorted(erasures.items()))},
        "complaints": counts["complaint.recorded"],
        "events": sum(counts.values()),
    }


def _answer_of(request: Event, handled: list[Event]) -> Event | None:
    # A tracked request's answer names the event it answers (also one received before tracking).
    named = next((h for h in handled if h.payload.get("received_event") == request.id), None)
    if named is not None:
        return named
    rid = request.payload.get("request_id")
    if rid is not None:
        return next((h for h in handled if h.payload.get("request_id") == rid), None)
    return next(
        (
            h
            for h in handled
            if h.payload.get("request_id") is None
            and h.contact_point_id == request.contact_point_id
            and h.payload.get("request") == request.payload["request"]
            and h.occurred_at >= request.occurred_at
        ),
        None,
    )


def _requests(received: list[Event], handled: list[Event], period: Period, until: datetime) -> dict[str, Any]:
    handled.sort(key=lambda e: (e.occurred_at, e.seq or 0))
    kinds: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    days: list[int] = []
    waiting: list[int] = []
    for req in received:
        if not period.holds(req.occurred_at):
            continue
        kinds[req.payload["request"]] += 1
        answer = _answer_of(req, handled)
        if answer is not None and answer.occurred_at < until:
            days.append((local_day(answer.occurred_at) - local_day(req.occurred_at)).days)
            outcomes[str(answer.payload.get("outcome") or "done")] += 1
        else:
            waiting.append((local_day(until - timedelta(microseconds=1)) - local_day(req.occurred_at)).days)
    return {
        "received": sum(kinds.values()),
        "by_kind": dict(sorted(kinds.items())),
        "answered": len(days),
        "by_outcome": dict(sorted(outcomes.items())),
        "days_to_answer_median": median(days) if days else None,
        "days_to_answer_max": max(days) if days else None,
        "open": len(waiting),
        "open_longest_days": max(waiting) if waiting else None,
    }
