"""The import's per-row mapping helpers read each value as their plain definitions do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.adapters.addresses import Normalised
from consentry.adapters.csvfile import Row
from consentry.domain import limits
from consentry.domain.vocabulary import PointKind
from consentry.services.imports.mailchimp import mc_time
from consentry.services.imports.model import RowRejected, check_cells, ref, split_tags


def _reference_time(raw: str) -> str:
    """A Mailchimp time as ISO 8601 in UTC, the plain way."""
    moment = datetime.fromisoformat(raw.strip())
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC).isoformat()
    return moment.astimezone(UTC).isoformat()


_zones = st.one_of(
    st.none(),
    st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)


@settings(max_examples=400, deadline=None)
@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)),
    _zones,
    st.sampled_from([" ", "T"]),
    st.sampled_from(["seconds", "milliseconds", "microseconds", "auto"]),
)
def test_mailchimp_times_read_as_utc_iso_text_like_the_plain_conversion(
    moment: datetime, zone: timezone | None, sep: str, spec: str
) -> None:
    raw = moment.replace(tzinfo=zone).isoformat(sep=sep, timespec=spec)
    assert mc_time(raw, "OPTIN_TIME") == _reference_time(raw)
    assert mc_time(f" {raw} ", "OPTIN_TIME") == _reference_time(raw)


@pytest.mark.parametrize(
    "raw", ["2023-13-01 10:00:00", "01-03-2023 10:00", "gisteren", "0001-01-01 00:00:00+01:00"]
)
def test_a_time_that_is_none_or_leaves_the_calendar_in_utc_refuses_the_row(raw: str) -> None:
    with pytest.raises(RowRejected) as refused:
        mc_time(raw, "OPTIN_TIME")
    assert refused.value.field == "OPTIN_TIME"
    assert refused.value.message == f"{raw!r} is not a time like 2024-03-01 10:00:00"


def test_an_empty_time_is_none() -> None:
    assert mc_time("", "OPTIN_TIME") is None


def test_tags_are_split_sorted_and_each_call_gets_its_own_list() -> None:
    first = split_tags('"VIP", Klant;"Beurs 2025" ,VIP,')
    assert first == ["Beurs 2025", "Klant", "VIP"]
    first.append("changed")  # a caller's list is its own: the next row's tags are not touched
    assert split_tags('"VIP", Klant;"Beurs 2025" ,VIP,') == ["Beurs 2025", "Klant", "VIP"]
    assert split_tags("") == []


def test_a_cell_over_the_limit_is_refused_naming_its_column() -> None:
    check_cells(Row(2, {"a": "x" * limits.CSV_CELL, "b": ""}))
    with pytest.raises(RowRejected) as refused:
        check_cells(Row(2, {"a": "kort", "b": "x" * (limits.CSV_CELL + 1), "c": "y" * 99_999}))
    assert (refused.value.field, refused.value.message) == ("b", limits.too_long(limits.CSV_CELL))


@pytest.mark.parametrize("kind", list(PointKind))
def test_a_point_is_named_by_its_kind_s_value_and_its_normal_form(kind: PointKind) -> None:
    # `ref`, the runner's new points and the ledger's references write the kind by formatting the
    # member (a `StrEnum`: its value, without the `.value` property's call); the names must agree.
    assert ref(Normalised(kind, "a@b.nl")) == f"{kind.value}:a@b.nl"
    assert f"{kind}:x" == f"{kind.value}:x"
