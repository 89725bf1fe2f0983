"""The admin app's contact search and contact page services, on both stores: by address or number
(blind index), name words and tags (blind-indexed terms), with every query an index look-up."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import NOW, define_purposes, make_app
from consentry.adapters.sql.search import PERSON_SQL
from consentry.bootstrap import App
from consentry.domain.users import AuditAction
from consentry.domain.vocabulary import Channel, Verdict
from consentry.entrypoints.accounts import accounts
from consentry.services import contact_page, search, users
from consentry.services.contacts import UnknownContact
from consentry.services.errors import InputError
from contact_people import people


def _values(found: search.Found) -> list[str]:
    return sorted(p.value for p in found.points)


def test_a_search_finds_points_by_address_number_name_words_and_tag(app: App) -> None:
    people(app)
    assert _values(search.search(app, " JAN@example.nl ")) == ["jan@example.nl"]
    assert search.search(app, "jan@example.nl").by == "point"
    assert _values(search.search(app, "06 1234 5678")) == ["+31612345678"]
    assert _values(search.search(app, "nobody@example.nl")) == []
    # Name words: case and accents do not matter; every word must match.
    assert _values(search.search(app, "jansen")) == ["+31612345678", "jan@example.nl", "piet@example.nl"]
    assert _values(search.search(app, "Jansen Jan")) == ["+31612345678", "jan@example.nl"]
    assert _values(search.search(app, "vries", by="name")) == ["janneke@example.nl"]
    assert search.search(app, "Jansen").points[0].name == "Jan Jansen"
    # Tags: exact, with `tag:` or by="tag".
    assert _values(search.search(app, "tag:vip")) == ["janneke@example.nl", "piet@example.nl"]
    assert _values(search.search(app, "beurs 2026", by="tag")) == ["janneke@example.nl"]
    assert _values(search.search(app, "tag:VIP")) == []
    # At most `shown`, and it says there are more.
    found = search.search(app, "jansen", shown=2)
    assert len(found.points) == 2 and found.more


@pytest.mark.parametrize(
    ("query", "by", "field"),
    [("", "auto", "q"), ("   ", "name", "q"), ("x", "everything", "by"), ("tag:", "auto", "q"),
     ("!!!", "name", "q"), ("not-an-address", "point", "contact"), ("a" * 501, "auto", "q")],
)  # fmt: skip
def test_a_search_refuses_what_it_cannot_read_naming_the_field(
    app: App, query: str, by: str, field: str
) -> None:
    with pytest.raises(InputError) as caught:
        search.search(app, query, by)
    assert caught.value.field == field


def test_the_contact_page_has_the_persons_points_a_matrix_now_and_then_and_the_timeline(app: App) -> None:
    people(app)
    jan = search.search(app, "jan@example.nl").points[0]
    shown = contact_page.view(app, jan.id, then=NOW - timedelta(days=10))
    assert [p.value for p in shown.person] == ["+31612345678"]
    assert {p.key for p in shown.now.purposes} == {"aanbiedingen", "nieuwsbrief"}
    assert shown.now.channels == [Channel.EMAIL]
    assert shown.now.cells[("nieuwsbrief", Channel.EMAIL)].verdict is Verdict.ALLOW
    assert shown.now.cells[("aanbiedingen", Channel.EMAIL)].verdict is not Verdict.ALLOW
    assert shown.then is not None
    assert shown.then.cells[("nieuwsbrief", Channel.EMAIL)].verdict is not Verdict.ALLOW
    assert shown.then.cells[("nieuwsbrief", Channel.EMAIL)].rule
    types = [h.event.type for h in shown.timeline]
    assert types == ["contact_point.registered", "consent.given", "consent.confirmed"]
    assert shown.timeline[1].evidence == {
        "ip": "192.0.2.10",
        "user_agent": "Firefox/140",
        "method": "double_opt_in",
    }
    # Before it was registered: no verdicts at all.
    early = contact_page.view(app, jan.id, then=NOW - timedelta(days=60))
    assert early.then is not None and early.then.cells == {}
    with pytest.raises(UnknownContact):
        contact_page.view(app, "cp_nothing")


def test_an_objection_by_phone_is_in_the_ledger_and_the_audit_log_with_who_took_it(app: App) -> None:
    people(app)
    jan = search.search(app, "jan@example.nl").points[0]
    event_id = contact_page.record_objection(app, jan.id, "direct_marketing", "po@example.nl")
    last = contact_page.view(app, jan.id).timeline[-1].event
    assert (last.id, last.type, last.payload["scope"], last.payload["via"]) == (
        event_id,
        "objection.recorded",
        "direct_marketing",
        "phone",
    )
    assert contact_page.view(app, jan.id).now.cells[("nieuwsbrief", Channel.EMAIL)].verdict is Verdict.DENY
    entry = users.audit_log(accounts(app))[0]
    assert (entry.action, entry.actor, entry.subject) == (
        AuditAction.OBJECTION_RECORDED,
        "po@example.nl",
        jan.id,
    )
    with pytest.raises(InputError) as caught:
        contact_page.record_objection(app, jan.id, "everything", "po@example.nl")
    assert caught.value.field == "scope"
    with pytest.raises(UnknownContact):
        contact_page.record_objection(app, "cp_nothing", "profiling", "po@example.nl")
    assert len(contact_page.view(app, jan.id).timeline) == 4


def test_the_access_export_is_recorded_with_who_opened_it(app: App) -> None:
    people(app)
    jan = search.search(app, "0612345678").points[0]
    doc = contact_page.access_export(app, jan.id, "po@example.nl")
    assert sorted(p["value"] for p in doc["contact_points"]) == ["+31612345678", "jan@example.nl"]
    entry = users.audit_log(accounts(app))[0]
    assert (entry.action, entry.actor, entry.subject) == (
        AuditAction.ACCESS_EXPORTED,
        "po@example.nl",
        jan.id,
    )


def test_every_search_query_is_an_index_look_up_on_sqlite(sqlite_url: str) -> None:
    """No table scan: terms through their index and the table's key, facts and persons by index."""
    app = make_app(sqlite_url)
    define_purposes(app)
    people(app)
    with app.store.reader() as r:
        plans = []
        for terms in (["name:jansen"], ["name:jansen", "name:jan", "tag:vip"]):
            sql, params = r.terms_sql(terms, 51)  # type: ignore[attr-defined]
            plans.append(r._plain(f"EXPLAIN QUERY PLAN {sql}", params))  # type: ignore[attr-defined]
        for sql, params in (
            ("SELECT contact_point_id FROM point_facts WHERE contact_point_id IN (?, ?)", ["a", "b"]),
            (PERSON_SQL, ["a", 100]),
            ("SELECT id FROM contact_points WHERE kind = ? AND lookup = ?", ["email", b"x" * 16]),
        ):
            plans.append(r._plain(f"EXPLAIN QUERY PLAN {sql}", params))  # type: ignore[attr-defined]
    for plan in plans:
        details = [str(row[-1]) for row in plan]
        assert details and all("SCAN" not in d for d in details), details
