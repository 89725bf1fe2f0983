"""Dates and times as Dutch files write them: read day first, in Dutch local time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from consentry.domain.clock import MomentError
from consentry.services.imports.dates import parse_dutch_moment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Winter time (CET, UTC+1): 14:05 in Amsterdam is 13:05 UTC.
        ("12-3-2024 14:05", datetime(2024, 3, 12, 13, 5, tzinfo=UTC)),
        ("12-03-2024 14:05:30", datetime(2024, 3, 12, 13, 5, 30, tzinfo=UTC)),
        ("12.03.2024 14.05", datetime(2024, 3, 12, 13, 5, tzinfo=UTC)),
        # A date alone means noon on that Dutch day.
        ("12/03/2024", datetime(2024, 3, 12, 11, 0, tzinfo=UTC)),
        ("12 maart 2024", datetime(2024, 3, 12, 11, 0, tzinfo=UTC)),
        ("12 mrt 2024", datetime(2024, 3, 12, 11, 0, tzinfo=UTC)),
        ("12 mrt. 2024 9:30", datetime(2024, 3, 12, 8, 30, tzinfo=UTC)),
        ("dinsdag 12 Maart 2024, 14:05", datetime(2024, 3, 12, 13, 5, tzinfo=UTC)),
        # Summer time (CEST, UTC+2).
        ("1 juli 2024 08:00", datetime(2024, 7, 1, 6, 0, tzinfo=UTC)),
        ("3 okt 2025", datetime(2025, 10, 3, 10, 0, tzinfo=UTC)),
        # ISO 8601 as before.
        ("2024-03-12", datetime(2024, 3, 12, 11, 0, tzinfo=UTC)),
        ("2024-03-12T14:05:00+00:00", datetime(2024, 3, 12, 14, 5, tzinfo=UTC)),
    ],
)
def test_a_dutch_date_is_read_day_first_in_amsterdam_time(text: str, expected: datetime) -> None:
    assert parse_dutch_moment(text) == expected


def test_the_day_comes_first_even_when_it_could_be_a_month() -> None:
    assert parse_dutch_moment("3-12-2024").date().isoformat() == "2024-12-03"
    assert parse_dutch_moment("12/3/2024").date().isoformat() == "2024-03-12"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("31-2-2024", "not a day of the calendar"),
        ("12-3-24", "four digits"),
        ("12 foo 2024", "'foo' is not a month"),
        ("12-3-2024 25:00", "not a time of day"),
        ("12-3/2024", "is not a date"),
        ("gisteren", "is not a date"),
        ("  ", "empty"),
    ],
)
def test_what_is_not_a_date_is_refused_saying_why_and_how_to_write_it(text: str, says: str) -> None:
    with pytest.raises(MomentError, match=says):
        parse_dutch_moment(text)


def test_the_mapping_is_guessed_from_a_dutch_header_and_leaves_unknown_columns_alone() -> None:
    from consentry.services.imports.csv_mapper import guess_columns

    header = ["Klantnummer", "E-mailadres", "Naam", "Telefoonnummer", "Aangemeld op", "IP-adres", "Plaats"]
    assert guess_columns(header) == {
        "email": "E-mailadres",
        "phone": "Telefoonnummer",
        "name": "Naam",
        "consent_at": "Aangemeld op",
        "consent_ip": "IP-adres",
    }
    assert guess_columns(["Email Address", "OPTIN_TIME", "TAGS"]) == {
        "email": "Email Address",
        "consent_at": "OPTIN_TIME",
        "tags": "TAGS",
    }
    assert guess_columns(["Plaats", ""]) == {}
