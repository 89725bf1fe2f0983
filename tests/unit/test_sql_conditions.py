"""The order of a rule's checks in the audience SQL: what must hold first, each cheapest first."""

from __future__ import annotations

from datetime import date

from factories import SHOES

from consentry.domain.vocabulary import Channel, PointKind
from consentry.policy.factrows import Numbering, pair, tok
from consentry.policy.sqlfacts import COST, SQL_FACTS, Sql, conditions

BITS = Numbering([("c_own", pair(SHOES.key, "email"), 0), ("bought_ex", tok("shoes"), 0)])


def sql() -> Sql:
    return Sql("postgresql", Channel.EMAIL, SHOES, date(2026, 12, 6), PointKind.EMAIL, {}, bits=BITS)


def test_a_flag_is_read_before_the_party_is_compared() -> None:
    # The rules of published business parties: the flag is false on nearly every row.
    q = sql()
    written = conditions(q, (("business_party", True), ("published_for_offers", True)))
    assert written.startswith("f.published AND f.party IN (")


def test_what_must_hold_comes_before_what_must_not_each_cheapest_first() -> None:
    q = sql()
    checks = (("third_party_list_unproven", True), ("consent_collected_by_sender", False))
    written = conditions(q, (*checks, ("customer_exception", False)))
    marks = ("f.source IN", "NOT ((f.bought_ex", "NOT (((f.c_own")
    source, bought_ex, own = (written.index(mark) for mark in marks)
    assert source < bought_ex < own


def test_a_lookup_in_another_table_comes_last_and_every_fact_has_a_cost() -> None:
    assert set(COST) == set(SQL_FACTS)
    assert max(COST.values()) == COST["listed_postfilter"] == COST["listed_bel_me_niet"]
    q = sql()
    written = conditions(q, (("listed_bel_me_niet", True), ("consumer", True), ("customer_ever", True)))
    assert written.index("f.bought_any") < written.index("f.party IN") < written.index("point_listings")
