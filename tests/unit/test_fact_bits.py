"""The audience projection's bit masks: tokens numbered per column, those beyond the bits kept apart."""

from __future__ import annotations

from datetime import date

import pytest
from factories import SHOES
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.domain.vocabulary import Channel, PointKind
from consentry.policy.factrows import Numbering, pair
from consentry.policy.sqlfacts import FALSE, Sql

DAY = (Channel.POST, SHOES, date(2026, 12, 6), PointKind.POSTAL)


def test_each_column_numbers_its_own_tokens_on_first_sight_and_keeps_them() -> None:
    bits = Numbering([("c_valid", pair("nieuwsbrief", "email"), 0)])
    more: list[str] = []
    mask = bits.mask("c_valid", [pair("nieuwsbrief", "email"), pair("aanbiedingen", "email")], more)
    assert mask == 0b11 and more == []
    assert bits.added == [("c_valid", pair("aanbiedingen", "email"), 1)]
    assert bits.mask("c_own", [pair("aanbiedingen", "email")], more) == 0b1
    assert bits.tokens("c_valid", mask, "|") == {pair("nieuwsbrief", "email"), pair("aanbiedingen", "email")}


def test_a_token_beyond_the_bits_is_kept_in_more_and_read_back(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Numbering, "BITS", 1)
    bits = Numbering()
    more: list[str] = []
    mask = bits.mask("subscribed", ["a", "b", "c"], more)
    assert mask == 1 and more == ["subscribed.1", "subscribed.2"]
    assert bits.tokens("subscribed", mask, "|subscribed.1|subscribed.2|") == {"a", "b", "c"}
    assert bits.tokens("opt_outs", 0, "|subscribed.1|") == set()


def test_the_sql_tests_a_bit_searches_more_beyond_the_bits_and_knows_no_row_has_an_unseen_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Numbering, "BITS", 1)
    q = Sql("sqlite", *DAY, bits=Numbering([("listed", "a", 0), ("listed", "b", 1)]))
    assert q.has("listed", "never-seen") == FALSE
    assert q.has("listed", "a") == "(f.listed & :p0) <> 0" and q.params["p0"] == 1
    assert "instr(f.more" in q.has("listed", "b") and "|listed.1|" in q.params.values()


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 5),
    st.lists(
        st.tuples(st.sampled_from(["c_valid", "subscribed", "listed"]), st.lists(st.sampled_from("abcdefg"))),
        max_size=30,
    ),
)
def test_a_mask_met_again_is_what_a_fresh_numbering_makes_of_it(
    width: int, lists: list[tuple[str, list[str]]]
) -> None:
    """`mask` remembers the lists it met: each call gives the mask and the overflow tokens a
    numbering that never met that list gives (the same tokens, numbered in the same order)."""
    bits = Numbering()
    bits.bits = width  # a few bits: tokens past them go to `more`
    for column, tokens in lists:
        more: list[str] = ["x"]
        mask = bits.mask(column, tokens, more)
        again = Numbering(bits.added)  # what the store keeps, read back by another transaction
        again.bits = width
        fresh: list[str] = ["x"]
        assert (mask, more) == (again.mask(column, tokens, fresh), fresh)
