"""The audience projection's bit masks: tokens numbered per column, those beyond the bits kept apart."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from factories import SHOES
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.domain.state import ContactState, Listing, Purchase
from consentry.domain.vocabulary import Channel, PointKind
from consentry.policy.factrows import COLUMNS, Numbering, facts_row, pair
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


@pytest.mark.parametrize(
    ("with_sales", "with_listings"), [(False, False), (True, False), (False, True), (True, True)]
)
def test_a_row_s_purchase_and_listing_masks_hold_its_categories_and_registers(
    with_sales: bool, with_listings: bool
) -> None:
    # `facts_row` skips their comprehensions for a point without purchases or listings: the masks
    # still hold exactly what the state has (and nothing without), each guarded by its own list.
    s = ContactState(id="cp_1", kind=PointKind.EMAIL, value="a@b.nl")
    if with_sales:
        at = datetime(2024, 5, 1, tzinfo=UTC)
        s.purchases = [
            Purchase(at, frozenset({"koffie", "thee"}), opt_out_offered=True, collected_by_sender=True),
            Purchase(at, frozenset({"taart"}), opt_out_offered=False, collected_by_sender=True),
        ]
    if with_listings:
        s.listings = [Listing("bel-me-niet", date(2024, 1, 1), None)]
    bits = Numbering()
    row = dict(zip(COLUMNS, facts_row(s, bits), strict=True))
    found = {
        column: bits.tokens(column, row[column], row["more"]) for column in ("bought", "bought_ex", "listed")
    }
    sales: dict[str, set[str]] = {"bought": {"koffie", "thee", "taart"}, "bought_ex": {"koffie", "thee"}}
    want = {
        **(sales if with_sales else {c: set() for c in sales}),
        "listed": {"bel-me-niet"} if with_listings else set(),
    }
    assert found == want
    assert row["bought_any"] is with_sales
