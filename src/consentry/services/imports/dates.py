"""Dates and times as Dutch files write them, read with the day first.

A Dutch spreadsheet writes 12 March 2024 as `12-3-2024`, `12/03/2024` or
`12.03.2024`, or spelled out as `12 maart 2024` or `12 mrt 2024`, with a time
after it or not (`12-3-2024 14:05`). All of these are read day first: `3-12-2024`
is 3 December, never 12 March. ISO 8601 (`2024-03-12`, `2024-03-12T14:05:00+01:00`)
is read as `consentry.domain.clock.parse_moment` reads it.

Without a zone the moment is Dutch local time (Europe/Amsterdam); a date without
a time means noon on that day, as `parse_moment` does, so it stays on that Dutch
calendar day in any zone. A two-digit year is refused: `12-3-24` could be 1924.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from consentry.domain.clock import LOCAL_TZ, MomentError, parse_moment

#: Month names and their usual abbreviations, Dutch first, then English (files exported
#: by English software in a Dutch office).
MONTHS = {
    **dict.fromkeys(("januari", "jan"), 1),
    **dict.fromkeys(("februari", "feb", "febr"), 2),
    **dict.fromkeys(("maart", "mrt", "mar", "march"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "jun", "june"), 6),
    **dict.fromkeys(("juli", "jul", "july"), 7),
    **dict.fromkeys(("augustus", "aug", "august"), 8),
    **dict.fromkeys(("september", "sep", "sept"), 9),
    **dict.fromkeys(("oktober", "okt", "oct", "october"), 10),
    **dict.fromkeys(("november", "nov"), 11),
    **dict.fromkeys(("december", "dec"), 12),
    "january": 1,
    "february": 2,
}
_TIME = r"(?:[ T]+(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<second>\d{2}))?)?"
_NUMERIC = re.compile(r"(?P<day>\d{1,2})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{2,4})" + _TIME)
_SPELLED = re.compile(
    r"(?:[a-z]+,?\s+)?(?P<day>\d{1,2})\s+(?P<month>[a-z]+)\.?\s+(?P<year>\d{2,4})"
    + _TIME.replace("[ T]+", r"[ T,]+")
)
_EXAMPLES = "write e.g. 12-3-2024, 12/03/2024 14:05, 12 maart 2024 or 2024-03-12"


def parse_dutch_moment(text: str) -> datetime:
    """A moment (aware, UTC) from a Dutch or ISO 8601 date, with or without a time; day first.

    MomentError says what is wrong and how to write it.
    """
    s = " ".join(text.strip().lower().split())
    if not s:
        raise MomentError(f"empty; {_EXAMPLES}")
    found = _NUMERIC.fullmatch(s)
    month: int | None
    if found:
        month = int(found["month"])
    else:
        found = _SPELLED.fullmatch(s)
        if not found:
            try:
                return parse_moment(text)
            except MomentError:
                raise MomentError(f"{text.strip()!r} is not a date; {_EXAMPLES}") from None
        month = MONTHS.get(found["month"])
        if month is None:
            raise MomentError(f"{text.strip()!r}: {found['month']!r} is not a month; {_EXAMPLES}")
    if len(found["year"]) != 4:
        raise MomentError(f"{text.strip()!r}: give the year in four digits (2024, not 24)")
    try:
        day = date(int(found["year"]), month, int(found["day"]))
    except ValueError:
        raise MomentError(f"{text.strip()!r} is not a day of the calendar (read day first)") from None
    if found["hour"] is None:
        at = time(12, 0)
    else:
        try:
            at = time(int(found["hour"]), int(found["minute"]), int(found["second"] or 0))
        except ValueError:
            raise MomentError(f"{text.strip()!r}: the time is not a time of day") from None
    return datetime.combine(day, at, LOCAL_TZ).astimezone(UTC)
