"""The set-wise audience evaluator and the per-contact evaluator agree, on generated ledgers.

Hypothesis writes ledgers of contact points with consents (some for a limited
time), confirmations, opt-outs, objections, purchases (one-off or a contract),
endings of the relationship, notices, register listings (in the ledger, with
Postfilter sectors, the deceased register, and in register files), bounces,
complaints, erasures and restrictions of processing; points share a contact, so objections follow the
person; some addresses belonged to an earlier point that was erased (by the erasure
service), so they carry its suppression record, which only a later double opt-in
lifts. For every channel, purpose and kind of question, on days around the
rules' dates and the ledgers' own dates, both evaluators must give each contact
point the same verdict, the same deciding rule, and the same obligation rules
and obligations.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import define_purposes, make_app
from consentry.adapters.sql import audience as sql_audience
from consentry.adapters.sql.audience import AudienceQuery
from consentry.adapters.sql.registers import entry_hash
from consentry.bootstrap import App
from consentry.domain.campaigns import Selection
from consentry.domain.clock import FixedClock
from consentry.domain.state import add_months
from consentry.domain.vocabulary import (
    CHANNELS_BY_POINT,
    Activity,
    Channel,
    ConsentMethod,
    MessageKind,
    PartyKind,
    PointKind,
    Sector,
    Verdict,
)
from consentry.policy.factrows import Numbering
from consentry.policy.facts import LEGAL_TZ, Question, add_years
from consentry.policy.rules import evaluate
from consentry.services import audience, audit, erasure, integrity, ledger, purposes, states
from consentry.services.contacts import resolve
from consentry.services.errors import FileRejected
from consentry.services.setup import controller

PURPOSES = ("nieuwsbrief", "aanbiedingen", "partners")
CATEGORIES = ("koffie", "thee", "schoenen")
REGISTER_DAYS = (date(2019, 6, 1), date(2021, 6, 30), date(2021, 7, 1), date(2023, 3, 1))
SECTORS = ("energie", "goede-doelen")
#: Days on which the rule pack changes, and days in between.
RULE_DAYS = (
    date(2020, 3, 1), date(2021, 3, 31), date(2021, 4, 1), date(2021, 6, 30), date(2021, 7, 1),
    date(2022, 11, 15), date(2026, 6, 30), date(2026, 7, 1), date(2029, 1, 1),
)  # fmt: skip
KINDS = (
    (MessageKind.MARKETING, Activity.CONTACT),
    (MessageKind.SERVICE, Activity.CONTACT),
    (MessageKind.PERSONAL, Activity.CONTACT),
    (MessageKind.PROPOSAL, Activity.CONTACT),
    (MessageKind.MARKETING, Activity.PROFILING),
)

_serial = itertools.count(1)
#: Generated among a point's events; carried out by the erasure service, not appended.
ERASED = "contact_point.erased"

moments = st.builds(
    lambda d, minutes: datetime(2018, 1, 1, tzinfo=UTC) + timedelta(days=d, minutes=minutes),
    st.integers(0, 729),
    st.sampled_from([0, 60 * 12, 60 * 22 + 30, 60 * 23 + 30]),  # around Dutch midnight too
)
days = st.sampled_from(REGISTER_DAYS)
#: When an earlier point with the same address was erased: before every generated event, or amid them.
ERASED_AT = (datetime(2017, 12, 1, tzinfo=UTC), datetime(2018, 12, 31, 23, 30, tzinfo=UTC))


def _listing(
    register: str, start: date | None, end: date | None, sectors: list[str] | None = None
) -> dict[str, Any]:
    listed: dict[str, Any] = {"type": "register.listed", "register": register}
    if sectors and register == "postfilter":
        listed["sectors"] = sectors
    if start and end and end < start:
        start, end = end, start
    if start:
        listed["listed_from"] = start.isoformat()
    if end:
        listed["listed_until"] = end.isoformat()
    return listed


def _subset(items: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(items), min_size=1, max_size=len(items), unique=True)


def _event(channels: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    purpose = st.sampled_from(PURPOSES)
    scope = st.fixed_dictionaries({}, optional={"purpose": purpose, "channels": _subset(channels)})
    return st.one_of(
        st.fixed_dictionaries(
            {
                "type": st.just("consent.given"),
                "purpose": purpose,
                "channels": _subset(channels),
                "method": st.sampled_from([m.value for m in ConsentMethod]),
            },
            optional={
                "bundled": st.booleans(),
                "vague": st.booleans(),
                "valid_for_months": st.sampled_from([1, 12, 24]),
            },
        ),
        st.fixed_dictionaries({"type": st.just("consent.confirmed"), "purpose": purpose}),
        scope.map(lambda s: {"type": "unsubscribed", **s}),
        scope.map(lambda s: {"type": "consent.withdrawn", **s}),
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["objection.recorded", "objection.withdrawn"]),
                "scope": st.sampled_from(["direct_marketing", "profiling"]),
            }
        ),
        # The point moves to another person (or to one): their objections follow the move.
        st.fixed_dictionaries(
            {
                "type": st.just("contact_point.updated"),
                "contact_id": st.sampled_from(["persoon-a", "persoon-b"]),
            }
        ),
        st.fixed_dictionaries(
            {
                "type": st.just("purchase.recorded"),
                "categories": _subset(CATEGORIES),
                "opt_out_offered": st.booleans(),
                "collected_by_sender": st.booleans(),
            },
            optional={"contract": st.booleans()},
        ),
        st.just({"type": "customer_relationship.ended"}),
        st.fixed_dictionaries({"type": st.just("notice.given"), "article": st.sampled_from(["13", "14"])}),
        st.builds(
            _listing,
            st.sampled_from(["bel-me-niet", "postfilter", "overledenen"]),
            st.one_of(st.none(), days),
            st.one_of(st.none(), days),
            st.one_of(st.none(), _subset(SECTORS)),
        ),
        st.fixed_dictionaries(
            {"type": st.just("bounce.recorded"), "bounce_kind": st.sampled_from(["hard", "soft"])}
        ),
        st.just({"type": "complaint.recorded"}),
        st.just({"type": ERASED}),
        st.just({"type": "processing.restricted"}),
        st.just({"type": "processing.restriction_lifted"}),
    )


@st.composite
def contact(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from([k.value for k in PointKind]))
    channels = tuple(sorted(c.value for c in CHANNELS_BY_POINT[PointKind(kind)]))
    published = draw(st.sampled_from(["no", "proven", "claimed"]))
    registration: dict[str, Any] = {
        "type": "contact_point.registered",
        "kind": kind,
        "source": draw(st.sampled_from(["web_form", "purchase", "business_card", "linkedin",
                                        "public_register", "third_party_list_with_proof",
                                        "third_party_list_without_proof", "referral", "import"])),
        "party": draw(st.sampled_from([p.value for p in PartyKind])),
        "local_rules_met": draw(st.booleans()),
        "published_for_offers": published != "no",
    }  # fmt: skip
    contact_id = draw(st.sampled_from([None, "persoon-a", "persoon-b"]))
    if contact_id:
        registration["contact_id"] = contact_id
    country = draw(st.sampled_from([None, "NL", "BE", "US"]))
    if country:
        registration["country"] = country
    if published == "proven":
        registration["published_for_offers_evidence"] = "https://example.nl/contact"
    events = draw(st.lists(st.tuples(moments, _event(channels)), max_size=7))
    return {
        "registration": registration,
        "registered_at": draw(moments),
        "events": events,
        "in_register": draw(st.booleans()),
        "in_deceased_register": draw(st.booleans()),
        # The address belonged to a point erased then (a suppression record), or to none.
        "erased_before": draw(st.sampled_from([None, *ERASED_AT])),
    }


def _value(kind: str, n: int) -> str:
    if kind == "email":
        return f"persoon{n}@voorbeeld.nl"
    if kind == "phone":
        return f"+3161{n:07d}"
    return f"postal:Dorpsstraat {n}; 1234 AB Ergens"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _write(app: App, tag: str, contacts: list[dict[str, Any]], split: int = 0) -> dict[str, str]:
    """Append the generated ledger under a tag; returns contact point id by value.

    With `split`, the first `split` records are appended (and projected) first, the rest after:
    a point may join a person whose objection was projected before it.
    """
    records: list[dict[str, Any]] = []
    values = []
    erasures: list[tuple[str, datetime]] = []
    for c in contacts:
        reg = c["registration"]
        value = _value(reg["kind"], next(_serial))
        values.append((value, c))
        first = min([c["registered_at"], *(at for at, _ in c["events"])])
        written = value.removeprefix("postal:")
        if "contact_id" in reg:  # one person per example: contacts do not reach across examples
            reg = {**reg, "contact_id": f"{tag}-{reg['contact_id']}"}
        if c.get("erased_before"):
            _erased_before(app, reg["kind"], written, value, c["erased_before"])
        records.append({**reg, "value": written, "tags": [tag], "occurred_at": _iso(first)})
        for at, ev in c["events"]:
            if ev["type"] == ERASED:  # nothing is recorded on an erased point: the rest is dropped
                erasures.append((value, at))
                break
            if "contact_id" in ev:
                ev = {**ev, "contact_id": f"{tag}-{ev['contact_id']}"}
            records.append({**ev, "contact": value, "occurred_at": _iso(at)})
    for part in (records[:split], records[split:]) if split else (records,):
        if not part:
            continue
        try:
            ledger.append_records(app, enumerate(part, 1))
        except FileRejected as exc:
            raise AssertionError([(p, part[p.line - 1]) for p in exc.problems[:3]]) from exc
    with app.store.reader() as r:  # before an erasure removes the lookup
        ids = {value: resolve(r, value, "NL")[0] for value, _ in values}
    for value, at in erasures:
        _erase_at(app, ids[value], at)
    with app.store.writer() as w:
        for value, c in values:
            pid = ids[value]
            stored = w.state(pid)
            if stored is None:  # erased by its own ledger: no projection, in no audience
                continue
            if c["in_register"] and c["registration"]["kind"] == "phone":
                w.put_register_entries("bel-me-niet", [stored["value"]], date(2019, 1, 1), None)
            if c["in_register"] and c["registration"]["kind"] == "postal":
                w.put_register_entries("postfilter", [entry_hash(stored["value"])], date(2022, 1, 1), None)
            if c.get("in_deceased_register") and c["registration"]["kind"] == "postal":
                w.put_register_entries("overledenen", [entry_hash(stored["value"])], date(2021, 2, 1), None)
    return ids


def _erased_before(app: App, kind: str, written: str, ref: str, at: datetime) -> None:
    """An earlier point with this address, erased through the erasure service at `at`."""
    earlier = {"type": "contact_point.registered", "kind": kind, "value": written, "source": "import"}
    ledger.append_records(app, [(1, {**earlier, "occurred_at": _iso(datetime(2017, 6, 1, tzinfo=UTC))})])
    with app.store.reader() as r:
        pid, _ = resolve(r, ref, "NL")
    _erase_at(app, pid, at)


def _erase_at(app: App, point_id: str, at: datetime) -> None:
    """Erase a point through the erasure service (the ledger refuses the event), as of `at`."""
    clock = app.clock
    app.clock = FixedClock(at)
    try:
        assert erasure.erase_points(app, [point_id], reason="request").changed
    finally:
        app.clock = clock


def _interesting_days(contacts: list[dict[str, Any]]) -> set[date]:
    """The last day inside, and the first outside, each customer window and each consent's term."""
    found = set()
    for c in contacts:
        for at, ev in c["events"]:
            day = at.astimezone(LEGAL_TZ).date()
            if ev["type"] in ("customer_relationship.ended", "purchase.recorded"):
                last = add_years(day, 3)
                found.update({last, last + timedelta(days=1)})
            if ev["type"] == "consent.given" and "valid_for_months" in ev:
                expires = add_months(day, ev["valid_for_months"])
                found.update({expires - timedelta(days=1), expires})
    # The set-wise evaluator judges the ledger as it stands: only days after its last event.
    last = max(at for c in contacts for at in [c["registered_at"], *(a for a, _ in c["events"])])
    return {d for d in found if d > last.astimezone(LEGAL_TZ).date()}


#: Every kind of question: channel, purpose, message kind and activity.
QUESTIONS = [
    (channel, purpose, kind, activity)
    for channel in Channel
    for purpose in PURPOSES
    for kind, activity in KINDS
]


def _judge_both(
    app: App, tag: str, ids: dict[str, str], day: date, questions: list[tuple[Any, ...]] = QUESTIONS
) -> Iterator[tuple[Any, Any]]:
    at = datetime.combine(day, datetime.min.time(), LEGAL_TZ) + timedelta(hours=12)
    with app.store.reader() as r:
        ctl = controller(r)
        loaded = states.load_many(r, list(ids.values()), as_of=at)
        for channel, purpose_key, kind, activity in questions:
            purpose = r.purpose(purpose_key)
            assert purpose is not None
            target = audience.Target(channel, purpose_key, kind, activity)
            built = audience.build(r, app.pack, target, Selection(tag=tag), at)
            rows = r.conn.execute(built.statement()).all()
            setwise = {row[0]: _from_row(built, row) for row in rows}
            # The report counts the same rules (its own query, by the rule's place; on SQLite in parts).
            asked = audience.ask(r, app.pack, target, Selection(tag=tag), at)
            assert sql_audience.counts(app.store, asked)[1] == Counter(v[0] for v in setwise.values())
            q = Question(channel, purpose, at, kind, activity)
            single = {
                pid: _from_decision(evaluate(app.pack, s, q, ctl))
                for pid, s in loaded.items()
                if channel in CHANNELS_BY_POINT[s.kind] and s.erased_at is None
            }
            yield (channel, purpose_key, kind, activity, day), (setwise, single)


def _from_row(built: AudienceQuery, row: Any) -> tuple[str, str, list[str]]:
    verdict = row[5]
    extra = []
    if verdict != Verdict.DENY.value:
        extra = [ob.id for ob, on in zip(built.obligation_rules, row[6:], strict=True) if on]
    return (row[4], verdict, extra)


def _from_decision(d: Any) -> tuple[str, str, list[str]]:
    return (d.rule, d.verdict.value, [r.rule for r in d.reasons[1:]])


def _prepare(app: App) -> None:
    purposes.define(app, "partners", "Partners", "Partners", categories=["koffie"], third_party=True)
    with app.store.writer() as w:
        w.put_register("bel-me-niet", "Bel-me-niet Register", PointKind.PHONE, False, None, date(2021, 6, 30))
        w.put_register("postfilter", "Postfilter", PointKind.POSTAL, True, None, None)
        w.put_register("overledenen", "Nationaal Overledenenregister", PointKind.POSTAL, True, None, None)


@pytest.fixture
def judged_app(store_url: str) -> Iterator[App]:
    application = make_app(store_url)
    define_purposes(application)
    _prepare(application)
    yield application
    application.store.engine.dispose()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    contacts=st.lists(contact(), min_size=1, max_size=8),
    sector=st.sampled_from([Sector.COMMERCIAL, Sector.CHARITY]),
    postal_sector=st.sampled_from([None, *SECTORS]),
    day=st.sampled_from(RULE_DAYS),
    questions=st.lists(st.sampled_from(QUESTIONS), min_size=1, max_size=8, unique=True),
    split=st.integers(0, 30),
)
def test_setwise_and_per_contact_evaluators_agree(
    judged_app: App,
    contacts: list[dict[str, Any]],
    sector: Sector,
    postal_sector: str | None,
    day: date,
    questions: list[tuple[Any, ...]],
    split: int,
) -> None:
    app = judged_app
    profile = {"name": "Testbedrijf BV", "sector": sector.value}
    if postal_sector:
        profile["postal_sector"] = postal_sector
    with app.store.writer() as w:
        w.put_setting("controller", profile)
    tag = f"voorbeeld-{next(_serial)}"
    ids = _write(app, tag, contacts, split)
    for when in [day, *sorted(_interesting_days(contacts) - {day})[:3]]:
        for question, (setwise, single) in _judge_both(app, tag, ids, when, questions):
            assert setwise == single, question
    assert audit.verify_projection(app).ok


def test_every_rule_and_obligation_agrees_on_a_known_mix(judged_app: App) -> None:
    """A fixed ledger where each kind of event occurs, so the comparison never runs on nothing."""
    _known_mix(judged_app)


def test_tokens_numbered_beyond_a_masks_bits_are_judged_alike(
    judged_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With masks of one bit, every token but the first of each column is kept in `more`."""
    monkeypatch.setattr(Numbering, "BITS", 1)
    _known_mix(judged_app)
    with judged_app.store.reader() as r:
        more = [row[0] for row in r.conn.execute(sa.text("SELECT more FROM point_facts"))]
        bits = r.fact_bits()
    assert any(x != "|" for x in more)
    assert max(bits.known.values()) >= 1
    assert audit.verify_projection(judged_app).ok


def _known_mix(judged_app: App) -> None:
    at = datetime(2019, 3, 1, 10, tzinfo=UTC)
    mixed = [
        {
            "registration": {
                "type": "contact_point.registered",
                "kind": kind,
                "source": source,
                "party": party,
            },
            "registered_at": at,
            "events": events,
            "in_register": True,
        }
        for kind in ("email", "phone", "postal")
        for source, party in (("web_form", "consumer"), ("import", "legal_person"), ("linkedin", "employee"))
        for events in (
            [],
            [
                (
                    at,
                    {
                        "type": "consent.given",
                        "purpose": "nieuwsbrief",
                        "method": "single_opt_in",
                        "channels": sorted(c.value for c in CHANNELS_BY_POINT[PointKind(kind)]),
                    },
                )
            ],
            [
                (
                    at,
                    {
                        "type": "purchase.recorded",
                        "categories": ["koffie"],
                        "opt_out_offered": True,
                        "collected_by_sender": True,
                    },
                ),
                (at + timedelta(days=40), {"type": "customer_relationship.ended"}),
            ],
            [(at, {"type": "objection.recorded", "scope": "direct_marketing"})],
        )
    ]
    for published in ({"published_for_offers": True}, {"country": "US"}):
        registration = {"type": "contact_point.registered", "kind": "email", "source": "public_register",
                        "party": "legal_person", **published}  # fmt: skip
        mixed.append({"registration": registration, "registered_at": at, "events": [], "in_register": False})
    # Addresses of an erased point, imported again: with the list's consent, and with a fresh double opt-in.
    consent = {"type": "consent.given", "purpose": "nieuwsbrief", "channels": ["email"]}
    for events in (
        [(at, {**consent, "method": "import"})],
        [
            (at, {**consent, "method": "double_opt_in"}),
            (at + timedelta(days=1), {"type": "consent.confirmed", "purpose": "nieuwsbrief"}),
        ],
    ):
        registration = {
            "type": "contact_point.registered",
            "kind": "email",
            "source": "import",
            "party": "consumer",
        }
        mixed.append(
            {"registration": registration, "registered_at": at, "events": events, "in_register": False,
             "erased_before": datetime(2018, 1, 1, tzinfo=UTC)}
        )  # fmt: skip
    tag = "vaste-mix"
    ids = _write(judged_app, tag, mixed)
    seen: set[str] = set()
    rules: set[str] = set()
    for when in (date(2020, 1, 1), date(2022, 4, 10), date(2022, 4, 11), date(2026, 8, 1)):
        for question, (setwise, single) in _judge_both(judged_app, tag, ids, when):
            assert setwise == single, question
            seen.update(v[1] for v in setwise.values())
            rules.update(r for v in setwise.values() for r in [v[0], *v[2]])
    assert seen == {"allow", "deny", "review"}
    assert {"EU-GDPR-09.prior", "EU-GDPR-09.lifted"} <= rules


def test_the_projection_has_a_facts_row_for_every_contact_point(judged_app: App) -> None:
    with judged_app.store.reader() as r:
        assert r.projection_complete()
        n = r.conn.execute(sa.text("SELECT count(*) FROM point_facts")).scalar_one()
    assert n == 0


def _person_flags(app: App, ids: dict[str, str]) -> dict[str, tuple[bool, bool]]:
    """Each point's person objection flags as stored, by its name in `ids`."""
    names = {pid: name for name, pid in ids.items()}
    with app.store.reader() as r:
        rows = r.conn.execute(
            sa.text("SELECT contact_point_id, person_objected_dm, person_objected_profiling FROM point_facts")
        ).all()
    return {names[pid]: (bool(dm), bool(prof)) for pid, dm, prof in rows if pid in names}


def test_an_objection_covers_every_point_of_its_person_whenever_the_point_joined(judged_app: App) -> None:
    """Each step in its own append: a later point joins a person who objected, the objection is
    withdrawn, a point moves to another person with its objection, the objecting point is erased.
    At each step the stored flags say who objects, the projection check agrees, and the set-wise
    and per-contact evaluators judge every point alike."""
    app, tag = judged_app, "personen"
    at = datetime(2024, 3, 1, 10, tzinfo=UTC)
    ids: dict[str, str] = {}
    consent = {"type": "consent.given", "purpose": "nieuwsbrief", "method": "single_opt_in"}

    def append(*records: dict[str, Any]) -> None:
        nonlocal at
        at += timedelta(days=1)
        ledger.append_records(app, enumerate(({**x, "occurred_at": _iso(at)} for x in records), 1))

    def register(name: str, kind: str, person: str | None) -> None:
        value = _value(kind, next(_serial))
        reg = {"type": "contact_point.registered", "kind": kind, "value": value.removeprefix("postal:"),
               "source": "web_form", "party": "consumer", "tags": [tag]}  # fmt: skip
        if person:
            reg["contact_id"] = f"{tag}-{person}"
        channels = sorted(c.value for c in CHANNELS_BY_POINT[PointKind(kind)])
        append(reg, {**consent, "contact": value, "channels": channels})
        with app.store.reader() as r:
            ids[name] = resolve(r, value, "NL")[0]

    def event(name: str, **payload: Any) -> None:
        with app.store.reader() as r:
            state = r.state(ids[name])
        assert state is not None
        value = state["value"] if state["kind"] != "postal" else f"postal:{state['value']}"
        append({**payload, "contact": value})

    def check(objecting: set[str], profiling: frozenset[str] = frozenset()) -> None:
        flags = _person_flags(app, ids)
        assert flags == {n: (n in objecting, n in profiling) for n in flags}
        assert audit.verify_projection(app).ok
        questions = [q for q in QUESTIONS if q[1] == "nieuwsbrief"]
        for question, (setwise, single) in _judge_both(app, tag, ids, date(2026, 8, 1), questions):
            assert setwise == single, question

    points = (("a", "email", "x"), ("b", "phone", "x"), ("c", "email", None), ("d", "email", "y"))
    for name, kind, person in points:
        register(name, kind, person)
    check(set())
    event("a", type="objection.recorded", scope="direct_marketing")
    check({"a", "b"})
    register("e", "email", "x")  # joins a person who objected before it was registered
    check({"a", "b", "e"})
    event("c", type="objection.recorded", scope="profiling")  # a point without a contact: its own person
    check({"a", "b", "e"}, frozenset({"c"}))
    event("a", type="objection.withdrawn", scope="direct_marketing")
    check(set(), frozenset({"c"}))
    event("b", type="objection.recorded", scope="direct_marketing")
    check({"a", "b", "e"}, frozenset({"c"}))
    event("b", type="contact_point.updated", contact_id=f"{tag}-y")  # takes its objection along
    check({"b", "d"}, frozenset({"c"}))
    event("c", type="contact_point.updated", contact_id=f"{tag}-x")  # brings its objection to x
    check({"b", "d"}, frozenset({"a", "c", "e"}))
    assert erasure.erase_points(app, [ids.pop("b")], reason="request").changed
    check(set(), frozenset({"a", "c", "e"}))
    # Rebuilt from the ledger, the flags come out the same.
    integrity.rebuild_projection(app)
    check(set(), frozenset({"a", "c", "e"}))


def test_the_projection_check_finds_a_person_flag_that_differs_from_the_ledger(judged_app: App) -> None:
    app = judged_app
    person = {"type": "contact_point.registered", "kind": "email", "source": "web_form", "contact_id": "p"}
    records = [
        {**person, "value": "een@voorbeeld.nl"},
        {**person, "value": "twee@voorbeeld.nl"},
        {"type": "objection.recorded", "contact": "een@voorbeeld.nl", "scope": "direct_marketing"},
    ]
    ledger.append_records(app, enumerate(records, 1))
    assert audit.verify_projection(app).ok
    with app.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE point_facts SET person_objected_dm = :f"), {"f": False})
    found = audit.verify_projection(app).differences
    assert len(found) == 2 and all("person_objected_dm" in d for d in found), found


def test_consents_for_a_time_are_judged_alike_on_the_days_around_their_end(judged_app: App) -> None:
    """Points whose `c_timed` holds several pairs (any and the sender's own, two purposes, two
    channels), each ending on its own day: the day before, on and after each end day, the SQL
    (on PostgreSQL one `split_part` per test) and the per-contact rules agree."""
    at = datetime(2024, 3, 1, 10, tzinfo=UTC)
    timed: list[dict[str, Any]] = []
    for kind in ("email", "phone"):
        channels = sorted(c.value for c in CHANNELS_BY_POINT[PointKind(kind)])
        for method, months in (("single_opt_in", 12), ("import", 12), ("single_opt_in", 1)):
            given = {"type": "consent.given", "channels": channels, "method": method}
            events = [
                (at, {**given, "purpose": "nieuwsbrief", "valid_for_months": months}),
                (at + timedelta(days=3), {**given, "purpose": "aanbiedingen", "valid_for_months": 12}),
            ]
            registration = {"type": "contact_point.registered", "kind": kind, "source": "web_form",
                            "party": "consumer"}  # fmt: skip
            timed.append({"registration": registration, "registered_at": at, "events": events,
                          "in_register": False})  # fmt: skip
    ids = _write(judged_app, "voor-een-tijd", timed)
    with judged_app.store.reader() as r:
        stored = [row[0] for row in r.conn.execute(sa.text("SELECT c_timed FROM point_facts"))]
    assert any(c.count("=") >= 8 for c in stored)  # several pairs follow one another
    ends = {
        add_months(at.astimezone(LEGAL_TZ).date() + timedelta(days=d), m)
        for d, m in ((0, 1), (0, 12), (3, 12))
    }
    rules: set[str] = set()
    for when in sorted(end + timedelta(days=d) for end in ends for d in (-1, 0, 1)):
        for question, (setwise, single) in _judge_both(judged_app, "voor-een-tijd", ids, when):
            assert setwise == single, question
            rules.update(v[0] for v in setwise.values())
    assert {"EU-GDPR-03.expired"} <= rules
