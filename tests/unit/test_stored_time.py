"""The stored forms of moments for the bulk insert, cut from the ISO text or formatted anew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.adapters.sql_store import stored_time


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]),
    st.booleans(),
)
def test_the_text_cut_from_the_iso_form_is_the_formatted_one(
    naive: datetime, zone: timezone, micro: bool
) -> None:
    moment = naive.replace(tzinfo=zone, microsecond=naive.microsecond if micro else 0)
    assert stored_time(moment, True, moment.isoformat()) == stored_time(moment, True)
    assert stored_time(moment, False, moment.isoformat()) == stored_time(moment, False)
