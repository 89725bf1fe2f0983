"""The `nl` rule pack, judged without a database: ledger events -> fold -> evaluate.

The scenario table reaches every rule of the pack; the boundary table puts every rule
date to the test on both sides; the tests after them tell the stories of RULES.md.
Moments are aware; rule dates are Dutch calendar days (Europe/Amsterdam).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from factories import (
    GARDEN,
    PARTNER_OFFERS,
    SHOES,
    amsterdam,
    bounced,
    complained,
    consent_confirmed,
    consent_given,
    consent_withdrawn,
    erased,
    history,
    listed,
    notice_given,
    objected,
    objection_withdrawn,
    point_kind_for,
    purchase,
    registered,
    relationship_ended,
    restricted,
    restriction_lifted,
    unsubscribed,
    utc,
)

from consentry.domain.events import Event
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState, PriorSuppression
from consentry.domain.vocabulary import Activity, Basis, Channel, MessageKind, PartyKind, Sector, Verdict
from consentry.policy.facts import Controller, Question
from consentry.policy.nl import PACK
from consentry.policy.rules import Authority, Decision, Effect, evaluate

ALLOW, DENY, REVIEW = Verdict.ALLOW, Verdict.DENY, Verdict.REVIEW
EMAIL, SMS, APP, PHONE, ROBOT, POST, FAX = (
    Channel.EMAIL,
    Channel.SMS,
    Channel.MESSAGING_APP,
    Channel.PHONE,
    Channel.AUTOMATED_CALL,
    Channel.POST,
    Channel.FAX,
)
SERVICE, PERSONAL, PROPOSAL = MessageKind.SERVICE, MessageKind.PERSONAL, MessageKind.PROPOSAL
PROFILING = Activity.PROFILING

SHOE_SHOP = Controller("Schoenen BV", Sector.COMMERCIAL)
CHARITY = Controller("Stichting Goed Doel", Sector.CHARITY)

#: When the contact points of these tests entered the ledger: before every rule date.
SINCE = utc(2001, 1, 8)
#: An ordinary moment under today's rules.
NOW = amsterdam(2024, 3, 12, 10)

#: Rules no situation reaches: every channel has its own default rule (NL-EM-01, NL-TM-05,
#: NL-TM-00/NL-TM-01, NL-TM-03, NL-POST-01) and profiling has EU-GDPR-10, all above the general
#: "no legal basis" denial, so it never decides. Not a wrong answer (it would deny too), but dead.
UNREACHABLE: frozenset[str] = frozenset()


def decide(
    state: ContactState,
    channel: Channel,
    at: datetime,
    *,
    purpose: Purpose = SHOES,
    kind: MessageKind = MessageKind.MARKETING,
    activity: Activity = Activity.CONTACT,
    controller: Controller = SHOE_SHOP,
) -> Decision:
    """Ask the nl pack one question about one folded contact point."""
    return evaluate(PACK, state, Question(channel, purpose, at, kind, activity), controller)


def says(row: Scenario | Boundary) -> str:
    """A table row's test id: the sentence it says."""
    return row.says


def obligation_ids(decision: Decision) -> tuple[str, ...]:
    return tuple(o.id for o in decision.obligations)


def reason_rules(decision: Decision) -> tuple[str, ...]:
    return tuple(r.rule for r in decision.reasons)


# -- histories used by several tests --------------------------------------------------------


def phone_number(*events: Event, party: str = "consumer", source: str = "web_form") -> tuple[Event, ...]:
    return (registered(SINCE, kind="phone", party=party, source=source), *events)


def ex_customer(bought: datetime, ended: datetime, kind: str = "phone") -> tuple[Event, ...]:
    """Bought shoes (the sender collected the number in the sale), then the relationship ended."""
    return (registered(bought, kind=kind, source="purchase"), purchase(bought), relationship_ended(ended))


def bel_me_niet_listed(since: str = "2015-03-02") -> Event:
    return listed(utc(2015, 3, 2), register="bel-me-niet", listed_from=since)


def organisation_email(party: str = "legal_person", **details: object) -> Event:
    return registered(SINCE, party=party, value="offertes@bedrijf.example", **details)


#: An earlier point with the same address, unsubscribed and erased on 1 February 2023.
ERASED_BEFORE = PriorSuppression("unsubscribed", None, utc(2023, 2, 1), "request")

PUBLISHED = {"published_for_offers": True, "published_for_offers_evidence": "https://bedrijf.example/inkoop"}


# -- the scenario table: every rule of the pack decides (or obliges) at least once ----------


@dataclass(frozen=True)
class Scenario:
    says: str
    events: tuple[Event, ...]
    channel: Channel
    at: datetime
    rule: str
    verdict: Verdict
    #: Obligation rules whose reasons must follow the decisive one, in pack order (exactly).
    also: tuple[str, ...] = ()
    purpose: Purpose = SHOES
    kind: MessageKind = MessageKind.MARKETING
    activity: Activity = Activity.CONTACT
    controller: Controller = SHOE_SHOP
    #: The suppression record an erased point with the same address left (not folded: the store adds it).
    prior: PriorSuppression | None = None


def case(says: str, *events: Event, **expect: Any) -> Scenario:
    return Scenario(says, tuple(events), **expect)


SCENARIOS = [
    # absolute denials
    case(
        "an_erased_address_is_never_mailed_again_even_with_consent",
        registered(SINCE),
        consent_given(utc(2022, 1, 3)),
        erased(utc(2023, 2, 1)),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-09",
        verdict=DENY,
    ),
    case(
        "an_erased_address_imported_again_stays_suppressed_despite_the_imported_consent",
        registered(utc(2023, 3, 1), source="import"),
        consent_given(utc(2023, 3, 1), method="import"),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-09.prior",
        verdict=DENY,
        prior=ERASED_BEFORE,
    ),
    case(
        "a_fresh_double_opt_in_after_the_erasure_lifts_the_suppression_and_says_so",
        registered(utc(2023, 3, 1)),
        consent_given(utc(2023, 3, 1), method="double_opt_in"),
        consent_confirmed(utc(2023, 3, 2)),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-02",
        verdict=ALLOW,
        also=("EU-GDPR-09.lifted", "NL-EM-05"),
        prior=ERASED_BEFORE,
    ),
    case(
        "an_objection_to_direct_marketing_beats_a_consent",
        registered(SINCE),
        consent_given(utc(2022, 1, 3)),
        objected(utc(2023, 2, 1)),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-04",
        verdict=DENY,
    ),
    case(
        "an_objection_to_profiling_stops_profiling",
        registered(SINCE),
        objected(utc(2023, 2, 1), scope="profiling"),
        channel=EMAIL,
        at=NOW,
        activity=PROFILING,
        rule="EU-GDPR-05",
        verdict=DENY,
    ),
    case(
        "a_restriction_of_processing_beats_a_consent",
        registered(SINCE),
        consent_given(utc(2022, 1, 3)),
        restricted(utc(2023, 2, 1)),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-18",
        verdict=DENY,
    ),
    case(
        "a_restriction_of_processing_stops_profiling_too",
        registered(SINCE),
        restricted(utc(2023, 2, 1)),
        channel=EMAIL,
        at=NOW,
        activity=PROFILING,
        rule="EU-GDPR-18",
        verdict=DENY,
    ),
    case(
        "once_a_restriction_is_lifted_the_consent_holds_again",
        registered(SINCE),
        consent_given(utc(2022, 1, 3)),
        restricted(utc(2023, 2, 1)),
        restriction_lifted(utc(2023, 5, 1)),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-02",
        verdict=ALLOW,
        also=("NL-EM-05",),
    ),
    case(
        "a_restriction_does_not_stop_a_service_message",
        registered(SINCE),
        restricted(utc(2023, 2, 1)),
        channel=EMAIL,
        at=NOW,
        kind=SERVICE,
        rule="NL-EM-08",
        verdict=ALLOW,
    ),
    case(
        "a_hard_bounced_address_is_suppressed",
        registered(SINCE),
        consent_given(utc(2022, 1, 3)),
        bounced(utc(2023, 2, 1)),
        channel=EMAIL,
        at=NOW,
        rule="OPS-SUPP-01",
        verdict=DENY,
    ),
    case(
        "a_spam_complaint_suppresses_the_address",
        registered(SINCE),
        consent_given(utc(2022, 1, 3)),
        complained(utc(2023, 2, 1)),
        channel=EMAIL,
        at=NOW,
        rule="OPS-SUPP-01",
        verdict=DENY,
    ),
    case(
        "a_bought_list_without_proof_is_denied_even_with_an_imported_consent",
        registered(SINCE, source="third_party_list_without_proof"),
        consent_given(utc(2022, 1, 3), method="import"),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-07",
        verdict=DENY,
    ),
    # messages outside direct marketing
    case(
        "a_service_message_is_allowed_on_the_contract",
        registered(SINCE),
        channel=EMAIL,
        at=NOW,
        kind=SERVICE,
        rule="NL-EM-08",
        verdict=ALLOW,
    ),
    case(
        "a_personal_message_to_someone_met_before_is_allowed",
        registered(SINCE, source="business_card"),
        channel=EMAIL,
        at=NOW,
        kind=PERSONAL,
        rule="NL-EM-07",
        verdict=ALLOW,
    ),
    case(
        "a_cold_personal_message_needs_review",
        registered(SINCE, source="linkedin"),
        channel=EMAIL,
        at=NOW,
        kind=PERSONAL,
        rule="NL-EM-07.review",
        verdict=REVIEW,
    ),
    case(
        "a_one_to_one_commercial_proposal_to_someone_met_before_is_allowed_on_legitimate_interest",
        registered(SINCE, source="business_card"),
        channel=EMAIL,
        at=NOW,
        kind=PROPOSAL,
        rule="NL-EM-07.proposal",
        verdict=ALLOW,
        also=("EU-GDPR-06",),
    ),
    case(
        "a_cold_one_to_one_commercial_proposal_needs_review",
        registered(SINCE, source="linkedin"),
        channel=EMAIL,
        at=NOW,
        kind=PROPOSAL,
        rule="NL-EM-07.proposal.review",
        verdict=REVIEW,
        also=("EU-GDPR-06",),
    ),
    case(
        "a_one_to_one_commercial_proposal_after_an_objection_is_denied",
        registered(SINCE, source="business_card"),
        objected(utc(2023, 2, 1)),
        channel=EMAIL,
        at=NOW,
        kind=PROPOSAL,
        rule="EU-GDPR-04.proposal",
        verdict=DENY,
    ),
    case(
        "an_expired_consent_is_no_consent",
        registered(SINCE),
        consent_given(utc(2021, 1, 4), valid_for_months=24),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-03.expired",
        verdict=DENY,
    ),
    # grounds that allow, and what they carry
    case(
        "an_unsubscribed_address_is_denied",
        registered(SINCE),
        consent_given(utc(2022, 1, 3)),
        unsubscribed(utc(2023, 2, 1)),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-03",
        verdict=DENY,
    ),
    case(
        "a_consented_email_is_allowed_with_the_electronic_obligations",
        registered(SINCE),
        consent_given(utc(2022, 1, 3)),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-02",
        verdict=ALLOW,
        also=("NL-EM-05",),
    ),
    case(
        "profiling_without_objection_is_allowed_on_legitimate_interest",
        registered(SINCE),
        channel=EMAIL,
        at=NOW,
        activity=PROFILING,
        rule="EU-GDPR-10",
        verdict=ALLOW,
    ),
    case(
        "a_customer_may_be_emailed_about_similar_products",
        registered(utc(2023, 5, 2), source="purchase"),
        purchase(utc(2023, 5, 2)),
        channel=EMAIL,
        at=NOW,
        rule="NL-EM-02",
        verdict=ALLOW,
        also=("NL-EM-05",),
    ),
    case(
        "a_company_could_be_emailed_without_consent_in_2008",
        organisation_email(),
        channel=EMAIL,
        at=amsterdam(2008, 6, 2),
        rule="NL-EM-00",
        verdict=ALLOW,
        also=("NL-EM-05",),
    ),
    case(
        "an_address_published_for_offers_with_evidence_may_be_emailed",
        organisation_email(**PUBLISHED),
        channel=EMAIL,
        at=NOW,
        rule="NL-EM-03",
        verdict=ALLOW,
        also=("NL-EM-05",),
    ),
    case(
        "an_address_said_to_be_published_for_offers_without_evidence_needs_review",
        organisation_email(published_for_offers=True),
        channel=EMAIL,
        at=NOW,
        rule="NL-EM-03.review",
        verdict=REVIEW,
        also=("NL-EM-05",),
    ),
    case(
        "a_company_outside_the_eea_may_be_emailed_when_its_local_rules_are_met",
        organisation_email(country="US", local_rules_met=True),
        channel=EMAIL,
        at=NOW,
        rule="NL-EM-04",
        verdict=ALLOW,
        also=("NL-EM-05",),
    ),
    case(
        "a_company_outside_the_eea_with_unchecked_local_rules_needs_review",
        organisation_email(country="US"),
        channel=EMAIL,
        at=NOW,
        rule="NL-EM-04.review",
        verdict=REVIEW,
        also=("NL-EM-05",),
    ),
    # calls
    case(
        "a_robot_call_without_consent_is_denied",
        *phone_number(),
        channel=ROBOT,
        at=NOW,
        rule="NL-TM-05",
        verdict=DENY,
    ),
    case(
        "a_live_call_to_a_company_number_is_allowed",
        *phone_number(party="legal_person"),
        channel=PHONE,
        at=NOW,
        rule="NL-TM-03",
        verdict=ALLOW,
        also=("NL-TM-04",),
    ),
    case(
        "a_bel_me_niet_listed_non_customer_could_not_be_called_in_2019",
        *phone_number(bel_me_niet_listed()),
        channel=PHONE,
        at=amsterdam(2019, 10, 8),
        rule="NL-TM-00.listed",
        verdict=DENY,
    ),
    case(
        "an_unlisted_consumer_could_be_called_in_2019",
        *phone_number(),
        channel=PHONE,
        at=amsterdam(2019, 10, 8),
        rule="NL-TM-00",
        verdict=ALLOW,
        also=("NL-TM-04",),
    ),
    case(
        "an_ex_customer_may_be_called_in_2025",
        *ex_customer(bought=utc(2022, 5, 3), ended=utc(2024, 1, 15)),
        channel=PHONE,
        at=amsterdam(2025, 3, 10),
        rule="NL-TM-02",
        verdict=ALLOW,
        also=("NL-TM-04",),
    ),
    case(
        "a_charity_may_still_call_an_ex_donor_after_1_july_2026",
        *ex_customer(bought=utc(2022, 5, 3), ended=utc(2024, 1, 15)),
        channel=PHONE,
        at=amsterdam(2026, 9, 1),
        controller=CHARITY,
        rule="NL-TM-02b.exempt",
        verdict=ALLOW,
        also=("NL-TM-04",),
    ),
    case(
        "a_shop_may_not_call_an_ex_customer_after_1_july_2026",
        *ex_customer(bought=utc(2022, 5, 3), ended=utc(2024, 1, 15)),
        channel=PHONE,
        at=amsterdam(2026, 9, 1),
        rule="NL-TM-02b",
        verdict=DENY,
    ),
    case(
        "a_buyer_whose_number_came_without_an_opt_out_may_not_be_called_since_july_2021",
        *phone_number(purchase(utc(2022, 3, 4), opt_out_offered=False)),
        channel=PHONE,
        at=amsterdam(2023, 2, 14),
        rule="NL-TM-02.unmet",
        verdict=DENY,
    ),
    case(
        "a_one_off_buyer_may_not_be_called_three_years_after_the_last_purchase",
        *phone_number(purchase(utc(2021, 9, 6))),
        channel=PHONE,
        at=amsterdam(2024, 9, 7),
        rule="NL-TM-02.expired",
        verdict=DENY,
    ),
    case(
        "a_consumer_without_consent_may_not_be_called_since_july_2021",
        *phone_number(),
        channel=PHONE,
        at=amsterdam(2022, 2, 14),
        rule="NL-TM-01",
        verdict=DENY,
    ),
    # post
    case(
        "post_to_a_department_of_an_organisation_is_allowed",
        registered(SINCE, kind="postal", party="legal_person"),
        channel=POST,
        at=NOW,
        rule="NL-POST-02",
        verdict=ALLOW,
        also=("NL-POST-01.mention",),
    ),
    case(
        "post_to_someone_on_the_deceased_register_is_denied_even_to_a_customer",
        registered(SINCE, kind="postal", source="purchase"),
        purchase(utc(2023, 5, 2)),
        listed(utc(2023, 11, 6), register="overledenen", listed_from="2023-11-06"),
        channel=POST,
        at=NOW,
        rule="NL-POST-01.deceased",
        verdict=DENY,
    ),
    case(
        "post_to_a_postfilter_listed_non_customer_is_denied",
        registered(SINCE, kind="postal"),
        listed(utc(2020, 1, 6), register="postfilter", listed_from="2020-01-06"),
        channel=POST,
        at=NOW,
        rule="NL-POST-01.postfilter",
        verdict=DENY,
    ),
    case(
        "addressed_post_to_a_consumer_is_allowed_on_legitimate_interest",
        registered(SINCE, kind="postal"),
        channel=POST,
        at=NOW,
        rule="NL-POST-01",
        verdict=ALLOW,
        also=("NL-POST-01.mention",),
    ),
    # specific denials and defaults
    case(
        "a_pre_ticked_consent_is_no_consent",
        registered(SINCE),
        consent_given(utc(2022, 1, 3), method="pre_ticked"),
        channel=EMAIL,
        at=NOW,
        rule="NL-EM-06",
        verdict=DENY,
    ),
    case(
        "an_unconfirmed_double_opt_in_is_denied",
        registered(SINCE),
        consent_given(utc(2024, 3, 1), method="double_opt_in"),
        channel=EMAIL,
        at=NOW,
        rule="EU-GDPR-03.pending",
        verdict=DENY,
    ),
    case(
        "a_consumer_email_without_consent_is_denied",
        registered(SINCE),
        channel=EMAIL,
        at=NOW,
        rule="NL-EM-01",
        verdict=DENY,
    ),
    case(
        "a_consumer_email_before_the_2004_spam_ban_needs_review",
        registered(SINCE),
        channel=EMAIL,
        at=amsterdam(2003, 6, 2),
        rule="NL-NONE",
        verdict=REVIEW,
    ),
    case(
        "a_call_to_a_number_found_on_a_public_profile_needs_an_art14_notice",
        *phone_number(party="employee", source="public_profile"),
        channel=PHONE,
        at=NOW,
        rule="NL-TM-03",
        verdict=ALLOW,
        also=("NL-TM-04", "EU-GDPR-06"),
    ),
]


def judge(s: Scenario) -> Decision:
    state = history(*s.events)
    state.prior_suppression = s.prior
    return decide(
        state,
        s.channel,
        s.at,
        purpose=s.purpose,
        kind=s.kind,
        activity=s.activity,
        controller=s.controller,
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=says)
def test_each_scenario_is_decided_by_its_rule_with_its_verdict(scenario: Scenario) -> None:
    decision = judge(scenario)
    assert (decision.rule, decision.verdict) == (scenario.rule, scenario.verdict)
    assert reason_rules(decision)[1:] == scenario.also
    assert decision.verdict.value == PACK.rule(scenario.rule).effect.value


def test_the_scenario_table_reaches_every_rule_of_the_pack() -> None:
    all_ids = {r.id for r in PACK.rules} | {PACK.fallback.id}
    decisive = {s.rule for s in SCENARIOS}
    obliging = {rule for s in SCENARIOS for rule in s.also}
    oblige_ids = {r.id for r in PACK.rules if r.effect is Effect.OBLIGE}
    assert all_ids >= UNREACHABLE
    assert not (decisive | obliging) & UNREACHABLE, "an 'unreachable' rule was reached: update UNREACHABLE"
    assert oblige_ids <= obliging, "an obligation rule never added its reason"
    assert all_ids - oblige_ids - UNREACHABLE <= decisive, "a terminal rule never decided"


def test_the_general_no_basis_denial_is_shadowed_by_each_channels_own_rule() -> None:
    moments = [amsterdam(2004, 5, 19), amsterdam(2015, 1, 6), NOW, amsterdam(2027, 1, 5)]
    decided = set()
    for party, channel, activity, at in itertools.product(PartyKind, Channel, Activity, moments):
        state = history(registered(SINCE, kind=point_kind_for(channel), party=party.value))
        decided.add(decide(state, channel, at, activity=activity).rule)
    assert decided.isdisjoint(UNREACHABLE)
    assert {"NL-EM-01", "NL-TM-05", "NL-TM-01", "NL-TM-03", "NL-POST-01", "EU-GDPR-10"} <= decided


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.verdict is DENY], ids=says)
def test_a_denial_carries_no_obligations_no_basis_and_only_its_own_reason(scenario: Scenario) -> None:
    decision = judge(scenario)
    assert decision.verdict is DENY
    assert decision.obligations == ()
    assert decision.basis is Basis.NONE
    assert reason_rules(decision) == (scenario.rule,)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.verdict is REVIEW], ids=says)
def test_a_review_is_never_an_allow_and_rests_on_no_basis(scenario: Scenario) -> None:
    decision = judge(scenario)
    assert decision.verdict is REVIEW
    assert decision.verdict is not ALLOW
    assert decision.basis is Basis.NONE


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.verdict is ALLOW], ids=says)
def test_an_allow_always_names_its_legal_basis(scenario: Scenario) -> None:
    decision = judge(scenario)
    assert decision.verdict is ALLOW
    assert decision.basis is not Basis.NONE
    assert decision.basis is PACK.rule(scenario.rule).basis


# -- the boundary table: every rule date, the Dutch day before it and the day itself -------


@dataclass(frozen=True)
class Expect:
    rule: str
    verdict: Verdict
    also: tuple[str, ...] = ()


@dataclass(frozen=True)
class Boundary:
    says: str
    #: The first Dutch day of the new regime (an `in_force_from`, or the day after an `in_force_until`).
    switch: date
    events: tuple[Event, ...]
    channel: Channel
    before: Expect
    on: Expect
    controller: Controller = SHOE_SHOP


def boundary(says: str, switch: date, *events: Event, **expect: Any) -> Boundary:
    return Boundary(says, switch, tuple(events), **expect)


SPAM_BAN, LEGAL_PERSONS, GDPR = date(2004, 5, 19), date(2009, 10, 1), date(2018, 5, 25)
CALLS_OPT_IN, NO_CALL_EXCEPTION = date(2021, 7, 1), date(2026, 7, 1)
POSTFILTER_CODE_2021 = date(2021, 4, 1)

BOUNDARIES = [
    boundary(
        "addressed_advertising_mail_mentions_the_postfilter_from_1_april_2021",
        POSTFILTER_CODE_2021,
        registered(SINCE, kind="postal"),
        channel=POST,
        before=Expect("NL-POST-01", ALLOW),
        on=Expect("NL-POST-01", ALLOW, ("NL-POST-01.mention",)),
    ),
    boundary(
        "a_number_from_a_sale_without_an_opt_out_needs_consent_from_1_july_2021",
        CALLS_OPT_IN,
        *phone_number(purchase(utc(2020, 3, 4), opt_out_offered=False)),
        channel=PHONE,
        before=Expect("NL-TM-00", ALLOW, ("NL-TM-04",)),
        on=Expect("NL-TM-02.unmet", DENY),
    ),
    boundary(
        "a_buyer_whose_three_years_ran_out_needs_consent_from_1_july_2021",
        CALLS_OPT_IN,
        *phone_number(purchase(utc(2017, 5, 2))),
        channel=PHONE,
        before=Expect("NL-TM-00", ALLOW, ("NL-TM-04",)),
        on=Expect("NL-TM-02.expired", DENY),
    ),
    boundary(
        "the_customer_exception_for_email_starts_with_the_spam_ban",
        SPAM_BAN,
        *ex_customer(bought=utc(2003, 2, 3), ended=utc(2003, 9, 1), kind="email"),
        channel=EMAIL,
        before=Expect("NL-NONE", REVIEW),
        on=Expect("NL-EM-02", ALLOW, ("NL-EM-05",)),
    ),
    boundary(
        "consumer_email_without_consent_is_denied_from_the_spam_ban",
        SPAM_BAN,
        registered(SINCE),
        channel=EMAIL,
        before=Expect("NL-NONE", REVIEW),
        on=Expect("NL-EM-01", DENY),
    ),
    boundary(
        "a_pre_ticked_consent_is_called_invalid_from_the_spam_ban",
        SPAM_BAN,
        registered(SINCE),
        consent_given(utc(2003, 2, 3), method="pre_ticked"),
        channel=EMAIL,
        before=Expect("NL-NONE", REVIEW),
        on=Expect("NL-EM-06", DENY),
    ),
    boundary(
        "robot_calls_need_consent_from_the_spam_ban",
        SPAM_BAN,
        *phone_number(),
        channel=ROBOT,
        before=Expect("NL-NONE", REVIEW),
        on=Expect("NL-TM-05", DENY),
    ),
    boundary(
        "sender_identity_and_opt_out_address_are_owed_from_the_spam_ban",
        SPAM_BAN,
        organisation_email(),
        channel=EMAIL,
        before=Expect("NL-EM-00", ALLOW),
        on=Expect("NL-EM-00", ALLOW, ("NL-EM-05",)),
    ),
    boundary(
        "email_to_a_company_needs_consent_from_october_2009",
        LEGAL_PERSONS,
        organisation_email(),
        channel=EMAIL,
        before=Expect("NL-EM-00", ALLOW, ("NL-EM-05",)),
        on=Expect("NL-EM-01", DENY),
    ),
    boundary(
        "an_address_published_for_offers_is_an_exception_from_october_2009",
        LEGAL_PERSONS,
        organisation_email(party="sole_trader", **PUBLISHED),
        channel=EMAIL,
        before=Expect("NL-EM-01", DENY),
        on=Expect("NL-EM-03", ALLOW, ("NL-EM-05",)),
    ),
    boundary(
        "an_unproven_published_address_goes_to_review_from_october_2009",
        LEGAL_PERSONS,
        organisation_email(party="sole_trader", published_for_offers=True),
        channel=EMAIL,
        before=Expect("NL-EM-01", DENY),
        on=Expect("NL-EM-03.review", REVIEW, ("NL-EM-05",)),
    ),
    boundary(
        "a_professional_outside_the_eea_is_an_exception_from_october_2009",
        LEGAL_PERSONS,
        organisation_email(party="sole_trader", country="US", local_rules_met=True),
        channel=EMAIL,
        before=Expect("NL-EM-01", DENY),
        on=Expect("NL-EM-04", ALLOW, ("NL-EM-05",)),
    ),
    boundary(
        "an_unchecked_professional_outside_the_eea_goes_to_review_from_october_2009",
        LEGAL_PERSONS,
        organisation_email(party="sole_trader", country="US"),
        channel=EMAIL,
        before=Expect("NL-EM-01", DENY),
        on=Expect("NL-EM-04.review", REVIEW, ("NL-EM-05",)),
    ),
    boundary(
        "a_bought_list_without_proof_is_denied_from_the_gdpr",
        GDPR,
        registered(SINCE, kind="postal", source="third_party_list_without_proof"),
        channel=POST,
        before=Expect("NL-POST-01", ALLOW),
        on=Expect("EU-GDPR-07", DENY),
    ),
    boundary(
        "the_art14_notice_is_owed_from_the_gdpr",
        GDPR,
        *phone_number(party="employee", source="public_profile"),
        channel=PHONE,
        before=Expect("NL-TM-03", ALLOW, ("NL-TM-04",)),
        on=Expect("NL-TM-03", ALLOW, ("NL-TM-04", "EU-GDPR-06")),
    ),
    boundary(
        "the_bel_me_niet_register_gives_way_to_the_opt_in_on_1_july_2021",
        CALLS_OPT_IN,
        *phone_number(bel_me_niet_listed()),
        channel=PHONE,
        before=Expect("NL-TM-00.listed", DENY),
        on=Expect("NL-TM-01", DENY),
    ),
    boundary(
        "the_opt_out_regime_for_calls_ends_on_1_july_2021",
        CALLS_OPT_IN,
        *phone_number(),
        channel=PHONE,
        before=Expect("NL-TM-00", ALLOW, ("NL-TM-04",)),
        on=Expect("NL-TM-01", DENY),
    ),
    boundary(
        "the_customer_exception_for_calls_starts_on_1_july_2021",
        CALLS_OPT_IN,
        *ex_customer(bought=utc(2019, 4, 2), ended=utc(2020, 1, 6)),
        channel=PHONE,
        before=Expect("NL-TM-00", ALLOW, ("NL-TM-04",)),
        on=Expect("NL-TM-02", ALLOW, ("NL-TM-04",)),
    ),
    boundary(
        "the_customer_exception_for_calls_ends_on_1_july_2026",
        NO_CALL_EXCEPTION,
        *ex_customer(bought=utc(2023, 4, 3), ended=utc(2025, 1, 6)),
        channel=PHONE,
        before=Expect("NL-TM-02", ALLOW, ("NL-TM-04",)),
        on=Expect("NL-TM-02b", DENY),
    ),
    boundary(
        "charities_keep_the_customer_exception_for_calls_after_1_july_2026",
        NO_CALL_EXCEPTION,
        *ex_customer(bought=utc(2023, 4, 3), ended=utc(2025, 1, 6)),
        channel=PHONE,
        controller=CHARITY,
        before=Expect("NL-TM-02", ALLOW, ("NL-TM-04",)),
        on=Expect("NL-TM-02b.exempt", ALLOW, ("NL-TM-04",)),
    ),
]


def _at_boundary(b: Boundary, at: datetime) -> Decision:
    return decide(history(*b.events), b.channel, at, controller=b.controller)


def _outcome(decision: Decision) -> Expect:
    return Expect(decision.rule, decision.verdict, reason_rules(decision)[1:])


@pytest.mark.parametrize("b", BOUNDARIES, ids=says)
def test_on_the_last_minute_of_the_dutch_day_before_a_rule_date_the_old_rule_decides(b: Boundary) -> None:
    day_before = b.switch - timedelta(days=1)
    at = amsterdam(day_before.year, day_before.month, day_before.day, 23, 59)
    assert _outcome(_at_boundary(b, at)) == b.before


@pytest.mark.parametrize("b", BOUNDARIES, ids=says)
def test_from_the_first_minute_of_the_dutch_rule_date_the_new_rule_decides(b: Boundary) -> None:
    at = amsterdam(b.switch.year, b.switch.month, b.switch.day, 0, 0)
    assert _outcome(_at_boundary(b, at)) == b.on


def test_every_dated_rule_is_tested_on_both_sides_of_each_of_its_dates() -> None:
    def named(e: Expect) -> set[str]:
        return {e.rule, *e.also}

    missing = []
    for rule in PACK.rules:
        if rule.id in UNREACHABLE:
            continue
        if rule.in_force_from is not None and not any(
            b.switch == rule.in_force_from and rule.id in named(b.on) and rule.id not in named(b.before)
            for b in BOUNDARIES
        ):
            missing.append(f"{rule.id} from {rule.in_force_from}")
        if rule.in_force_until is not None and not any(
            b.switch == rule.in_force_until + timedelta(days=1)
            and rule.id in named(b.before)
            and rule.id not in named(b.on)
            for b in BOUNDARIES
        ):
            missing.append(f"{rule.id} until {rule.in_force_until}")
    assert missing == []


def test_rule_dates_are_judged_on_the_dutch_calendar_day_not_the_utc_day() -> None:
    state = history(*phone_number())
    still_30_june_in_amsterdam = datetime.fromisoformat("2021-06-30T23:30+02:00")
    already_1_july_in_amsterdam = datetime.fromisoformat("2021-06-30T22:30+00:00")
    assert already_1_july_in_amsterdam.date() == date(2021, 6, 30)  # the UTC day is still 30 June

    late_evening = decide(state, PHONE, still_30_june_in_amsterdam)
    just_after_midnight = decide(state, PHONE, already_1_july_in_amsterdam)

    assert (late_evening.rule, late_evening.verdict) == ("NL-TM-00", ALLOW)
    assert (just_after_midnight.rule, just_after_midnight.verdict) == ("NL-TM-01", DENY)


def test_a_summer_rule_date_starts_at_dutch_midnight_which_is_2200_utc_the_day_before() -> None:
    state = history(organisation_email())
    assert decide(state, EMAIL, utc(2004, 5, 18, 21, 59)).reasons[1:] == ()
    spam_ban_minute_one = decide(state, EMAIL, utc(2004, 5, 18, 22, 0))  # 00:00 CEST on 19 May
    assert reason_rules(spam_ban_minute_one) == ("NL-EM-00", "NL-EM-05")
    assert decide(state, EMAIL, utc(2009, 9, 30, 21, 59)).rule == "NL-EM-00"
    assert decide(state, EMAIL, utc(2009, 9, 30, 22, 0)).rule == "NL-EM-01"


# -- live calls: the ex-customer story -------------------------------------------------------


def test_a_call_to_an_ex_customer_in_2019_is_allowed_under_the_old_opt_out_regime() -> None:
    state = history(*ex_customer(bought=utc(2016, 9, 5), ended=utc(2018, 3, 1)))
    decision = decide(state, PHONE, amsterdam(2019, 6, 4))
    assert (decision.rule, decision.verdict) == ("NL-TM-00", ALLOW)
    assert decision.basis is Basis.LEGITIMATE_INTEREST


def test_a_call_to_an_ex_customer_in_2025_is_allowed_by_the_self_regulated_customer_exception() -> None:
    state = history(*ex_customer(bought=utc(2022, 5, 3), ended=utc(2024, 1, 15)))
    decision = decide(state, PHONE, amsterdam(2025, 3, 10))
    assert (decision.rule, decision.verdict) == ("NL-TM-02", ALLOW)
    assert decision.reasons[0].authority is Authority.SELF_REGULATION
    assert "Code Telemarketing" in decision.reasons[0].citation


def test_a_call_to_an_ex_customer_in_2026_after_1_july_is_denied() -> None:
    state = history(*ex_customer(bought=utc(2022, 5, 3), ended=utc(2024, 1, 15)))
    decision = decide(state, PHONE, amsterdam(2026, 9, 1))
    assert (decision.rule, decision.verdict) == ("NL-TM-02b", DENY)


def test_a_call_to_a_current_customer_in_2026_after_1_july_is_denied_too() -> None:
    state = history(registered(utc(2025, 11, 3), kind="phone", source="purchase"), purchase(utc(2025, 11, 3)))
    decision = decide(state, PHONE, amsterdam(2026, 9, 1))
    assert (decision.rule, decision.verdict) == ("NL-TM-02b", DENY)


@pytest.mark.parametrize("sector", [Sector.CHARITY, Sector.CHARITY_LOTTERY, Sector.PUBLISHER])
def test_a_charity_lottery_or_publisher_may_still_call_its_ex_customers_after_1_july_2026(
    sector: Sector,
) -> None:
    state = history(*ex_customer(bought=utc(2022, 5, 3), ended=utc(2024, 1, 15)))
    decision = decide(state, PHONE, amsterdam(2026, 9, 1), controller=Controller("Uitgever", sector))
    assert (decision.rule, decision.verdict) == ("NL-TM-02b.exempt", ALLOW)


def test_an_exempt_charity_still_may_not_cold_call_a_consumer_after_1_july_2026() -> None:
    decision = decide(history(*phone_number()), PHONE, amsterdam(2026, 9, 1), controller=CHARITY)
    assert (decision.rule, decision.verdict) == ("NL-TM-01", DENY)


def test_a_bel_me_niet_listed_non_customer_could_not_be_called_before_1_july_2021() -> None:
    state = history(*phone_number(bel_me_niet_listed()))
    decision = decide(state, PHONE, amsterdam(2021, 6, 30, 15))
    assert (decision.rule, decision.verdict) == ("NL-TM-00.listed", DENY)


def test_after_1_july_2021_the_same_number_is_denied_by_the_opt_in_whatever_the_register_says() -> None:
    listed_number = history(*phone_number(bel_me_niet_listed()))
    unlisted_number = history(*phone_number())
    for state in (listed_number, unlisted_number):
        decision = decide(state, PHONE, amsterdam(2021, 7, 1, 15))
        assert (decision.rule, decision.verdict) == ("NL-TM-01", DENY)


def test_after_1_july_2021_a_listed_ex_customer_may_be_called_because_the_register_no_longer_counts() -> None:
    state = history(
        *ex_customer(bought=utc(2020, 2, 3), ended=utc(2021, 1, 4)),
        listed(utc(2015, 3, 2), listed_from="2015-03-02"),
    )
    assert decide(state, PHONE, amsterdam(2021, 6, 30, 15)).rule == "NL-TM-00"  # customer excepted
    decision = decide(state, PHONE, amsterdam(2022, 3, 1))
    assert (decision.rule, decision.verdict) == ("NL-TM-02", ALLOW)


def test_a_listing_that_ended_no_longer_blocks_a_call_before_2021() -> None:
    state = history(
        *phone_number(listed(utc(2015, 3, 2), listed_from="2015-03-02", listed_until="2018-12-31"))
    )
    assert decide(state, PHONE, amsterdam(2018, 12, 31)).rule == "NL-TM-00.listed"
    decision = decide(state, PHONE, amsterdam(2019, 1, 1))
    assert (decision.rule, decision.verdict) == ("NL-TM-00", ALLOW)


def test_before_2021_a_listed_ex_customer_could_be_called_for_three_years_only() -> None:
    # the three years from 1 March 2017 include 29 February 2020
    state = history(
        *ex_customer(bought=utc(2016, 5, 2), ended=utc(2017, 3, 1, 10)),
        bel_me_niet_listed(),
    )
    within = decide(state, PHONE, utc(2020, 2, 28, 10))
    after = decide(state, PHONE, utc(2020, 3, 2, 10))
    assert (within.rule, within.verdict) == ("NL-TM-00", ALLOW)
    assert (after.rule, after.verdict) == ("NL-TM-00.listed", DENY)


def test_the_three_year_window_for_calling_an_ex_customer_expires() -> None:
    # the three years from 15 September 2022 include 29 February 2024
    state = history(*ex_customer(bought=utc(2021, 8, 2), ended=utc(2022, 9, 15, 10)))
    within = decide(state, PHONE, utc(2025, 9, 14, 10))
    expired = decide(state, PHONE, utc(2025, 9, 16, 10))
    assert (within.rule, within.verdict) == ("NL-TM-02", ALLOW)
    assert (expired.rule, expired.verdict) == ("NL-TM-02.expired", DENY)


def test_after_1_july_2026_a_charitys_window_expires_too() -> None:
    # the three years from 1 September 2023 include 29 February 2024
    state = history(*ex_customer(bought=utc(2022, 8, 1), ended=utc(2023, 9, 1, 10)))
    within = decide(state, PHONE, utc(2026, 8, 31, 10), controller=CHARITY)
    expired = decide(state, PHONE, utc(2026, 9, 2, 10), controller=CHARITY)
    assert (within.rule, within.verdict) == ("NL-TM-02b.exempt", ALLOW)
    assert expired.verdict is DENY


def test_a_new_purchase_reopens_the_window_of_an_ex_customer() -> None:
    ended = ex_customer(bought=utc(2018, 8, 1), ended=utc(2019, 1, 7))
    assert decide(history(*ended), PHONE, NOW).rule == "NL-TM-02.expired"
    decision = decide(history(*ended, purchase(utc(2023, 11, 20))), PHONE, NOW)
    assert (decision.rule, decision.verdict) == ("NL-TM-02", ALLOW)


def test_the_customer_exception_for_calls_needs_similar_products() -> None:
    state = history(*ex_customer(bought=utc(2022, 5, 3), ended=utc(2024, 1, 15)))
    decision = decide(state, PHONE, amsterdam(2025, 3, 10), purpose=GARDEN)
    assert (decision.rule, decision.verdict) == ("NL-TM-01", DENY)


def test_a_sole_trader_is_called_like_a_consumer_but_an_employee_like_the_company() -> None:
    sole_trader = decide(history(*phone_number(party="sole_trader")), PHONE, NOW)
    employee = decide(history(*phone_number(party="employee")), PHONE, NOW)
    assert (sole_trader.rule, sole_trader.verdict) == ("NL-TM-01", DENY)
    assert (employee.rule, employee.verdict) == ("NL-TM-03", ALLOW)


def test_a_proven_consent_allows_a_call_to_a_consumer_since_2021() -> None:
    state = history(
        *phone_number(consent_given(utc(2023, 4, 4), channels=("phone",), method="call_recording"))
    )
    decision = decide(state, PHONE, NOW)
    assert (decision.rule, decision.verdict, decision.basis) == ("EU-GDPR-02", ALLOW, Basis.CONSENT)


def test_a_consent_allows_a_robot_call() -> None:
    state = history(*phone_number(consent_given(utc(2023, 4, 4), channels=("automated_call",))))
    decision = decide(state, ROBOT, NOW)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-02", ALLOW)


# -- electronic messages -----------------------------------------------------------------------


def test_b2b_email_before_october_2009_is_allowed_as_long_as_the_company_did_not_opt_out() -> None:
    state = history(organisation_email())
    decision = decide(state, EMAIL, amsterdam(2009, 9, 30, 16))
    assert (decision.rule, decision.verdict) == ("NL-EM-00", ALLOW)
    assert "opt-out-in-every-message" in obligation_ids(decision)
    opted_out = history(organisation_email(), unsubscribed(utc(2008, 1, 7)))
    assert (decide(opted_out, EMAIL, amsterdam(2009, 9, 30, 16)).rule) == "EU-GDPR-03"


def test_b2b_email_from_october_2009_is_denied_without_consent_or_exception() -> None:
    decision = decide(history(organisation_email()), EMAIL, amsterdam(2009, 10, 1, 9))
    assert (decision.rule, decision.verdict) == ("NL-EM-01", DENY)


def test_b2b_email_from_october_2009_is_allowed_to_an_address_published_for_offers_with_evidence() -> None:
    decision = decide(history(organisation_email(**PUBLISHED)), EMAIL, amsterdam(2009, 10, 1, 9))
    assert (decision.rule, decision.verdict) == ("NL-EM-03", ALLOW)
    assert obligation_ids(decision) == (
        "mention-right-to-object",
        "legitimate-interest-assessment",
        "sender-identity",
        "opt-out-address",
    )


def test_b2b_email_from_october_2009_to_an_address_published_without_evidence_needs_review() -> None:
    decision = decide(
        history(organisation_email(published_for_offers=True)), EMAIL, amsterdam(2009, 10, 1, 9)
    )
    assert (decision.rule, decision.verdict) == ("NL-EM-03.review", REVIEW)
    assert decision.verdict is not ALLOW
    assert obligation_ids(decision) == ("sender-identity", "opt-out-address")  # a review keeps them


def test_before_the_2004_spam_ban_consumer_email_falls_to_the_review_fallback() -> None:
    decision = decide(history(registered(SINCE)), EMAIL, amsterdam(2004, 5, 18, 12))
    assert (decision.rule, decision.verdict) == ("NL-NONE", REVIEW)
    assert decision.reasons[0].authority is Authority.POLICY
    assert decision.obligations == ()


def test_the_customer_exception_email_carries_the_opt_out_and_the_sender_obligations() -> None:
    state = history(registered(utc(2023, 5, 2), source="purchase"), purchase(utc(2023, 5, 2)))
    decision = decide(state, EMAIL, NOW)
    assert (decision.rule, decision.basis) == ("NL-EM-02", Basis.CUSTOMER_EXCEPTION)
    assert obligation_ids(decision) == ("opt-out-in-every-message", "sender-identity", "opt-out-address")
    assert reason_rules(decision) == ("NL-EM-02", "NL-EM-05")


@pytest.mark.parametrize(
    ("bought", "purpose", "channel"),
    [
        pytest.param(purchase(utc(2023, 5, 2)), GARDEN, EMAIL, id="products_the_customer_never_bought"),
        pytest.param(purchase(utc(2023, 5, 2)), PARTNER_OFFERS, EMAIL, id="other_companies_products"),
        pytest.param(
            purchase(utc(2023, 5, 2), opt_out_offered=False), SHOES, EMAIL, id="a_sale_without_opt_out"
        ),
        pytest.param(
            purchase(utc(2023, 5, 2), collected_by_sender=False),
            SHOES,
            EMAIL,
            id="an_address_others_collected",
        ),
        pytest.param(purchase(utc(2023, 5, 2)), SHOES, FAX, id="fax_which_is_not_electronic_mail"),
    ],
)
def test_the_customer_exception_does_not_cover(bought: Event, purpose: Purpose, channel: Channel) -> None:
    state = history(registered(SINCE, kind=point_kind_for(channel), source="purchase"), bought)
    decision = decide(state, channel, NOW, purpose=purpose)
    assert (decision.rule, decision.verdict) == ("NL-EM-01", DENY)


def test_the_customer_exception_also_covers_sms_and_messaging_apps() -> None:
    state = history(registered(SINCE, kind="phone", source="purchase"), purchase(utc(2023, 5, 2)))
    for channel in (SMS, APP):
        assert (decide(state, channel, NOW).rule, decide(state, channel, NOW).verdict) == ("NL-EM-02", ALLOW)


def test_an_unsubscribe_ends_the_customer_exception() -> None:
    state = history(
        registered(SINCE, source="purchase"), purchase(utc(2023, 5, 2)), unsubscribed(utc(2023, 8, 1))
    )
    decision = decide(state, EMAIL, NOW)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-03", DENY)


@pytest.mark.parametrize(
    "defect",
    [
        {"method": "pre_ticked"},
        {"method": "terms_and_conditions"},
        {"method": "condition_of_service"},
        {"bundled": True},
        {"vague": True},
    ],
    ids=["pre_ticked", "hidden_in_terms", "condition_for_a_download", "bundled", "vague"],
)
def test_a_defective_consent_is_invalid_and_denied(defect: dict[str, Any]) -> None:
    state = history(registered(SINCE), consent_given(utc(2023, 2, 1), **defect))
    decision = decide(state, EMAIL, NOW)
    assert (decision.rule, decision.verdict) == ("NL-EM-06", DENY)
    assert decision.obligations == ()


def test_a_double_opt_in_is_denied_until_confirmed_and_allowed_after() -> None:
    given = (registered(SINCE), consent_given(utc(2024, 3, 1, 9), method="double_opt_in"))
    pending = decide(history(*given), EMAIL, NOW)
    confirmed = decide(history(*given, consent_confirmed(utc(2024, 3, 1, 9, 20))), EMAIL, NOW)
    assert (pending.rule, pending.verdict) == ("EU-GDPR-03.pending", DENY)
    assert (confirmed.rule, confirmed.verdict) == ("EU-GDPR-02", ALLOW)


def test_a_later_consent_after_an_unsubscribe_allows_again() -> None:
    unsubscribed_then = (registered(SINCE), consent_given(utc(2022, 1, 3)), unsubscribed(utc(2023, 2, 1)))
    assert decide(history(*unsubscribed_then), EMAIL, NOW).rule == "EU-GDPR-03"
    decision = decide(history(*unsubscribed_then, consent_given(utc(2024, 1, 9))), EMAIL, NOW)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-02", ALLOW)


def test_a_withdrawn_consent_is_denied() -> None:
    state = history(registered(SINCE), consent_given(utc(2022, 1, 3)), consent_withdrawn(utc(2023, 2, 1)))
    decision = decide(state, EMAIL, NOW)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-03", DENY)


def test_an_unsubscribe_from_one_channel_leaves_the_consent_for_the_other_channel_valid() -> None:
    state = history(
        *phone_number(
            consent_given(utc(2022, 1, 3), channels=("sms", "phone")),
            unsubscribed(utc(2023, 2, 1), channels=("sms",)),
        )
    )
    sms = decide(state, SMS, NOW)
    call = decide(state, PHONE, NOW)
    assert (sms.rule, sms.verdict) == ("EU-GDPR-03", DENY)
    assert (call.rule, call.verdict) == ("EU-GDPR-02", ALLOW)


def test_an_unsubscribe_from_one_purpose_leaves_the_consent_for_another_purpose_valid() -> None:
    state = history(
        registered(SINCE),
        consent_given(utc(2022, 1, 3), purpose="shoes"),
        consent_given(utc(2022, 1, 3), purpose="garden"),
        unsubscribed(utc(2023, 2, 1), purpose="shoes"),
    )
    assert decide(state, EMAIL, NOW, purpose=SHOES).verdict is DENY
    garden = decide(state, EMAIL, NOW, purpose=GARDEN)
    assert (garden.rule, garden.verdict) == ("EU-GDPR-02", ALLOW)


def test_a_consent_for_one_purpose_does_not_cover_another() -> None:
    state = history(registered(SINCE), consent_given(utc(2022, 1, 3), purpose="garden"))
    decision = decide(state, EMAIL, NOW, purpose=SHOES)
    assert (decision.rule, decision.verdict) == ("NL-EM-01", DENY)


def test_a_service_message_stays_allowed_after_an_objection_to_marketing() -> None:
    state = history(registered(SINCE), objected(utc(2023, 2, 1)))
    decision = decide(state, EMAIL, NOW, kind=SERVICE)
    assert (decision.rule, decision.verdict, decision.basis) == ("NL-EM-08", ALLOW, Basis.CONTRACT)
    assert decision.obligations == ()


# -- GDPR on every channel ------------------------------------------------------------------


def _consent_everywhere(channel: Channel) -> tuple[Event, ...]:
    return (
        registered(SINCE, kind=point_kind_for(channel)),
        consent_given(utc(2022, 1, 3), channels=tuple(c.value for c in Channel)),
    )


@pytest.mark.parametrize("channel", list(Channel), ids=str)
def test_an_objection_to_direct_marketing_denies_every_channel_even_with_consent(channel: Channel) -> None:
    consenting = _consent_everywhere(channel)
    assert decide(history(*consenting), channel, NOW).verdict is ALLOW
    decision = decide(history(*consenting, objected(utc(2023, 2, 1))), channel, NOW)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-04", DENY)
    assert decision.obligations == ()


@pytest.mark.parametrize("channel", [POST, PHONE], ids=str)
def test_an_objection_to_direct_marketing_beats_the_legitimate_interest_of_post_and_b2b_calls(
    channel: Channel,
) -> None:
    organisation = registered(SINCE, kind=point_kind_for(channel), party="legal_person")
    assert decide(history(organisation), channel, NOW).verdict is ALLOW
    decision = decide(history(organisation, objected(utc(2023, 2, 1))), channel, NOW)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-04", DENY)


def test_an_objection_to_direct_marketing_also_forbids_profiling_for_it() -> None:
    state = history(registered(SINCE), objected(utc(2023, 2, 1)))
    decision = decide(state, EMAIL, NOW, activity=PROFILING)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-04", DENY)


def test_an_objection_to_direct_marketing_denies_an_ex_customer_call_in_2025() -> None:
    state = history(*ex_customer(bought=utc(2022, 5, 3), ended=utc(2024, 1, 15)), objected(utc(2024, 6, 3)))
    decision = decide(state, PHONE, amsterdam(2025, 3, 10))
    assert (decision.rule, decision.verdict) == ("EU-GDPR-04", DENY)


def test_an_objection_to_profiling_alone_leaves_consented_marketing_allowed() -> None:
    state = history(registered(SINCE), consent_given(utc(2022, 1, 3)), objected(utc(2023, 2, 1), "profiling"))
    assert decide(state, EMAIL, NOW, activity=PROFILING).rule == "EU-GDPR-05"
    decision = decide(state, EMAIL, NOW)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-02", ALLOW)


def test_a_lifted_objection_lets_the_consent_count_again() -> None:
    state = history(
        registered(SINCE),
        consent_given(utc(2022, 1, 3)),
        objected(utc(2023, 2, 1)),
        objection_withdrawn(utc(2023, 9, 4)),
    )
    decision = decide(state, EMAIL, NOW)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-02", ALLOW)


def test_profiling_is_allowed_with_a_profiling_notice_obligation() -> None:
    decision = decide(history(registered(SINCE)), EMAIL, NOW, activity=PROFILING)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-10", ALLOW)
    assert obligation_ids(decision) == ("profiling-notice", "legitimate-interest-assessment")


def test_a_bought_list_without_proof_is_denied_but_a_consent_the_sender_collected_itself_allows() -> None:
    bought = registered(SINCE, source="third_party_list_without_proof")
    double_opt_in = consent_given(utc(2023, 1, 9, 12), method="double_opt_in")
    no_consent = decide(history(bought), EMAIL, NOW)
    imported = decide(history(bought, consent_given(utc(2023, 1, 9), method="import")), EMAIL, NOW)
    unconfirmed = decide(history(bought, double_opt_in), EMAIL, NOW)
    confirmed = decide(history(bought, double_opt_in, consent_confirmed(utc(2023, 1, 9, 13))), EMAIL, NOW)

    assert (no_consent.rule, no_consent.verdict) == ("EU-GDPR-07", DENY)
    assert (imported.rule, imported.verdict) == ("EU-GDPR-07", DENY)
    assert (unconfirmed.rule, unconfirmed.verdict) == ("EU-GDPR-07", DENY)
    assert (confirmed.rule, confirmed.verdict) == ("EU-GDPR-02", ALLOW)
    assert "art14-notice" in obligation_ids(confirmed)  # the data still did not come from the person


def test_a_third_party_list_with_proof_may_rely_on_its_imported_consent() -> None:
    state = history(
        registered(SINCE, source="third_party_list_with_proof"),
        consent_given(utc(2023, 1, 9), method="import"),
    )
    decision = decide(state, EMAIL, NOW)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-02", ALLOW)


def test_the_art14_notice_is_owed_for_a_public_profile_until_an_article_14_notice_was_given() -> None:
    found = phone_number(party="employee", source="public_profile")
    before_notice = decide(history(*found), PHONE, NOW)
    only_art13 = decide(history(*found, notice_given(utc(2023, 3, 1), article="13")), PHONE, NOW)
    after_notice = decide(history(*found, notice_given(utc(2023, 3, 1), article="14")), PHONE, NOW)

    assert before_notice.verdict is ALLOW
    assert "art14-notice" in obligation_ids(before_notice)
    assert "art14-notice" in obligation_ids(only_art13)
    assert (after_notice.rule, after_notice.verdict) == ("NL-TM-03", ALLOW)
    assert "art14-notice" not in obligation_ids(after_notice)
    assert "EU-GDPR-06" not in reason_rules(after_notice)


def test_a_call_carries_the_telemarketing_obligations() -> None:
    decision = decide(history(*phone_number(party="legal_person")), PHONE, NOW)
    assert obligation_ids(decision) == (
        "mention-right-to-object",
        "legitimate-interest-assessment",
        "offer-right-to-object-in-call",
        "suppress-on-objection",
        "no-hidden-number",
    )


def test_a_denied_email_drops_the_obligations_that_would_otherwise_apply() -> None:
    decision = decide(history(registered(SINCE)), EMAIL, NOW)
    assert (decision.rule, decision.verdict) == ("NL-EM-01", DENY)
    assert decision.obligations == ()
    assert reason_rules(decision) == ("NL-EM-01",)


def test_post_is_allowed_with_the_duty_to_honour_objections() -> None:
    decision = decide(history(registered(SINCE, kind="postal")), POST, NOW)
    assert (decision.rule, decision.verdict) == ("NL-POST-01", ALLOW)
    assert obligation_ids(decision) == (
        "honour-objection",
        "mention-right-to-object",
        "legitimate-interest-assessment",
        "postfilter-mention",
    )


def test_a_current_customer_on_the_postfilter_may_still_get_post() -> None:
    state = history(
        registered(SINCE, kind="postal", source="purchase"),
        purchase(utc(2023, 5, 2)),
        listed(utc(2020, 1, 6), register="postfilter", listed_from="2020-01-06"),
    )
    decision = decide(state, POST, NOW)
    assert (decision.rule, decision.verdict) == ("NL-POST-01", ALLOW)


def test_an_erasure_denies_even_a_service_message() -> None:
    state = history(registered(SINCE), erased(utc(2023, 2, 1)))
    decision = decide(state, EMAIL, NOW, kind=SERVICE)
    assert (decision.rule, decision.verdict) == ("EU-GDPR-09", DENY)


# -- folding "as of" a moment ---------------------------------------------------------------


def test_folding_as_of_a_moment_ignores_later_events() -> None:
    events = (registered(SINCE), consent_given(utc(2023, 1, 10)), unsubscribed(utc(2023, 6, 1)))
    then = utc(2023, 3, 1)
    as_then = decide(history(*events, as_of=then), EMAIL, then)
    with_hindsight = decide(history(*events), EMAIL, then)
    assert (as_then.rule, as_then.verdict) == ("EU-GDPR-02", ALLOW)
    assert (with_hindsight.rule, with_hindsight.verdict) == ("EU-GDPR-03", DENY)


def test_folding_as_of_a_moment_before_the_art14_notice_still_owes_it() -> None:
    events = (*phone_number(party="employee", source="public_profile"), notice_given(utc(2024, 5, 1)))
    assert "art14-notice" in obligation_ids(decide(history(*events, as_of=utc(2024, 4, 1)), PHONE, NOW))
    assert "art14-notice" not in obligation_ids(decide(history(*events, as_of=utc(2024, 6, 1)), PHONE, NOW))


def test_folding_as_of_the_exact_moment_of_an_event_includes_it() -> None:
    events = (registered(SINCE), consent_given(utc(2023, 1, 10)), objected(utc(2023, 6, 1, 9)))
    assert decide(history(*events, as_of=utc(2023, 6, 1, 8, 59)), EMAIL, NOW).verdict is ALLOW
    assert decide(history(*events, as_of=utc(2023, 6, 1, 9)), EMAIL, NOW).rule == "EU-GDPR-04"


def test_a_decision_records_what_was_asked() -> None:
    decision = decide(history(registered(SINCE)), EMAIL, NOW, purpose=GARDEN)
    assert (decision.at, decision.channel, decision.purpose, decision.pack) == (NOW, "email", "garden", "nl")
    assert decision.contact_point_id == "cp-test"
    assert decision.reasons[0].text("en") and decision.reasons[0].text("nl")


# -- regressions: the three-year window and register days are Dutch calendar days ----------


def _ex_customer_on_bel_me_niet(ended: datetime) -> ContactState:
    return history(
        registered(utc(2012, 1, 10), kind="phone"),
        listed(utc(2012, 1, 10), listed_from="2010-01-01", listed_until="2021-06-30"),
        purchase(utc(2012, 2, 1)),
        relationship_ended(ended),
    )


def test_an_ex_customer_may_be_called_until_the_third_anniversary_of_the_end_inclusive() -> None:
    # Ended on 1 January 2017 (no 29 February in 2017-2019): the window closes after
    # 1 January 2020, Amsterdam time, late in the day included.
    state = _ex_customer_on_bel_me_niet(amsterdam(2017, 1, 1, 10))
    assert decide(state, Channel.PHONE, amsterdam(2020, 1, 1, 23, 30)).rule == "NL-TM-00"
    assert decide(state, Channel.PHONE, amsterdam(2020, 1, 2, 9)).rule == "NL-TM-00.listed"


def test_an_ending_on_29_february_closes_the_window_on_28_february_three_years_on() -> None:
    state = _ex_customer_on_bel_me_niet(amsterdam(2016, 2, 29, 10))
    assert decide(state, Channel.PHONE, amsterdam(2019, 2, 28, 20)).rule == "NL-TM-00"
    assert decide(state, Channel.PHONE, amsterdam(2019, 3, 1, 8)).rule == "NL-TM-00.listed"


def test_a_listing_without_a_start_day_starts_on_the_dutch_day_it_was_recorded() -> None:
    # Recorded at 00:30 on 2 March in Amsterdam (still 1 March in UTC): a call on the
    # evening of 1 March is not yet affected by it.
    state = history(
        registered(utc(2019, 1, 1), kind="phone"),
        listed(utc(2020, 3, 1, 23, 30)),
    )
    assert decide(state, Channel.PHONE, amsterdam(2020, 3, 1, 21)).rule == "NL-TM-00"
    assert decide(state, Channel.PHONE, amsterdam(2020, 3, 2, 9)).rule == "NL-TM-00.listed"


def test_a_business_card_handed_over_brings_the_article_14_notice_duty() -> None:
    state = history(registered(utc(2024, 1, 5), source="business_card", party="sole_trader"))
    decision = decide(state, Channel.EMAIL, NOW, kind=MessageKind.PERSONAL)
    assert decision.rule == "NL-EM-07"
    assert decide(state, Channel.EMAIL, NOW).verdict is Verdict.DENY
    assert "art14-notice" not in obligation_ids(decision)  # a personal message is not direct marketing
    post = history(registered(utc(2024, 1, 5), kind="postal", source="business_card"))
    assert "art14-notice" in obligation_ids(decide(post, Channel.POST, NOW))
