"""The processing report's counting, on events made here (request.handled comes from the request handling)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from consentry.domain.events import Event
from consentry.services.errors import InputError
from consentry.services.processing_report import Period, summarise

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_seq = iter(range(1, 10_000))


def ev(kind: str, at: datetime, point: str = "cp_1", **payload: Any) -> Event:
    n = next(_seq)
    return Event(f"ev_{n}", kind, point, at, at, payload, seq=n)


def test_requests_are_matched_to_their_answers_by_request_id_or_point_and_kind() -> None:
    events = [
        ev("request.received", START, request="access", request_id="dsr_1"),
        ev(
            "request.handled",
            START + timedelta(days=10),
            request="access",
            request_id="dsr_1",
            outcome="done",
        ),
        ev("request.received", START, "cp_2", request="erasure"),
        ev("request.handled", START + timedelta(days=4), "cp_9", request="erasure"),  # another person's
        ev("request.handled", START + timedelta(days=30), "cp_2", request="erasure", outcome="refused"),
        ev("request.received", START + timedelta(days=5), "cp_3", request="access"),  # not answered
        ev("request.received", START - timedelta(days=40), "cp_4", request="access"),  # before the period
        ev("contact_point.erased", START + timedelta(days=2), "cp_5", reason="retention:unsubscribed-30d"),
        ev("contact_point.erased", START + timedelta(days=2), "cp_6", reason="request"),
        ev("contact_point.erased", START + timedelta(days=3), "cp_7", reason="request"),
    ]
    doc = summarise(events, Period.of(date(2026, 3, 1), date(2026, 3, 31)), datetime(2026, 6, 1, tzinfo=UTC))
    req = doc["requests"]
    assert req["received"] == 3 and req["by_kind"] == {"access": 2, "erasure": 1}
    assert req["answered"] == 2 and req["by_outcome"] == {"done": 1, "refused": 1}
    assert (req["days_to_answer_median"], req["days_to_answer_max"]) == (20, 30)
    # Waiting from 6 March to the period's last day, 31 March.
    assert req["open"] == 1 and req["open_longest_days"] == 25
    assert doc["erasures"] == {"total": 3, "by_reason": {"request": 2, "retention:unsubscribed-30d": 1}}


def test_an_answer_after_the_period_leaves_the_request_open_in_it() -> None:
    events = [
        ev("request.received", START, request="access", request_id="r"),
        ev("request.handled", START + timedelta(days=40), request="access", request_id="r"),
    ]
    doc = summarise(events, Period.of(date(2026, 3, 1), date(2026, 3, 31)), datetime(2026, 6, 1, tzinfo=UTC))
    assert doc["requests"]["answered"] == 0 and doc["requests"]["open"] == 1


def test_the_period_counts_dutch_calendar_days() -> None:
    late = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)  # 1 April 00:30 in Amsterdam
    doc = summarise(
        [ev("consent.given", late, purpose="p", channels=["email"], method="single_opt_in")],
        Period.of(date(2026, 3, 1), date(2026, 3, 31)),
        datetime(2026, 6, 1, tzinfo=UTC),
    )
    assert doc["empty"] and doc["consents"]["given"] == 0


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2026, 2, 1), date(2026, 1, 31), "ends (2026-01-31) before it starts (2026-02-01)"),
        (date(2000, 1, 1), date(2026, 1, 1), "at most 3660 days"),
    ],
)
def test_a_backwards_or_endless_period_is_refused_with_a_reason(start: date, end: date, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Period.of(start, end)
