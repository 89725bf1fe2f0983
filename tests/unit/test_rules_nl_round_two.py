"""Issue #14 in the `nl` pack, without a database: what each point decides on both sides,
and how each changed rule's explanation names the fact that decided it (Dutch dates).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from factories import (
    GARDEN,
    SHOES,
    amsterdam,
    consent_given,
    history,
    listed,
    objected,
    purchase,
    registered,
    relationship_ended,
    utc,
)

from consentry.domain.state import ContactState
from consentry.domain.vocabulary import Activity, Channel, MessageKind, Sector
from consentry.i18n import translations
from consentry.policy.facts import Controller, Question, day_both
from consentry.policy.nl import PACK
from consentry.policy.rules import Decision, evaluate

SHOP = Controller("Schoenen BV", Sector.COMMERCIAL)
SINCE = utc(2020, 1, 6)
NOW = amsterdam(2024, 3, 12, 10)


def ask(
    state: ContactState,
    channel: Channel,
    at: datetime,
    kind: MessageKind = MessageKind.MARKETING,
    activity: Activity = Activity.CONTACT,
    controller: Controller = SHOP,
) -> Decision:
    """Ask the nl pack one question about one folded contact point."""
    return evaluate(PACK, state, Question(channel, SHOES, at, kind, activity), controller)


def test_dates_in_explanations_are_dutch_calendar_days_written_out() -> None:
    late = datetime.fromisoformat("2022-03-03T23:30:00+00:00")  # already 4 March in Amsterdam
    assert day_both(late) == ("4 maart 2022", "4 March 2022")


# -- 1. objections follow the person ------------------------------------------------------------


def _sibling_objected(state: ContactState, at: datetime, scope: str = "direct_marketing") -> ContactState:
    return replace(state, contact_id="anna", person_objections={scope: ("cp-email", at)})


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.SMS, Channel.PHONE, Channel.POST], ids=str)
def test_an_objection_made_on_another_point_of_the_person_denies_every_channel(channel: Channel) -> None:
    kind = {Channel.EMAIL: "email", Channel.POST: "postal"}.get(channel, "phone")
    state = history(registered(SINCE, kind=kind), consent_given(SINCE, channels=(channel.value,)))
    assert ask(state, channel, NOW).verdict.value != "deny" or channel is Channel.PHONE
    d = ask(_sibling_objected(state, utc(2023, 2, 1)), channel, NOW)
    assert (d.rule, d.verdict.value) == ("EU-GDPR-04", "deny")
    assert "1 februari 2023" in d.reasons[0].nl and "cp-email" in d.reasons[0].nl
    assert "1 February 2023" in d.reasons[0].en


def test_an_objection_on_the_point_itself_names_its_day() -> None:
    d = ask(history(registered(SINCE), objected(utc(2023, 2, 1))), Channel.EMAIL, NOW)
    assert d.reasons[0].nl.endswith("Het bezwaar is gemaakt op 1 februari 2023.")


def test_a_profiling_objection_on_another_point_stops_profiling_of_this_one() -> None:
    state = history(registered(SINCE))
    assert ask(state, Channel.EMAIL, NOW, activity=Activity.PROFILING).rule == "EU-GDPR-10"
    d = ask(
        _sibling_objected(state, utc(2023, 2, 1), "profiling"),
        Channel.EMAIL,
        NOW,
        activity=Activity.PROFILING,
    )
    assert d.rule == "EU-GDPR-05"


def test_the_preference_centre_says_an_objection_covers_every_channel() -> None:
    # The confirmation preferences.html shows after an objection (its message id is the English text).
    done = (
        "Your objection to direct marketing has been recorded. It takes effect immediately and covers "
        "every channel and every address and number we hold for you: e-mail, SMS, phone and post."
    )
    assert "alle kanalen" in translations("nl").gettext(done)
    assert "every channel" in translations("en").gettext(done)


# -- 2. proposals and personal replies -----------------------------------------------------------


def test_an_objection_stops_a_commercial_proposal_but_not_a_purely_personal_reply() -> None:
    state = history(registered(SINCE, source="business_card"), objected(utc(2023, 2, 1)))
    proposal = ask(state, Channel.EMAIL, NOW, MessageKind.PROPOSAL)
    reply = ask(state, Channel.EMAIL, NOW, MessageKind.PERSONAL)
    assert (proposal.rule, proposal.verdict.value) == ("EU-GDPR-04.proposal", "deny")
    assert "persoonlijk commercieel voorstel" in proposal.reasons[0].nl
    assert (reply.rule, reply.verdict.value) == ("NL-EM-07", "allow")
    assert "puur persoonlijk" in reply.reasons[0].nl


def test_a_proposal_by_phone_is_not_waved_through_as_a_personal_message() -> None:
    state = history(registered(SINCE, kind="phone", source="business_card"))
    d = ask(state, Channel.PHONE, NOW, MessageKind.PROPOSAL)
    assert d.verdict.value == "review"


# -- 3. the 2021 call regime's conditions ---------------------------------------------------------


def test_no_opt_out_at_collection_is_named_with_the_day_of_the_sale() -> None:
    state = history(registered(SINCE, kind="phone"), purchase(utc(2022, 3, 4), opt_out_offered=False))
    d = ask(state, Channel.PHONE, amsterdam(2023, 1, 9))
    assert d.rule == "NL-TM-02.unmet"
    assert "geen afmeldmogelijkheid" in d.reasons[0].nl and "4 maart 2022" in d.reasons[0].nl
    assert (
        "No opt-out was offered when the number was collected in the sale of 4 March 2022." in d.reasons[0].en
    )


def test_a_number_someone_else_collected_is_named_as_such() -> None:
    state = history(registered(SINCE, kind="phone"), purchase(utc(2022, 3, 4), collected_by_sender=False))
    d = ask(state, Channel.PHONE, amsterdam(2023, 1, 9))
    assert d.rule == "NL-TM-02.unmet"
    assert "not obtained by the sender itself in the sale of 4 March 2022" in d.reasons[0].en


def test_an_allowed_customer_call_names_the_sale_and_the_last_day_of_the_window() -> None:
    state = history(registered(SINCE, kind="phone"), purchase(utc(2022, 3, 4)))
    d = ask(state, Channel.PHONE, amsterdam(2023, 1, 9))
    assert d.rule == "NL-TM-02"
    assert "Verkoop van 4 maart 2022; de termijn loopt tot en met 4 maart 2025." in d.reasons[0].nl


def test_an_exempt_sender_after_1_july_2026_needs_the_same_conditions() -> None:
    charity = Controller("Stichting Goed Doel", Sector.CHARITY)
    good = history(registered(SINCE, kind="phone"), purchase(utc(2025, 3, 4)))
    bad = history(registered(SINCE, kind="phone"), purchase(utc(2025, 3, 4), opt_out_offered=False))
    assert ask(good, Channel.PHONE, amsterdam(2026, 7, 1, 0), controller=charity).rule == "NL-TM-02b.exempt"
    assert ask(bad, Channel.PHONE, amsterdam(2026, 6, 30, 23), controller=charity).rule == "NL-TM-02.unmet"
    assert ask(bad, Channel.PHONE, amsterdam(2026, 7, 1, 0), controller=charity).rule == "NL-TM-02.unmet"


# -- 4. three years from the end of the contract or the last purchase -----------------------------


def test_a_one_off_buyer_is_a_customer_up_to_and_including_the_third_anniversary_of_the_purchase() -> None:
    state = history(registered(SINCE, kind="phone"), purchase(utc(2021, 9, 6)))
    assert ask(state, Channel.PHONE, amsterdam(2024, 9, 6, 23, 59)).rule == "NL-TM-02"
    d = ask(state, Channel.PHONE, amsterdam(2024, 9, 7, 0, 0))
    assert d.rule == "NL-TM-02.expired"
    assert "de laatste aankoop was op 6 september 2021" in d.reasons[0].nl
    assert "up to and including 6 September 2024" in d.reasons[0].en


def test_a_contract_keeps_the_customer_current_until_it_ends_then_three_years_run() -> None:
    contract = (registered(SINCE, kind="phone"), purchase(utc(2021, 9, 6), contract=True))
    assert ask(history(*contract), Channel.PHONE, amsterdam(2026, 6, 30)).rule == "NL-TM-02"
    ended = history(*contract, relationship_ended(utc(2022, 5, 10)))
    assert ask(ended, Channel.PHONE, amsterdam(2025, 5, 10, 23)).rule == "NL-TM-02"
    d = ask(ended, Channel.PHONE, amsterdam(2025, 5, 11, 0))
    assert d.rule == "NL-TM-02.expired" and "het contract eindigde op 10 mei 2022" in d.reasons[0].nl


def test_before_2021_a_listed_one_off_buyer_was_an_exception_for_three_years_only() -> None:
    state = history(
        registered(SINCE, kind="phone"),
        purchase(utc(2016, 5, 2)),
        listed(utc(2015, 3, 2), register="bel-me-niet", listed_from="2015-03-02"),
    )
    assert ask(state, Channel.PHONE, amsterdam(2019, 5, 2, 23)).rule == "NL-TM-00"
    d = ask(state, Channel.PHONE, amsterdam(2019, 5, 3, 0))
    assert d.rule == "NL-TM-00.listed" and "2 mei 2019" in d.reasons[0].nl


# -- 5. the Postfilter ---------------------------------------------------------------------------


def _postal(*events: object) -> ContactState:
    return history(registered(SINCE, kind="postal"), *events)  # type: ignore[arg-type]


def test_a_former_customer_on_the_postfilter_may_be_mailed_a_prospect_may_not() -> None:
    listing = listed(utc(2020, 1, 6), register="postfilter", listed_from="2020-01-06")
    former = _postal(purchase(utc(2012, 5, 2)), relationship_ended(utc(2013, 1, 7)), listing)
    assert ask(former, Channel.POST, NOW).rule == "NL-POST-01"
    assert ask(_postal(listing), Channel.POST, NOW).rule == "NL-POST-01.postfilter"


def test_a_sector_listing_blocks_only_senders_of_that_sector() -> None:
    state = _postal(listed(utc(2020, 1, 6), register="postfilter", sectors=("energie",)))
    energy, charity = replace(SHOP, postal_sector="energie"), replace(SHOP, postal_sector="goede-doelen")
    assert ask(state, Channel.POST, NOW, controller=charity).rule == "NL-POST-01"
    d = ask(state, Channel.POST, NOW, controller=energy)
    assert d.rule == "NL-POST-01.postfilter" and "energie" in d.reasons[0].nl
    assert ask(state, Channel.POST, NOW).rule == "NL-POST-01.postfilter"  # no sector declared


def test_the_deceased_register_lists_for_ten_years_and_spares_no_customer() -> None:
    state = _postal(purchase(utc(2019, 3, 1)), listed(utc(2020, 1, 6), register="overledenen"))
    assert ask(state, Channel.POST, amsterdam(2020, 1, 5)).rule == "NL-POST-01"
    assert ask(state, Channel.POST, amsterdam(2020, 1, 6, 0)).rule == "NL-POST-01.deceased"
    assert ask(state, Channel.POST, amsterdam(2030, 1, 5, 23)).rule == "NL-POST-01.deceased"
    assert ask(state, Channel.POST, amsterdam(2030, 1, 6, 0)).rule == "NL-POST-01"


def test_the_postfilter_mention_is_owed_on_allowed_advertising_mail_from_1_april_2021() -> None:
    ids = [o.id for o in ask(_postal(), Channel.POST, amsterdam(2021, 3, 31, 23, 59)).obligations]
    assert "postfilter-mention" not in ids
    ids = [o.id for o in ask(_postal(), Channel.POST, amsterdam(2021, 4, 1, 0, 0)).obligations]
    assert "postfilter-mention" in ids


# -- 6. provenance cured by a sale ---------------------------------------------------------------


def test_a_bought_list_is_cured_by_the_persons_own_later_purchase_with_an_opt_out() -> None:
    bought = registered(SINCE, source="third_party_list_without_proof")
    assert ask(history(bought), Channel.EMAIL, NOW).rule == "EU-GDPR-07"
    cured = ask(history(bought, purchase(utc(2023, 5, 2))), Channel.EMAIL, NOW)
    assert (cured.rule, cured.verdict.value) == ("NL-EM-02", "allow")
    assert "Verkoop van 2 mei 2023." in cured.reasons[0].nl
    no_opt_out = history(bought, purchase(utc(2023, 5, 2), opt_out_offered=False))
    assert ask(no_opt_out, Channel.EMAIL, NOW).rule == "EU-GDPR-07"
    other = Question(Channel.EMAIL, GARDEN, NOW)
    assert evaluate(PACK, history(bought, purchase(utc(2023, 5, 2))), other, SHOP).rule == "EU-GDPR-07"


# -- 7. consents for a time ----------------------------------------------------------------------


def test_a_consent_for_24_months_expires_on_its_second_anniversary_and_says_so() -> None:
    state = history(registered(SINCE), consent_given(utc(2022, 3, 4), valid_for_months=24))
    assert ask(state, Channel.EMAIL, amsterdam(2024, 3, 3, 23, 59)).rule == "EU-GDPR-02"
    d = ask(state, Channel.EMAIL, amsterdam(2024, 3, 4, 0, 0))
    assert (d.rule, d.verdict.value) == ("EU-GDPR-03.expired", "deny")
    assert d.reasons[0].nl.endswith("De toestemming is verlopen op 4 maart 2024.")


def test_an_expired_consent_does_not_take_away_what_needs_no_consent() -> None:
    state = history(
        registered(SINCE, source="purchase"),
        purchase(utc(2021, 5, 3)),
        consent_given(utc(2021, 5, 3), valid_for_months=12),
    )
    assert ask(state, Channel.EMAIL, NOW).rule == "NL-EM-02"
    assert ask(history(registered(SINCE, kind="postal")), Channel.POST, NOW).rule == "NL-POST-01"


def test_a_consent_given_on_31_january_for_one_month_expires_on_the_last_day_of_february() -> None:
    state = history(registered(SINCE), consent_given(utc(2024, 1, 31), valid_for_months=1))
    assert ask(state, Channel.EMAIL, amsterdam(2024, 2, 28)).rule == "EU-GDPR-02"
    assert ask(state, Channel.EMAIL, amsterdam(2024, 2, 29)).rule == "EU-GDPR-03.expired"
