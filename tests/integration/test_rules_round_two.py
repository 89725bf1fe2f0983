"""Issue #14 on both stores and both evaluators: each point, on both sides of it.

Each test writes a small ledger, then asks the per-contact evaluator (`decide`) and
the set-wise one (the audience SQL over the projection) the same questions on the
Dutch calendar days around each date involved; both must name the same rule.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from conftest import NOW
from consentry.bootstrap import App
from consentry.domain.campaigns import Selection
from consentry.domain.vocabulary import Channel, MessageKind
from consentry.services import audience, decide, ledger, purposes, states
from consentry.services.contacts import resolve
from consentry.services.errors import FileRejected
from consentry.services.setup import init

AMS = ZoneInfo("Europe/Amsterdam")
_serial = itertools.count(1)


def ams(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A moment on the Dutch wall clock on that day."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMS)


def iso(day: date, hour: int = 12) -> str:
    return ams(day, hour).isoformat()


class Ledger:
    """A tagged ledger of a few contact points, asked about on both evaluators."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.tag = f"issue14-{next(_serial)}"
        self.records: list[dict[str, Any]] = []

    def point(self, kind: str, registered: date, contact: str | None = None, **details: Any) -> str:
        """Register a point; returns the reference `decide` takes."""
        n = next(_serial)
        value = {"email": f"p{n}@voorbeeld.nl", "phone": f"+3161{n:07d}"}.get(
            kind, f"Dorpsstraat {n}; 1234 AB Ergens"
        )
        record = {
            "type": "contact_point.registered",
            "kind": kind,
            "value": value,
            "tags": [self.tag],
            "occurred_at": iso(registered),
            "party": "consumer",
            "source": "web_form",
            **details,
        }
        if contact is not None:
            record["contact_id"] = f"{self.tag}-{contact}"
        self.records.append(record)
        return value if kind != "postal" else f"postal:{value}"

    def event(self, ref: str, day: date, type_: str, **payload: Any) -> None:
        self.records.append({"type": type_, "contact": ref, "occurred_at": iso(day), **payload})

    def write(self) -> None:
        try:
            ledger.append_records(self.app, enumerate(self.records, 1))
        except FileRejected as exc:
            raise AssertionError([(p.line, p.field, p.message) for p in exc.problems]) from exc
        self.records = []

    def judge(
        self,
        ref: str,
        channel: Channel,
        day: date,
        purpose: str = "aanbiedingen",
        kind: str = "marketing",
        hour: int = 12,
    ) -> str:
        """The rule both evaluators name for one point; they must agree."""
        at = ams(day, hour)
        single = decide.decide(self.app, ref, channel, purpose, kind=kind, at=at)
        with self.app.store.reader() as r:
            pid, _ = resolve(r, ref, "NL")
            built = audience.build(
                r,
                self.app.pack,
                audience.Target(channel, purpose, MessageKind(kind)),
                Selection(tag=self.tag),
                at,
            )
            rows = {row[0]: row for row in r.conn.execute(built.statement()).all()}
        assert rows[pid][4] == single.rule, (ref, channel, day, kind)
        return single.rule


@pytest.fixture
def book(app: App) -> Ledger:
    purposes.define(app, "telefoon", "Belacties", "Calls", categories=["koffie"])
    return Ledger(app)


# -- 1. an objection belongs to the person --------------------------------------------------


def test_an_objection_on_one_point_closes_every_point_and_channel_of_that_person(book: Ledger) -> None:
    since = date(2022, 1, 3)
    email = book.point("email", since, "anna")
    phone = book.point("phone", since, "anna")
    post = book.point("postal", since, "anna")
    other = book.point("postal", since, "bert")
    alone = book.point("postal", since)
    book.event(
        email, since, "consent.given", purpose="aanbiedingen", channels=["email"], method="single_opt_in"
    )
    book.event(phone, since, "purchase.recorded", categories=["koffie"], opt_out_offered=True)
    book.event(
        email, date(2023, 2, 1), "objection.recorded", scope="direct_marketing", via="preference_centre"
    )
    book.write()
    day = date(2023, 6, 5)
    assert book.judge(email, Channel.EMAIL, day) == "EU-GDPR-04"
    assert book.judge(phone, Channel.PHONE, day) == "EU-GDPR-04"
    assert book.judge(phone, Channel.SMS, day) == "EU-GDPR-04"
    assert book.judge(post, Channel.POST, day) == "EU-GDPR-04"
    assert book.judge(other, Channel.POST, day) == "NL-POST-01"
    assert book.judge(alone, Channel.POST, day) == "NL-POST-01"


def test_a_point_that_joins_an_objecting_contact_later_is_closed_too(book: Ledger) -> None:
    email = book.point("email", date(2022, 1, 3), "anna")
    book.event(email, date(2023, 2, 1), "objection.recorded", scope="direct_marketing")
    book.write()
    later = book.point("postal", date(2024, 4, 2), "anna")
    book.write()
    assert book.judge(later, Channel.POST, date(2024, 5, 1)) == "EU-GDPR-04"


def test_a_lifted_objection_opens_every_point_again_and_profiling_objections_follow_the_person(
    book: Ledger,
) -> None:
    email = book.point("email", date(2022, 1, 3), "anna")
    post = book.point("postal", date(2022, 1, 3), "anna")
    book.event(email, date(2023, 2, 1), "objection.recorded", scope="direct_marketing")
    book.event(email, date(2023, 2, 1), "objection.recorded", scope="profiling")
    book.event(email, date(2023, 3, 1), "objection.withdrawn", scope="direct_marketing")
    book.write()
    assert book.judge(post, Channel.POST, date(2023, 6, 5)) == "NL-POST-01"
    with book.app.store.reader() as r:
        pid, _ = resolve(r, post, "NL")
    d = decide.decide(
        book.app, post, Channel.POST, "aanbiedingen", activity="profiling", at=ams(date(2023, 6, 5))
    )
    assert d.rule == "EU-GDPR-05" and pid


def test_per_contact_the_objection_counts_from_its_moment_on_not_before(book: Ledger) -> None:
    email = book.point("email", date(2022, 1, 3), "anna")
    post = book.point("postal", date(2022, 1, 3), "anna")
    book.event(email, date(2023, 2, 1), "objection.recorded", scope="direct_marketing")
    book.write()
    before = decide.decide(book.app, post, Channel.POST, "aanbiedingen", at=ams(date(2023, 2, 1), 11, 59))
    after = decide.decide(book.app, post, Channel.POST, "aanbiedingen", at=ams(date(2023, 2, 1), 12, 0))
    assert (before.rule, after.rule) == ("NL-POST-01", "EU-GDPR-04")
    assert "ander contactpunt" in after.reasons[0].nl and "1 februari 2023" in after.reasons[0].nl


def test_a_point_moved_to_another_contact_is_no_longer_covered(book: Ledger) -> None:
    email = book.point("email", date(2022, 1, 3), "anna")
    post = book.point("postal", date(2022, 1, 3), "anna")
    book.event(email, date(2023, 2, 1), "objection.recorded", scope="direct_marketing")
    book.event(post, date(2023, 4, 3), "contact_point.updated", contact_id=f"{book.tag}-carla")
    book.write()
    assert book.judge(post, Channel.POST, date(2023, 6, 5)) == "NL-POST-01"


def test_the_send_time_check_sees_an_objection_made_on_another_point_after_the_state_was_cached(
    book: Ledger,
) -> None:
    email = book.point("email", date(2022, 1, 3), "anna")
    post = book.point("postal", date(2022, 1, 3), "anna")
    book.write()
    with book.app.store.reader() as r:
        pid, _ = resolve(r, post, "NL")
        first = book.app.states.load_many(r, [pid])[pid]
    assert first.person_objections == {}
    book.event(email, date(2023, 2, 1), "objection.recorded", scope="direct_marketing")
    book.write()
    with book.app.store.reader() as r:
        again = book.app.states.load_many(r, [pid])[pid]
        assert set(again.person_objections) == {"direct_marketing"}
        assert states.load(r, pid).person_objections == again.person_objections
    assert first.person_objections == {}  # the cached state was not changed in place


# -- 2. one-to-one commercial proposals -------------------------------------------------------


def test_after_an_objection_a_proposal_is_denied_but_a_purely_personal_reply_is_not(book: Ledger) -> None:
    email = book.point("email", date(2022, 1, 3), "anna")
    book.event(email, date(2023, 2, 1), "objection.recorded", scope="direct_marketing")
    book.write()
    day = date(2023, 6, 5)
    assert book.judge(email, Channel.EMAIL, day, kind="proposal") == "EU-GDPR-04.proposal"
    assert book.judge(email, Channel.EMAIL, day, kind="personal") == "NL-EM-07"
    fresh = book.point("email", date(2022, 1, 3), "bert")
    book.write()
    assert book.judge(fresh, Channel.EMAIL, day, kind="proposal") == "NL-EM-07.proposal"


# -- 3. calls since 2021-07-01: the customer exception's conditions ---------------------------


@pytest.mark.parametrize(
    ("sale", "before", "on"),
    [
        ({"opt_out_offered": True}, "NL-TM-00", "NL-TM-02"),
        ({"opt_out_offered": False}, "NL-TM-00", "NL-TM-02.unmet"),
        ({"opt_out_offered": True, "collected_by_sender": False}, "NL-TM-00", "NL-TM-02.unmet"),
    ],
    ids=["opt-out-offered", "no-opt-out", "not-collected-by-sender"],
)
def test_a_customer_call_from_1_july_2021_needs_the_senders_own_sale_with_an_opt_out(
    book: Ledger, sale: dict[str, Any], before: str, on: str
) -> None:
    phone = book.point("phone", date(2020, 3, 4))
    book.event(phone, date(2020, 3, 4), "purchase.recorded", categories=["koffie"], contract=True, **sale)
    book.write()
    assert book.judge(phone, Channel.PHONE, date(2021, 6, 30), "telefoon", hour=23) == before
    assert book.judge(phone, Channel.PHONE, date(2021, 7, 1), "telefoon", hour=0) == on


def test_a_charity_after_1_july_2026_needs_the_same_conditions(book: Ledger) -> None:
    init(book.app, sector="charity")
    good = book.point("phone", date(2025, 3, 4))
    bad = book.point("phone", date(2025, 3, 4))
    book.event(good, date(2025, 3, 4), "purchase.recorded", categories=["koffie"], opt_out_offered=True)
    book.event(bad, date(2025, 3, 4), "purchase.recorded", categories=["koffie"], opt_out_offered=False)
    book.write()
    for day, rule in ((date(2026, 6, 30), "NL-TM-02"), (date(2026, 7, 1), "NL-TM-02b.exempt")):
        assert book.judge(good, Channel.PHONE, day, "telefoon") == rule
        assert book.judge(bad, Channel.PHONE, day, "telefoon") == "NL-TM-02.unmet"


# -- 4. three years from the end of the contract or the last purchase --------------------------


def test_a_one_off_buyer_may_be_called_up_to_three_years_after_the_last_purchase(book: Ledger) -> None:
    once = book.point("phone", date(2021, 9, 6))
    contract = book.point("phone", date(2021, 9, 6))
    book.event(once, date(2021, 9, 6), "purchase.recorded", categories=["koffie"], opt_out_offered=True)
    book.event(contract, date(2021, 9, 6), "purchase.recorded", categories=["koffie"], opt_out_offered=True,
               contract=True)  # fmt: skip
    book.write()
    assert book.judge(once, Channel.PHONE, date(2024, 9, 6), "telefoon", hour=23) == "NL-TM-02"
    assert book.judge(once, Channel.PHONE, date(2024, 9, 7), "telefoon", hour=0) == "NL-TM-02.expired"
    assert book.judge(contract, Channel.PHONE, date(2024, 9, 7), "telefoon") == "NL-TM-02"


def test_before_2021_a_listed_one_off_buyer_counted_as_customer_for_three_years_only(book: Ledger) -> None:
    phone = book.point("phone", date(2016, 5, 2))
    book.event(phone, date(2016, 5, 2), "purchase.recorded", categories=["koffie"], opt_out_offered=True)
    book.event(phone, date(2016, 5, 2), "register.listed", register="bel-me-niet", listed_from="2015-03-02")
    book.write()
    assert book.judge(phone, Channel.PHONE, date(2019, 5, 2), "telefoon") == "NL-TM-00"
    assert book.judge(phone, Channel.PHONE, date(2019, 5, 3), "telefoon") == "NL-TM-00.listed"


# -- 5. the Postfilter as its code has it --------------------------------------------------------


def test_the_postfilter_spares_customers_and_ex_customers_and_blocks_prospects(book: Ledger) -> None:
    ex = book.point("postal", date(2019, 1, 7))
    prospect = book.point("postal", date(2019, 1, 7))
    book.event(ex, date(2019, 1, 7), "purchase.recorded", categories=["koffie"], opt_out_offered=True)
    book.event(ex, date(2019, 6, 3), "customer_relationship.ended")
    for ref in (ex, prospect):
        book.event(ref, date(2020, 1, 6), "register.listed", register="postfilter", listed_from="2020-01-06")
    book.write()
    day = date(2026, 11, 30)
    assert book.judge(ex, Channel.POST, day) == "NL-POST-01"
    assert book.judge(prospect, Channel.POST, day) == "NL-POST-01.postfilter"


def test_a_postfilter_listing_blocks_only_the_sectors_it_names(book: Ledger) -> None:
    energy = book.point("postal", date(2019, 1, 7))
    every = book.point("postal", date(2019, 1, 7))
    book.event(energy, date(2020, 1, 6), "register.listed", register="postfilter", sectors=["energie"])
    book.event(every, date(2020, 1, 6), "register.listed", register="postfilter")
    book.write()
    day = date(2026, 11, 30)
    assert book.judge(energy, Channel.POST, day) == "NL-POST-01.postfilter"  # no sector declared: counts
    init(book.app, postal_sector="goede-doelen")
    assert book.judge(energy, Channel.POST, day) == "NL-POST-01"
    assert book.judge(every, Channel.POST, day) == "NL-POST-01.postfilter"
    init(book.app, postal_sector="energie")
    assert book.judge(energy, Channel.POST, day) == "NL-POST-01.postfilter"


def test_the_deceased_register_blocks_customers_too_for_ten_years(book: Ledger) -> None:
    post = book.point("postal", date(2019, 1, 7))
    book.event(post, date(2019, 1, 7), "purchase.recorded", categories=["koffie"], opt_out_offered=True)
    book.event(post, date(2020, 1, 6), "register.listed", register="overledenen", listed_from="2020-01-06")
    book.write()
    assert book.judge(post, Channel.POST, date(2020, 1, 5)) == "NL-POST-01"
    assert book.judge(post, Channel.POST, date(2020, 1, 6)) == "NL-POST-01.deceased"
    assert book.judge(post, Channel.POST, date(2030, 1, 5)) == "NL-POST-01.deceased"
    assert book.judge(post, Channel.POST, date(2030, 1, 6)) == "NL-POST-01"


def test_allowed_advertising_mail_carries_the_postfilter_mention_from_1_april_2021(book: Ledger) -> None:
    post = book.point("postal", date(2019, 1, 7))
    book.write()
    before = decide.decide(book.app, post, Channel.POST, "aanbiedingen", at=ams(date(2021, 3, 31), 23, 59))
    on = decide.decide(book.app, post, Channel.POST, "aanbiedingen", at=ams(date(2021, 4, 1), 0, 0))
    assert "postfilter-mention" not in {o.id for o in before.obligations}
    assert "postfilter-mention" in {o.id for o in on.obligations}
    target = audience.Target(Channel.POST, "aanbiedingen")
    with book.app.store.reader() as r:
        built = audience.build(r, book.app.pack, target, Selection(tag=book.tag), ams(date(2021, 4, 1), 0, 0))
        row = r.conn.execute(built.statement()).one()
    held = [ob.id for ob, on_ in zip(built.obligation_rules, row[6:], strict=True) if on_]
    assert "NL-POST-01.mention" in held


# -- 6. a bought list cured by the person's own later purchase -----------------------------------


def test_a_bought_list_address_is_cured_by_a_later_own_sale_with_an_opt_out(book: Ledger) -> None:
    cured = book.point("email", date(2022, 1, 3), source="third_party_list_without_proof")
    not_cured = book.point("email", date(2022, 1, 3), source="third_party_list_without_proof")
    book.write()
    assert book.judge(cured, Channel.EMAIL, date(2023, 5, 1)) == "EU-GDPR-07"
    book.event(cured, date(2023, 5, 2), "purchase.recorded", categories=["koffie"], opt_out_offered=True)
    book.event(not_cured, date(2023, 5, 2), "purchase.recorded", categories=["koffie"], opt_out_offered=False)
    book.write()
    assert book.judge(cured, Channel.EMAIL, date(2023, 5, 3)) == "NL-EM-02"
    assert book.judge(not_cured, Channel.EMAIL, date(2023, 5, 3)) == "EU-GDPR-07"


# -- 7. consents for a time ---------------------------------------------------------------------------


def test_a_consent_for_24_months_holds_to_the_day_before_its_second_anniversary(book: Ledger) -> None:
    email = book.point("email", date(2022, 3, 4))
    book.event(email, date(2022, 3, 4), "consent.given", purpose="aanbiedingen", channels=["email"],
               method="single_opt_in", valid_for_months=24)  # fmt: skip
    book.write()
    assert book.judge(email, Channel.EMAIL, date(2024, 3, 3), hour=23) == "EU-GDPR-02"
    assert book.judge(email, Channel.EMAIL, date(2024, 3, 4), hour=0) == "EU-GDPR-03.expired"


def test_the_audience_report_counts_expired_consents_under_their_own_rule(book: Ledger) -> None:
    email = book.point("email", date(2024, 11, 4))
    book.event(email, date(2024, 11, 4), "consent.given", purpose="aanbiedingen", channels=["email"],
               method="single_opt_in", valid_for_months=24)  # fmt: skip
    book.write()
    target = audience.Target(Channel.EMAIL, "aanbiedingen")
    later = datetime(2027, 1, 5, tzinfo=UTC)
    assert later > NOW  # a report is for now or later
    report = audience.report(book.app, target, Selection(tag=book.tag), at=later)
    assert [(c.rule.id, c.count) for c in report.excluded] == [("EU-GDPR-03.expired", 1)]


# -- the demo tells points 1, 3 and 4 through one person ------------------------------------------


def test_the_demo_person_with_four_points_shows_points_1_3_and_4(store_url: str) -> None:
    from conftest import make_app
    from consentry.domain.clock import parse_moment
    from consentry.services import demo

    app = make_app(store_url)
    try:
        demo.load(app)
        eva = [row for row in demo.TOUR if row[0] in ("06 34567890", "06 23456789") or "Lindelaan" in row[0]]
        rules = [
            decide.decide(app, contact, channel, purpose, kind, at=parse_moment(at) if at else None).rule
            for contact, channel, purpose, kind, at in eva
        ]
        assert rules == ["NL-TM-02.unmet", "NL-TM-02", "NL-TM-02.expired", "EU-GDPR-04"]
        target = audience.Target(Channel.POST, "koffie-aanbiedingen")
        members = {m.value.splitlines()[0]: m.rule.id for m in audience.members(app, target)}
        assert members["Lindelaan 8"] == "EU-GDPR-04"
    finally:
        app.store.engine.dispose()
