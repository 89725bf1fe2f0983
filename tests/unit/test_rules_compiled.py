"""The compiled plans answer exactly as the step-by-step evaluator, on generated situations.

`evaluate` runs each plan compiled into one function; `interpret` reads the same plan
rule by rule, as the module docstring of `consentry.policy.rules` describes. Hypothesis
builds contact-point states field by field (parties, sources, consents in every method
and stage, opt-outs, objections, purchases, register listings, bounces, erasure) and
asks about them on days around every rule date, over every channel, kind and sender.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.domain.purposes import Purpose
from consentry.domain.state import ConsentRecord, ContactState, Listing, OptOut, Purchase
from consentry.domain.vocabulary import (
    Activity,
    Channel,
    ConsentMethod,
    MessageKind,
    ObjectionScope,
    PartyKind,
    Sector,
    Source,
)
from consentry.policy.facts import BEL_ME_NIET, POSTFILTER, Controller, Question
from consentry.policy.nl import PACK
from consentry.policy.rules import compile_plan, evaluate, interpret

PURPOSES = (
    Purpose("shoes", "Schoenen", "Shoes", categories=frozenset({"shoes"})),
    Purpose("garden", "Tuin", "Garden", categories=frozenset({"garden"})),
    Purpose("partners", "Partners", "Partners", categories=frozenset({"shoes"}), third_party=True),
)
CATEGORIES = ("shoes", "garden", "books")

#: Every rule date, and the days either side of it.
RULE_DAYS = sorted(
    {
        d + timedelta(days=shift)
        for rule in PACK.rules
        for d in (rule.in_force_from, rule.in_force_until)
        if d is not None
        for shift in (-1, 0, 1)
    }
)

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))
maybe_moment = st.none() | moments
NOTICE = datetime(2019, 1, 1, tzinfo=UTC)
listings = st.builds(
    Listing,
    register=st.sampled_from([BEL_ME_NIET, POSTFILTER, "other"]),
    listed_from=days,
    listed_until=st.none() | days,
)


@st.composite
def questions(draw: st.DrawFn) -> Question:
    """A question on a day around a rule date, or on any day."""
    day = draw(st.sampled_from(RULE_DAYS) | days)
    at = datetime.combine(day, time(draw(st.integers(0, 23))), tzinfo=UTC)
    return Question(
        channel=draw(st.sampled_from(Channel)),
        purpose=draw(st.sampled_from(PURPOSES)),
        at=at,
        kind=draw(st.sampled_from(MessageKind)),
        activity=draw(st.sampled_from(Activity)),
    )


@st.composite
def states(draw: st.DrawFn, q: Question) -> ContactState:
    """A contact point's state with any mix of what its ledger can hold, mostly about the question.

    Consents and opt-outs are mostly for the purpose and channel asked about, so the
    rules that look at them are reached often; the rest are drawn from everything.
    """
    purpose = st.sampled_from([q.purpose.key] * 3 + [p.key for p in PURPOSES])
    channels = st.sets(st.sampled_from(Channel), max_size=2).map(lambda cs: cs | {q.channel}) | st.sets(
        st.sampled_from(Channel), max_size=3
    )
    seldom = st.sampled_from([None, None, None]) | moments
    consents = st.builds(
        ConsentRecord,
        event_id=st.just("ev"),
        purpose=purpose,
        channels=channels,
        method=st.sampled_from(ConsentMethod),
        given_at=moments,
        text_version=st.none() | st.just("v1"),
        defects=st.sampled_from([(), (), ("pre_ticked",), ("bundled", "vague")]),
        confirmed_at=maybe_moment,
        withdrawn_at=seldom,
    )
    opt_outs = st.builds(
        OptOut, purpose=st.none() | purpose, channels=st.none() | channels.map(frozenset), at=moments
    )
    purchases = st.builds(
        Purchase,
        at=moments,
        categories=st.frozensets(st.sampled_from(CATEGORIES), max_size=2),
        opt_out_offered=st.booleans(),
        collected_by_sender=st.booleans(),
    )
    rare = st.sampled_from([None] * 5 + [datetime(2021, 5, 1, tzinfo=UTC)])
    return ContactState(
        id="cp_generated",
        party=draw(st.sampled_from(PartyKind)),
        source=draw(st.sampled_from(Source)),
        country=draw(st.sampled_from([None, "NL", "BE", "US", "CH"])),
        published_for_offers=draw(st.booleans()),
        published_for_offers_evidence=draw(st.sampled_from([None, "", "https://example.nl/inkoop"])),
        local_rules_met=draw(st.booleans()),
        consents=draw(st.lists(consents, max_size=3)),
        opt_outs=draw(st.lists(opt_outs, max_size=2)),
        objections={
            scope.value: datetime(2020, 1, 1, tzinfo=UTC)
            for scope in draw(st.sets(st.sampled_from(ObjectionScope)) | st.just(set()))
        },
        purchases=draw(st.lists(purchases, max_size=2)),
        relationship_ended_at=draw(maybe_moment),
        notices=draw(
            st.sampled_from([{}, {"14": datetime(2019, 1, 1, tzinfo=UTC)}, {"13": datetime.now(UTC)}])
        ),
        listings=draw(st.lists(listings, max_size=2)),
        hard_bounced_at=draw(rare),
        complained_at=draw(rare),
        erased_at=draw(rare),
    )


controllers = st.builds(Controller, name=st.just("Afzender BV"), sector=st.sampled_from(Sector))


@settings(max_examples=600, deadline=None)
@given(data=st.data(), controller=controllers)
def test_a_compiled_plan_decides_as_the_plan_read_step_by_step(
    data: st.DataObject, controller: Controller
) -> None:
    question = data.draw(questions())
    state = data.draw(states(question))
    assert evaluate(PACK, state, question, controller) == interpret(PACK, state, question, controller)


def test_a_compiled_plan_keeps_its_source_for_whoever_debugs_it() -> None:
    from consentry.policy.facts import Situation

    x = Situation(ContactState("cp_1"), Question(Channel.EMAIL, PURPOSES[0], datetime.now(UTC)), Controller())
    judge = compile_plan(PACK, PACK.plan(x))
    assert judge.__doc__ is not None and judge.__doc__.startswith("def judge(x):")
    assert "# c0: erased" in judge.__doc__
    assert judge(x) == PACK.judge(x)(x)
