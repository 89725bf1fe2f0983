"""Time: the injected clock, and reading moments people type."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol
from zoneinfo import ZoneInfo

#: Moments typed without a zone are Dutch local time.
LOCAL_TZ = ZoneInfo("Europe/Amsterdam")


class Clock(Protocol):
    """Something that tells the current time (aware, UTC)."""

    def now(self) -> datetime:
        """The current moment."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current moment in UTC."""
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that says what it is told (tests, demos)."""

    moment: datetime

    def now(self) -> datetime:
        """The fixed moment."""
        return self.moment


class MomentError(ValueError):
    """A date or time could not be read."""


def parse_moment(text: str) -> datetime:
    """Read an ISO 8601 date or date-time; without a zone it is Dutch local time.

    A bare date means noon on that day in Amsterdam, so it falls on that Dutch
    calendar day whatever the zone it is later shown in.
    """
    s = text.strip()
    try:
        if len(s) == 10:
            d = date.fromisoformat(s)
            return datetime.combine(d, time(12, 0), LOCAL_TZ).astimezone(UTC)
        moment = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise MomentError(
            f"{text!r} is not a date or time; use ISO 8601 such as 2025-03-01 or 2025-03-01T14:30:00+01:00"
        ) from None
    zone = moment.tzinfo
    if zone is UTC:  # (`fromisoformat` gives UTC itself for +00:00): `astimezone` would give it back
        return moment
    if zone is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # a moment its zone moves out of years 1-9999
        raise MomentError(f"{text!r} falls outside the years 1-9999 in UTC") from None
