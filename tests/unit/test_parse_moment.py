"""`parse_moment` reads every form as before: the same moment, in UTC, refused in the same words."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time

import pytest

from consentry.domain.clock import LOCAL_TZ, MomentError, parse_moment


def _reference(text: str) -> datetime:
    """`parse_moment` as it was written before it returned a moment read in UTC as it is."""
    s = text.strip()
    if len(s) == 10:
        return datetime.combine(date.fromisoformat(s), time(12, 0), LOCAL_TZ).astimezone(UTC)
    moment = datetime.fromisoformat(s.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(UTC)


def test_a_moment_in_any_zone_or_none_reads_as_before() -> None:
    rnd = random.Random(16)
    zones = ["+00:00", "Z", "-00:00", "+01:00", "+02:00", "-05:30", "+14:00", "", " ", "+0000", "+00"]
    for _ in range(5000):
        day = date(rnd.randrange(1, 10000), rnd.randrange(1, 13), rnd.randrange(1, 29)).isoformat()
        clock = f"{rnd.randrange(24):02d}:{rnd.randrange(60):02d}:{rnd.randrange(60):02d}"
        fraction = rnd.choice(["", f".{rnd.randrange(10**6):06d}", f".{rnd.randrange(1000):03d}"])
        text = rnd.choice([" ", ""]) + day + rnd.choice(["T", " "]) + clock + fraction + rnd.choice(zones)
        try:
            expected = _reference(text)
        except (ValueError, OverflowError):
            with pytest.raises(MomentError):
                parse_moment(text)
            continue
        got = parse_moment(text)
        assert got == expected and got.tzinfo is UTC and type(got) is datetime, text
        assert got.isoformat() == expected.isoformat(), text
    assert parse_moment("2025-03-01") == _reference("2025-03-01")
    with pytest.raises(MomentError, match="is not a date or time"):
        parse_moment("2025-13-01T10:00:00+00:00")


@pytest.mark.parametrize(
    "text",
    ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "0001-01-01T00:10:00", "0001-01-01 00:00"],
)
def test_a_moment_its_zone_moves_out_of_the_calendar_is_refused_in_words(text: str) -> None:
    # Before: `astimezone` raised OverflowError past the callers (an append failed whole, the API a 500).
    with pytest.raises(MomentError, match="outside the years 1-9999"):
        parse_moment(text)
