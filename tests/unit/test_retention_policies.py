"""Retention policies: which contact points a policy erases on which Dutch day, and the policy file."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from factories import (
    amsterdam,
    consent_confirmed,
    consent_given,
    event,
    history,
    objected,
    objection_withdrawn,
    purchase,
    registered,
    relationship_ended,
    unsubscribed,
    utc,
)

from consentry.domain.events import Event
from consentry.domain.retention import (
    HOLDING_REQUESTS,
    Condition,
    Period,
    RetentionFacts,
    RetentionPolicy,
    Unit,
    basis_left,
    due,
    facts_of,
)
from consentry.domain.retention_text import sentence, statement
from consentry.domain.state import local_day
from consentry.services.retention_policies import DEFAULTS_FILE, PolicyFileError, load, parse

DEFAULTS = load(None).policies
UNSUBSCRIBED, PROSPECT, FORMER_CUSTOMER = DEFAULTS


def facts(*events: Event) -> RetentionFacts:
    f = facts_of(history(*events))
    assert f is not None
    return f


def erased_by(f: RetentionFacts, at: datetime) -> str | None:
    p = due(DEFAULTS, f, local_day(at))
    return None if p is None else p.id


# -- the Dutch defaults -----------------------------------------------------------------------


def test_the_defaults_are_the_three_dutch_policies_in_order() -> None:
    assert [p.id for p in DEFAULTS] == ["afgemeld-geen-grondslag", "prospect-stil", "oud-klant"]
    assert [p.condition for p in DEFAULTS] == list(Condition)
    assert [str(p.period) for p in DEFAULTS] == ["30 days", "12 months", "3 years"]
    assert all(p.rule and p.citation and p.name_nl and p.name_en for p in DEFAULTS)


# -- unsubscribed, no other basis: 30 days, counted in Dutch days ------------------------------


def test_an_unsubscribe_late_in_the_evening_counts_from_the_next_dutch_day() -> None:
    # 23:30 UTC on 1 January is 00:30 on 2 January in Amsterdam: kept through 1 February.
    f = facts(registered(utc(2025, 6, 1)), unsubscribed(utc(2026, 1, 1, 23, 30)))
    assert erased_by(f, amsterdam(2026, 2, 1, 23, 59)) is None
    assert erased_by(f, amsterdam(2026, 2, 2, 0, 0)) == "afgemeld-geen-grondslag"
    assert erased_by(f, utc(2026, 2, 1, 22, 59)) is None  # still 1 February in Amsterdam
    assert erased_by(f, utc(2026, 2, 1, 23, 0)) == "afgemeld-geen-grondslag"


def test_the_thirty_days_count_across_the_change_to_summer_time() -> None:
    # 29 March 2026 is the night the clocks go forward; a day is a calendar day, not 24 hours.
    f = facts(registered(utc(2025, 6, 1)), unsubscribed(amsterdam(2026, 3, 29, 0, 30)))
    assert erased_by(f, amsterdam(2026, 4, 28, 23, 59)) is None
    assert erased_by(f, amsterdam(2026, 4, 29, 0, 0)) == "afgemeld-geen-grondslag"
    assert erased_by(f, utc(2026, 4, 28, 22, 0)) == "afgemeld-geen-grondslag"  # 00:00 CEST


def test_a_withdrawn_consent_with_nothing_else_is_erased_thirty_days_after_the_withdrawal() -> None:
    f = facts(
        registered(utc(2025, 1, 1)),
        consent_given(utc(2025, 1, 1), "nieuwsbrief"),
        event("consent.withdrawn", utc(2025, 5, 10), purpose="nieuwsbrief"),
    )
    assert f.purposes == {"nieuwsbrief"}
    assert erased_by(f, utc(2025, 6, 9)) is None
    assert erased_by(f, utc(2025, 6, 10)) == "afgemeld-geen-grondslag"


def test_a_valid_consent_for_another_purpose_keeps_the_point() -> None:
    f = facts(
        registered(utc(2025, 1, 1)),
        consent_given(utc(2025, 1, 1), "nieuwsbrief"),
        consent_given(utc(2025, 1, 1), "aanbiedingen"),
        unsubscribed(utc(2025, 2, 1), purpose="nieuwsbrief"),
    )
    assert basis_left(f, date(2030, 1, 1)) == "consent"
    assert erased_by(f, utc(2030, 1, 1)) is None


def test_an_unconfirmed_double_opt_in_is_no_basis_but_a_confirmed_one_is() -> None:
    pending = [registered(utc(2025, 1, 1)), consent_given(utc(2025, 1, 1), method="double_opt_in")]
    assert basis_left(facts(*pending), date(2026, 6, 1)) is None
    assert erased_by(facts(*pending), utc(2026, 1, 1)) is None
    assert erased_by(facts(*pending), utc(2026, 1, 2)) == "prospect-stil"
    confirmed = facts(*pending, consent_confirmed(utc(2025, 1, 2)))
    assert basis_left(confirmed, date(2030, 1, 1)) == "consent"


def test_a_consent_given_for_a_time_holds_until_its_last_day() -> None:
    f = facts(
        registered(utc(2025, 1, 1)),
        consent_given(utc(2025, 1, 15), "nieuwsbrief", valid_for_months=12),
        unsubscribed(utc(2025, 3, 1), purpose="aanbiedingen"),
    )
    assert f.consent_until == date(2026, 1, 15)
    assert basis_left(f, date(2026, 1, 14)) == "consent"
    assert basis_left(f, date(2026, 1, 15)) is None
    assert erased_by(f, amsterdam(2026, 1, 15, 0, 1)) == "afgemeld-geen-grondslag"


def test_an_objection_counts_as_an_opt_out_until_it_is_withdrawn() -> None:
    f = facts(registered(utc(2025, 1, 1)), objected(utc(2025, 4, 1)))
    assert f.objected and f.opted_out_at == utc(2025, 4, 1)
    assert erased_by(f, utc(2025, 5, 2)) == "afgemeld-geen-grondslag"
    lifted = facts(
        registered(utc(2025, 1, 1)), objected(utc(2025, 4, 1)), objection_withdrawn(utc(2025, 4, 2))
    )
    assert lifted.opted_out_at is None
    assert erased_by(lifted, utc(2025, 5, 2)) is None
    assert erased_by(lifted, utc(2026, 4, 3)) == "prospect-stil"


def test_an_objection_to_profiling_alone_is_no_opt_out() -> None:
    f = facts(registered(utc(2025, 1, 1)), objected(utc(2025, 4, 1), scope="profiling"))
    assert f.opted_out_at is None and not f.objected


# -- customers ------------------------------------------------------------------------------


def test_a_running_contract_keeps_the_point_whatever_else_happened() -> None:
    f = facts(
        registered(utc(2020, 1, 1), source="purchase"),
        purchase(utc(2020, 1, 1), contract=True),
        unsubscribed(utc(2020, 2, 1)),
    )
    assert basis_left(f, date(2030, 1, 1)) == "contract"


def test_a_former_customer_is_kept_three_years_after_the_relationship_ended() -> None:
    f = facts(
        registered(utc(2020, 1, 1), source="purchase"),
        purchase(utc(2020, 1, 1), contract=True),
        relationship_ended(amsterdam(2024, 2, 29, 0, 30)),  # 28 February 23:30 in UTC
    )
    assert f.ended_day == date(2024, 2, 29)
    assert basis_left(f, date(2027, 2, 28)) == "customer_exception"
    assert erased_by(f, amsterdam(2027, 2, 28, 23, 59)) is None
    assert erased_by(f, amsterdam(2027, 3, 1, 0, 0)) == "oud-klant"


def test_one_off_purchases_end_the_relationship_with_the_last_purchase() -> None:
    f = facts(
        registered(utc(2021, 5, 1), source="purchase"), purchase(utc(2021, 5, 1)), purchase(utc(2022, 7, 9))
    )
    assert f.ended_day == date(2022, 7, 9)
    assert erased_by(f, utc(2025, 7, 9)) is None
    assert erased_by(f, utc(2025, 7, 10)) == "oud-klant"


def test_a_former_customer_who_unsubscribed_from_everything_is_erased_after_thirty_days() -> None:
    f = facts(
        registered(utc(2025, 1, 1), source="purchase"),
        purchase(utc(2025, 1, 1)),
        unsubscribed(utc(2025, 3, 1)),
    )
    assert f.opted_out_all
    assert erased_by(f, utc(2025, 3, 31)) is None
    assert erased_by(f, utc(2025, 4, 1)) == "afgemeld-geen-grondslag"


def test_a_former_customer_who_left_one_list_keeps_the_customer_exception() -> None:
    f = facts(
        registered(utc(2025, 1, 1), source="purchase"),
        purchase(utc(2025, 1, 1)),
        unsubscribed(utc(2025, 3, 1), purpose="nieuwsbrief"),
    )
    assert basis_left(f, date(2026, 1, 1)) == "customer_exception"
    assert erased_by(f, utc(2028, 1, 2)) == "afgemeld-geen-grondslag"  # the first policy due wins


# -- prospects and requests -------------------------------------------------------------------


def test_a_prospect_is_erased_after_twelve_months_without_any_event() -> None:
    f = facts(registered(amsterdam(2025, 1, 31, 0, 15), source="import"))
    assert erased_by(f, amsterdam(2026, 1, 31, 23, 0)) is None
    assert erased_by(f, amsterdam(2026, 2, 1, 0, 0)) == "prospect-stil"
    later = facts(
        registered(utc(2025, 1, 31), source="import"), event("tags.added", utc(2025, 8, 1), tags=["beurs"])
    )
    assert erased_by(later, utc(2026, 2, 1)) is None


def facts_with_requests(open_requests: frozenset[str], *events: Event) -> RetentionFacts:
    f = facts_of(history(*events), open_requests)
    assert f is not None
    return f


@pytest.mark.parametrize("kind", sorted(HOLDING_REQUESTS))
def test_a_request_not_closed_holds_the_data_however_long_it_takes(kind: str) -> None:
    """The request's state (`dsr_requests`) decides, not its age: months after the receipt an
    open request still keeps the data; a closed one (or a receipt in the ledger alone) does not."""
    history_ = (
        registered(utc(2025, 1, 1)),
        unsubscribed(utc(2025, 1, 2)),
        event("request.received", amsterdam(2025, 1, 10), request=kind),
    )
    held = facts_with_requests(frozenset({kind}), *history_)
    assert basis_left(held, date(2027, 1, 1)) == "open_request"
    assert erased_by(held, amsterdam(2027, 1, 1)) is None
    closed = facts(*history_)
    assert basis_left(closed, date(2025, 2, 1)) is None
    assert erased_by(closed, amsterdam(2025, 2, 10, 0, 0)) == "afgemeld-geen-grondslag"


def test_a_restriction_of_processing_keeps_the_data_until_it_is_lifted() -> None:
    """GDPR Art. 18: a person may ask to keep data they would otherwise lose (a legal claim)."""
    kept = facts(
        registered(utc(2024, 1, 1)),
        unsubscribed(utc(2024, 1, 2)),
        event("processing.restricted", utc(2024, 1, 3)),
    )
    assert basis_left(kept, date(2026, 1, 1)) == "restriction"
    assert erased_by(kept, utc(2026, 1, 1)) is None
    lifted = facts(
        registered(utc(2024, 1, 1)),
        unsubscribed(utc(2024, 1, 2)),
        event("processing.restricted", utc(2024, 1, 3)),
        event("processing.restriction_lifted", utc(2025, 1, 3)),
    )
    assert not lifted.restricted
    assert erased_by(lifted, utc(2026, 1, 1)) is not None


def test_an_erased_point_has_no_facts() -> None:
    assert (
        facts_of(history(registered(utc(2025, 1, 1)), event("contact_point.erased", utc(2025, 2, 1)))) is None
    )


# -- purposes -------------------------------------------------------------------------------


def _only(purposes: set[str]) -> RetentionPolicy:
    return RetentionPolicy(
        "vacatures", "Vacatures", "Jobs", Condition.UNSUBSCRIBED, Period(7, Unit.DAYS), "EU-GDPR-09",
        "AVG art. 17", frozenset(purposes),
    )  # fmt: skip


def test_a_policy_for_some_purposes_applies_to_points_held_for_them_or_out_of_everything() -> None:
    left_jobs = facts(registered(utc(2025, 1, 1)), unsubscribed(utc(2025, 1, 2), purpose="vacatures"))
    left_news = facts(registered(utc(2025, 1, 1)), unsubscribed(utc(2025, 1, 2), purpose="nieuwsbrief"))
    left_all = facts(registered(utc(2025, 1, 1)), unsubscribed(utc(2025, 1, 2)))
    policy = _only({"vacatures"})
    assert policy.applies_to(left_jobs) and policy.applies_to(left_all)
    assert not policy.applies_to(left_news)
    assert due([policy], left_jobs, date(2025, 1, 10)) is policy


# -- the policy file ------------------------------------------------------------------------

GOOD = DEFAULTS_FILE.read_text(encoding="utf-8")


def _error(text: str) -> str:
    with pytest.raises(PolicyFileError) as caught:
        parse(text, "retention.toml")
    return str(caught.value)


def test_the_defaults_file_parses_to_what_load_gives() -> None:
    assert parse(GOOD) == DEFAULTS


def test_a_period_in_dutch_words_is_read_too() -> None:
    text = GOOD.replace('after = "30 days"', 'after = "6 maanden"')
    assert parse(text)[0].period == Period(6, Unit.MONTHS)


def test_a_bad_period_names_its_line_policy_and_field() -> None:
    text = GOOD.replace('after = "12 months"', 'after = "een jaar"')
    line = GOOD.splitlines().index('after = "12 months"') + 1
    assert _error(text).startswith(
        f"retention.toml: line {line}: policy 2 (prospect-stil): after: 'een jaar'"
    )


def test_a_zero_period_is_refused() -> None:
    assert "at least 1" in _error(GOOD.replace('after = "30 days"', 'after = "0 days"'))


def test_an_unknown_condition_lists_the_known_ones() -> None:
    message = _error(GOOD.replace('condition = "prospect"', 'condition = "stil"'))
    assert (
        "policy 2 (prospect-stil): condition: 'stil' is not one of: unsubscribed, prospect, former_customer"
        in message
    )


def test_a_missing_field_names_the_policy_header_line() -> None:
    text = GOOD.replace('rule = "NL-EM-02"\n', "")
    header = [i for i, line in enumerate(GOOD.splitlines()) if line == "[[policy]]"][2] + 1
    assert _error(text) == f"retention.toml: line {header}: policy 3 (oud-klant): rule: missing"


def test_unknown_fields_duplicate_ids_and_bad_ids_are_refused() -> None:
    assert "unknown field" in _error(
        GOOD.replace('rule = "EU-GDPR-01"', 'rule = "EU-GDPR-01"\nbewaar = "kort"')
    )
    assert "used by policy 1 too" in _error(
        GOOD.replace('id = "prospect-stil"', 'id = "afgemeld-geen-grondslag"')
    )
    assert "lower-case letters" in _error(GOOD.replace('id = "oud-klant"', 'id = "Oud Klant"'))
    assert "must be a text" in _error(GOOD.replace('name_en = "Former customer"', "name_en = 3"))
    assert "list of purpose keys" in _error(
        GOOD.replace('id = "oud-klant"', 'id = "oud-klant"\npurposes = []')
    )


def test_a_file_that_is_not_toml_or_has_no_policies_is_refused() -> None:
    assert "not valid TOML" in _error("[[policy]\nid = 1")
    assert "no [[policy]] tables" in _error("# nothing here\n")
    assert "unknown key" in _error('bewaartermijn = "kort"\n' + GOOD)


def test_a_missing_file_says_which_setting_names_it(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="CONSENTRY_RETENTION_POLICIES_FILE"):
        load(str(tmp_path / "nope.toml"))


def test_the_docs_quote_the_statement_the_defaults_print_in_both_languages() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "retention.md").read_text(encoding="utf-8")
    for lang in ("nl", "en"):
        for line in statement(DEFAULTS, lang):
            assert f"> {line}\n" in docs, line
    for p in DEFAULTS:
        assert (
            f"| `{p.id}` | {p.name_nl} / {p.name_en} | `{p.condition.value}` | {p.period} | {p.rule} |"
            in docs
        )


def test_a_policy_for_some_purposes_says_so_in_its_sentence() -> None:
    assert sentence(_only({"vacatures"}), "nl").startswith("Voor vacatures: meldt u zich af")
    assert sentence(_only({"vacatures"}), "en").startswith("For vacatures: if you unsubscribe")
    assert "7 dagen" in sentence(_only({"vacatures"}), "nl") and "7 days" in sentence(
        _only({"vacatures"}), "en"
    )
