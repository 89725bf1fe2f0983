"""The writer's stored form of a moment is the one `stored` defines, whatever the moment."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from factories import MomentWithOwnText, odd_moment

from consentry.adapters.sql.stored import naive_utc, sqlite_moment, sqlite_time, utc
from consentry.adapters.sql.writer import _postgres_moment, _sqlite_moment


def test_a_moment_is_written_for_the_chain_and_for_each_store_as_stored_defines_it() -> None:
    rnd = random.Random(16)
    start = datetime(1900, 1, 1, tzinfo=UTC)
    for n in range(20_000):
        at = start + timedelta(microseconds=rnd.randrange(0, 200 * 365 * 86_400 * 10**6))
        if n % 2:
            at = at.replace(microsecond=0)
        if n % 5 == 0:
            at = at.astimezone(timezone(timedelta(minutes=rnd.randrange(-720, 720, 15))))
        assert _sqlite_moment(at) == (at.isoformat(), sqlite_time(naive_utc(at)))
        iso, stored = _postgres_moment(at)
        assert iso == at.isoformat()
        assert datetime.fromisoformat(stored) == naive_utc(at)
        assert stored.isprintable() and "\\" not in stored  # a COPY field as it is


def test_the_projection_stores_a_moment_as_its_naive_utc_text_whatever_its_year_or_zone() -> None:
    rnd = random.Random(17)
    zones = [
        UTC,
        UTC,
        UTC,
        timezone(timedelta(hours=1)),
        timezone(timedelta(0)),
        timezone(timedelta(hours=-7)),
    ]
    for _ in range(20_000):
        at = odd_moment(rnd, 2, zones)
        assert sqlite_moment(at) == sqlite_time(naive_utc(at))
    odd = MomentWithOwnText(2025, 3, 1, tzinfo=UTC)
    assert sqlite_moment(odd) == sqlite_time(naive_utc(odd))


def _utc_as_defined(value: datetime | str) -> datetime:
    """What `stored.utc` is defined to give: the moment (parsed from its text) relabelled UTC."""
    return (datetime.fromisoformat(value) if isinstance(value, str) else value).replace(tzinfo=UTC)


def test_a_stored_moment_is_read_as_the_moment_relabelled_utc_whatever_its_form() -> None:
    rnd = random.Random(18)
    start = datetime(1, 1, 1)
    zones = [timezone(timedelta(hours=2)), timezone(timedelta(minutes=-330)), UTC]
    for n in range(20_000):
        at = start + timedelta(microseconds=rnd.randrange(0, 9998 * 365 * 86_400 * 10**6))
        if n % 2:
            at = at.replace(microsecond=0)
        at = at.replace(fold=n % 3 == 0)  # a repeated hour's second instance keeps its fold
        if n % 7 == 0:  # an offset in the value or its text is dropped, not converted
            at = at.replace(tzinfo=zones[n % 3])
        for value in (at, at.isoformat(), at.isoformat(" ")):
            read, expected = utc(value), _utc_as_defined(value)
            assert read == expected and read.tzinfo is UTC
            assert (read.fold, read.utcoffset(), read.isoformat()) == (
                expected.fold,
                timedelta(0),
                expected.isoformat(),
            )
