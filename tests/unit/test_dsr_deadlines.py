"""The deadlines of data-subject requests: one calendar month in Dutch time, extended once by two."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from consentry.domain.clock import LOCAL_TZ
from consentry.domain.dsr import (
    DsrRequest,
    RequestKind,
    RequestState,
    Via,
    due_after,
    extended_due,
    last_day,
)


def amsterdam(*args: int) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


@pytest.mark.parametrize(
    ("received", "due_day"),
    [
        (amsterdam(2027, 1, 15, 9), date(2027, 2, 15)),
        (amsterdam(2027, 1, 31, 9), date(2027, 2, 28)),  # February has no 31st: its last day
        (amsterdam(2028, 1, 31, 9), date(2028, 2, 29)),  # a leap year
        (amsterdam(2027, 3, 31, 9), date(2027, 4, 30)),
        (amsterdam(2026, 12, 15, 9), date(2027, 1, 15)),  # over the turn of the year
    ],
)
def test_a_request_is_due_by_the_end_of_the_same_day_a_calendar_month_later(
    received: datetime, due_day: date
) -> None:
    due = due_after(received)
    assert last_day(due) == due_day
    next_midnight = datetime.combine(due_day + timedelta(days=1), time(0), LOCAL_TZ)
    assert due == next_midnight.astimezone(UTC)


def test_a_request_received_late_in_the_dutch_evening_counts_from_that_dutch_day_not_the_utc_day() -> None:
    received = amsterdam(2027, 1, 31, 23, 30)  # 22:30 UTC on the 31st
    assert last_day(due_after(received)) == date(2027, 2, 28)
    just_after_midnight = amsterdam(2027, 2, 1, 0, 30)  # 23:30 UTC on 31 January
    assert last_day(due_after(just_after_midnight)) == date(2027, 3, 1)


def test_the_deadline_ends_at_dutch_midnight_in_summer_and_in_winter() -> None:
    summer = due_after(amsterdam(2027, 6, 10, 12))
    winter = due_after(amsterdam(2027, 11, 10, 12))
    assert summer == datetime(2027, 7, 10, 22, 0, tzinfo=UTC)  # 11 July 00:00 CEST
    assert winter == datetime(2027, 12, 10, 23, 0, tzinfo=UTC)  # 11 December 00:00 CET


@pytest.mark.parametrize(
    ("received", "extended_day"),
    [
        (amsterdam(2027, 1, 15, 9), date(2027, 4, 15)),
        (amsterdam(2027, 1, 31, 9), date(2027, 4, 28)),  # two months from the first deadline's day
        (amsterdam(2027, 11, 20, 9), date(2028, 2, 20)),
    ],
)
def test_an_extension_adds_two_months_to_the_first_deadline(received: datetime, extended_day: date) -> None:
    assert last_day(extended_due(due_after(received))) == extended_day


def _request(received: datetime, **changes: object) -> DsrRequest:
    base = DsrRequest(
        "dsr_1", "cp_1", RequestKind.ACCESS, received, due_after(received), Via.API, "nl", "ev_1"
    )
    return base.but(**changes)


def test_a_request_is_overdue_from_the_first_moment_after_its_last_day_until_it_is_closed() -> None:
    q = _request(amsterdam(2027, 1, 15, 9))
    assert not q.overdue(amsterdam(2027, 2, 15, 23, 59))
    assert q.overdue(amsterdam(2027, 2, 16, 0, 0))
    assert q.days_left(amsterdam(2027, 2, 10, 8)) == 5
    assert q.days_left(amsterdam(2027, 2, 17, 8)) == -2
    assert not q.but(state=RequestState.DONE).overdue(amsterdam(2027, 3, 1))


def test_an_extended_request_is_judged_by_its_extended_deadline() -> None:
    q = _request(amsterdam(2027, 1, 15, 9))
    q = q.but(extended_until=extended_due(q.due_at))
    assert q.deadline_day == date(2027, 4, 15)
    assert not q.overdue(amsterdam(2027, 3, 1))
    assert q.to_json(amsterdam(2027, 3, 1))["deadline_day"] == "2027-04-15"
