"""Audiences: the exclusion report by rule, the drill-down, the CSV, selections, call and postal lists.

Every figure here is judged set-wise in the database; test_audience_equivalence
proves it matches the per-contact evaluator. These tests check what a marketer
sees: the counts per rule, the contact points behind each, and the lists.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consentry.adapters.sql import audience as sql_audience
from consentry.adapters.sql.tables import JUDGED
from consentry.bootstrap import App
from consentry.domain.campaigns import Selection
from consentry.domain.vocabulary import PointKind
from consentry.entrypoints.cli import app as cli_app
from consentry.entrypoints.http import create_app
from consentry.services import apikeys, audience, campaigns, export, ledger
from consentry.services.errors import InputError

SENDER = {
    "name": "Koffiebranderij De Boon",
    "email": "nieuws@deboon.example",
    "legal_name": "De Boon B.V.",
    "address": "Markt 1, 3511 AA Utrecht",
    "kvk": "12345678",
}


def _campaign(key: str, **selection: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": key,
        "purpose": "nieuwsbrief",
        "channel": "email",
        "sender": SENDER,
        "content": {"nl": {"subject": "Nieuws", "body": "Hallo {{ name }}"}},
        **({"selection": selection} if selection else {}),
    }


def _email(address: str, *events: dict[str, Any], **registration: Any) -> list[dict[str, Any]]:
    reg = {"type": "contact_point.registered", "kind": "email", "value": address, "source": "web_form"}
    return [{**reg, **registration}, *({"contact": address, **e} for e in events)]


CONSENT = {
    "type": "consent.given",
    "purpose": "nieuwsbrief",
    "channels": ["email"],
    "method": "single_opt_in",
}
PENDING = {
    "type": "consent.given",
    "purpose": "nieuwsbrief",
    "channels": ["email"],
    "method": "double_opt_in",
}


@pytest.fixture
def shop(app: App) -> App:
    people = [
        _email("anna@voorbeeld.nl", CONSENT, tags=["klant"], attributes={"plaats": "Utrecht"}),
        _email("bert@voorbeeld.nl", CONSENT, attributes={"plaats": "Zwolle"}),
        _email("carla@voorbeeld.nl", CONSENT, {"type": "unsubscribed", "via": "link"}, tags=["klant"]),
        _email("dirk@voorbeeld.nl", CONSENT, {"type": "objection.recorded", "scope": "direct_marketing"}),
        _email("eva@voorbeeld.nl", PENDING, tags=["klant"]),
        _email("frits@voorbeeld.nl"),
        _email("gijs@voorbeeld.nl", source="third_party_list_without_proof", source_detail="Beurslijst 2025"),
        _email("hanna@voorbeeld.nl", CONSENT, {"type": "bounce.recorded", "bounce_kind": "hard"}),
    ]
    ledger.append_records(app, enumerate([r for p in people for r in p], 1))
    campaigns.define(app, _campaign("najaar"))
    campaigns.define(app, _campaign("klanten", tag="klant"))
    return app


def _counts(rep: audience.AudienceReport) -> dict[str, dict[str, int]]:
    return {
        name: {c.rule.id: c.count for c in counts}
        for name, counts in (("in", rep.included), ("out", rep.excluded), ("review", rep.review))
    }


def test_the_report_counts_every_considered_contact_by_the_rule_that_decided(shop: App) -> None:
    target, selection = audience.of_campaign(shop, "najaar")
    rep = audience.report(shop, target, selection)
    assert rep.considered == 8 and rep.included_count == 2 and rep.excluded_count == 6
    assert _counts(rep) == {
        "in": {"EU-GDPR-02": 2},
        "out": {
            "EU-GDPR-03": 1,  # unsubscribed
            "EU-GDPR-03.pending": 1,  # double opt-in not confirmed
            "EU-GDPR-04": 1,  # objected
            "EU-GDPR-07": 1,  # bought list without proof
            "NL-EM-01": 1,  # no consent
            "OPS-SUPP-01": 1,  # hard bounce
        },
        "review": {},
    }


def test_a_selection_narrows_whom_the_rules_judge(shop: App) -> None:
    email = audience.Target.of("email", "nieuwsbrief")
    by_tag = audience.report(shop, email, Selection(tag="klant"))
    assert by_tag.considered == 3 and by_tag.included_count == 1
    by_attribute = audience.report(shop, email, audience.parse_selection(attribute="plaats=Zwolle"))
    assert by_attribute.considered == 1 and by_attribute.included_count == 1
    subscribers = audience.report(shop, email, Selection(subscribers_of="nieuwsbrief"))
    # Carla's consent was withdrawn by her unsubscribe; the pending one counts as given.
    assert subscribers.considered == 5
    listed = audience.report(shop, email, Selection(source_detail="Beurslijst 2025"))
    assert _counts(listed)["out"] == {"EU-GDPR-07": 1}
    with pytest.raises(InputError, match="NAME=VALUE"):
        audience.parse_selection(attribute="plaats")
    # A selection by an attribute that gets no search term (a draft stored before the attribute
    # lost it) is refused with the reason, not answered with an empty audience.
    stored = Selection(attribute=("telefoon", "0612345678"))
    for run in (
        lambda: audience.report(shop, email, stored),
        lambda: list(audience.members(shop, email, stored)),
    ):
        with pytest.raises(InputError) as refused:
            run()
        assert refused.value.field == "selection.attribute"


def test_the_drill_down_lists_the_contacts_behind_a_rule_and_pages_in_id_order(shop: App) -> None:
    target, selection = audience.of_campaign(shop, "najaar")
    objected = list(audience.members(shop, target, selection, rule="EU-GDPR-04"))
    assert [m.value for m in objected] == ["dirk@voorbeeld.nl"] and objected[0].obligations == ()
    allowed = list(audience.members(shop, target, selection, verdict="allow"))
    assert sorted(m.value for m in allowed) == ["anna@voorbeeld.nl", "bert@voorbeeld.nl"]
    assert all({"sender-identity", "opt-out-address"} <= {o.id for o in m.obligations} for m in allowed)
    everyone = [m.contact_point_id for m in audience.members(shop, target, selection)]
    first = list(audience.members(shop, target, selection, limit=3))
    rest = list(audience.members(shop, target, selection, after=first[-1].contact_point_id, limit=10))
    assert [m.contact_point_id for m in first + rest] == sorted(everyone)
    with pytest.raises(InputError, match="cannot decide this question"):
        list(audience.members(shop, target, selection, rule="NL-TM-01"))


def test_a_stream_left_early_leaves_the_store_usable(shop: App) -> None:
    """A reader that stops after one row ends the query (PostgreSQL cancels it) cleanly."""
    target, selection = audience.of_campaign(shop, "najaar")
    rows = audience.members(shop, target, selection)
    first = next(rows)
    rows.close()
    assert first.value.endswith("@voorbeeld.nl")
    again = list(audience.members(shop, target, selection))
    assert len(again) == 8 and all(m.value.endswith("@voorbeeld.nl") for m in again)
    assert audience.report(shop, target, selection).considered == 8


def test_an_audience_is_judged_now_or_later_never_in_the_past(shop: App) -> None:
    target = audience.Target.of("email", "nieuwsbrief")
    later = audience.report(shop, target, at=shop.clock.now() + timedelta(days=30))
    assert later.included_count == 2
    with pytest.raises(InputError, match="not as of the past"):
        audience.report(shop, target, at=shop.clock.now() - timedelta(days=1))


def _phone(number: str, *events: dict[str, Any], **registration: Any) -> list[dict[str, Any]]:
    reg = {"type": "contact_point.registered", "kind": "phone", "value": number, "source": "purchase"}
    return [{**reg, **registration}, *({"contact": number, **e} for e in events)]


def test_a_call_list_has_only_who_may_be_called_with_the_duty_to_offer_the_objection(app: App) -> None:
    call = {
        "type": "consent.given",
        "purpose": "aanbiedingen",
        "channels": ["phone"],
        "method": "call_recording",
    }
    people = [
        _phone("+31612345001", call, display_name="Henk"),
        _phone("+31612345002"),
        _phone("+31612345003", call, {"type": "objection.recorded", "scope": "direct_marketing"}),
    ]
    ledger.append_records(app, enumerate([r for p in people for r in p], 1))
    out = io.StringIO()
    report = export.reachable(app, out, "phone", "aanbiedingen")
    rows = list(csv.DictReader(io.StringIO(out.getvalue().removeprefix("\ufeff")), delimiter=";"))
    assert [(r["address"], r["name"]) for r in rows] == [("+31612345001", "Henk")]
    assert "offer-right-to-object-in-call" in rows[0]["obligations"].split()
    assert rows[0]["unsubscribe_url"] == ""  # a call carries no link
    assert report.considered == 3 and report.included == 1 and sum(report.excluded.values()) == 2


def test_a_postal_list_leaves_out_addresses_on_the_postfilter(app: App) -> None:
    from consentry.adapters.sql.registers import entry_hash

    records = [
        {"type": "contact_point.registered", "kind": "postal", "value": value, "source": "purchase"}
        for value in ("Dorpsstraat 1; 1234 AB Ergens", "Kerkweg 2; 5678 CD Elders")
    ]
    ledger.append_records(app, enumerate(records, 1))
    with app.store.writer() as w:
        stored = sorted(str((w.state(pid) or {})["value"]) for pid in w.point_ids())
        w.put_register("postfilter", "Postfilter", PointKind.POSTAL, True, None, None)
        w.put_register_entries("postfilter", [entry_hash(stored[0])], None, None)
    out = io.StringIO()
    report = export.reachable(app, out, "post", "aanbiedingen")
    rows = list(csv.DictReader(io.StringIO(out.getvalue().removeprefix("\ufeff")), delimiter=";"))
    assert [r["address"] for r in rows] == [stored[1]]
    assert dict(report.excluded) == {"NL-POST-01.postfilter": 1}


def test_a_clear_postal_register_still_matches_the_address_as_normalised(app: App, tmp_path: Any) -> None:
    """A clear register's entries are blind indexes of the entry as normalised (tidied, not in its
    compared form: `Ciphers.value_index`), as those kept before `match_form` are: they still match."""
    from consentry.services import registers
    from consentry.services.decide import decide

    records = [
        {"type": "contact_point.registered", "kind": "postal", "value": value, "source": "purchase"}
        for value in ("Dorpsstraat 1; 1234 AB Ergens", "Kerkweg 2; 5678 CD Elders")
    ]
    ledger.append_records(app, enumerate(records, 1))
    path = tmp_path / "eigen-lijst.txt"
    path.write_text("Dorpsstraat 1; 1234 AB Ergens\n", encoding="utf-8")
    assert registers.import_file(app, path, "postfilter").new == 1
    out = io.StringIO()
    report = export.reachable(app, out, "post", "aanbiedingen")
    rows = list(csv.DictReader(io.StringIO(out.getvalue().removeprefix("\ufeff")), delimiter=";"))
    assert [r["address"] for r in rows] == ["Kerkweg 2\n5678 CD Elders"]
    assert dict(report.excluded) == {"NL-POST-01.postfilter": 1}
    assert decide(app, "postal:Dorpsstraat 1; 1234 AB Ergens", "post", "aanbiedingen").rule == (
        "NL-POST-01.postfilter"
    )


def test_the_cli_prints_the_report_and_writes_the_drill_down_as_csv(
    shop: App, store_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENTRY_DATABASE_URL", store_url)
    monkeypatch.setenv("CONSENTRY_SECRET_KEY", "test-secret-key-0123456789")
    runner = CliRunner()
    done = runner.invoke(cli_app, ["audience", "najaar", "--lang", "en"])
    assert done.exit_code == 0, done.output
    assert "8  considered" in done.output and "2  may be reached" in done.output
    assert "— EU-GDPR-04" in done.output and "objected" in done.output
    target = tmp_path / "uitgesloten.csv"
    done = runner.invoke(cli_app, ["audience", "najaar", "--verdict", "deny", "--csv", str(target)])
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(target.open(encoding="utf-8-sig"), delimiter=";"))
    assert len(rows) == 6 and {r["verdict"] for r in rows} == {"deny"}
    done = runner.invoke(cli_app, ["audience", "--channel", "email"])
    assert done.exit_code == 2 and "--purpose" in done.output


@pytest.fixture
def client(shop: App) -> Iterator[TestClient]:
    with TestClient(create_app(shop)) as c:
        yield c


def _key(app: App) -> dict[str, str]:
    _, token = apikeys.create(app, "test", ["read"])
    return {"Authorization": f"Bearer {token}"}


def test_the_api_gives_the_report_the_pages_and_the_csv(shop: App, client: TestClient) -> None:
    h = _key(shop)
    rep = client.get("/v1/campaigns/najaar/audience?lang=en", headers=h)
    assert rep.status_code == 200, rep.text
    body = rep.json()
    assert (body["considered"], body["included"], body["excluded"]) == (8, 2, 6)
    objected = next(r for r in body["excluded_by_rule"] if r["rule"] == "EU-GDPR-04")
    assert objected["count"] == 1 and "object" in objected["explanation"]
    page = client.get("/v1/campaigns/najaar/audience/members?limit=5", headers=h).json()
    assert len(page["items"]) == 5 and page["next_after"] == page["items"][-1]["contact_point"]
    rest = client.get(f"/v1/campaigns/najaar/audience/members?after={page['next_after']}", headers=h).json()
    assert len(rest["items"]) == 3 and rest["next_after"] is None
    download = client.get("/v1/campaigns/najaar/audience.csv?verdict=allow", headers=h)
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text.removeprefix("\ufeff")), delimiter=";"))
    assert sorted(r["address"] for r in rows) == ["anna@voorbeeld.nl", "bert@voorbeeld.nl"]


def test_the_api_says_what_is_wrong(shop: App, client: TestClient) -> None:
    h = _key(shop)
    missing = client.get("/v1/campaigns/bestaat-niet/audience", headers=h)
    assert missing.status_code == 404
    bad = client.get("/v1/campaigns/najaar/audience.csv?rule=NL-TM-01", headers=h)
    assert bad.status_code == 422 and "cannot decide" in bad.text
    assert client.get("/v1/campaigns/najaar/audience").status_code == 401


def test_init_fills_the_audience_projection_of_a_ledger_from_before_it_existed(shop: App) -> None:
    from consentry.services import setup

    with shop.store.writer() as w:  # as after migration 0004 on an existing ledger
        w.conn.exec_driver_sql("DELETE FROM point_facts")
        assert not w.projection_complete()
    setup.init(shop)
    with shop.store.reader() as r:
        assert r.projection_complete()
    target, selection = audience.of_campaign(shop, "najaar")
    assert audience.report(shop, target, selection).included_count == 2


def test_sqlite_counts_the_rules_without_sorting_the_judged_rows_and_judges_each_once(shop: App) -> None:
    # SQLite has no hash aggregate: grouped by the rule, it sorted every judged row (~40% of the
    # report's CPU at 1M). It concatenates the rows' one-character places in one aggregate instead,
    # the subquery flattened into it, and the rule's CASE written (and computed) once a row.
    if shop.store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL hashes the groups")
    target, selection = audience.of_campaign(shop, "najaar")
    with shop.store.reader() as r:
        built = audience.build(r, shop.pack, target, selection, shop.clock.now())
        sql = sql_audience._grouped(built, "sqlite", " AND f.point_no BETWEEN :lo AND :hi")
        params = {**built.params, "lo": 0, "hi": 10**6}
        plan = [str(row[-1]) for row in r.conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)]
        position = JUDGED.index("person_objected_dm")  # read from the covering index's entry
        program = r.conn.exec_driver_sql(f"EXPLAIN {sql}", params).all()
    assert not any("TEMP B-TREE" in line or "CO-ROUTINE" in line for line in plan), plan
    assert sum(row[1] == "Column" and row[3] == position for row in program) == 1
    assert sum(row[1] == "AggStep" for row in program) == 1


def test_sqlite_finds_the_reports_parts_by_a_seek_to_each_end_of_the_table(shop: App) -> None:
    # `SELECT min(rowid), max(rowid)` scanned an index of every point (SQLite reads a lone min or
    # max from one end of a b-tree, not both in one SELECT): 0.16-0.25 s at 1.7M points.
    if shop.store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL counts in one query")
    with shop.store.reader() as r:
        plan = [str(row[-1]) for row in r.conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql_audience.BOUNDS}")]
        numbers = r.conn.exec_driver_sql("SELECT point_no FROM point_facts").scalars().all()
        assert r.conn.exec_driver_sql(sql_audience.BOUNDS).one() == (min(numbers), max(numbers))
    assert not any(line.startswith("SCAN") and "CONSTANT ROW" not in line for line in plan), plan
    assert sum(line.startswith("SEARCH point_facts") for line in plan) == 2, plan


def test_the_report_counts_alike_whatever_characters_sqlite_writes_the_places_in(
    shop: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite's report writes a rule's place as one character (`sqlfacts.place_char`): past ASCII
    # (a plan of more than 79 places) each is two bytes in the text, and counted alike.
    from consentry.policy import sqlfacts

    target, selection = audience.of_campaign(shop, "najaar")
    before = _counts(audience.report(shop, target, selection))
    monkeypatch.setattr(sqlfacts, "PLACE_CODE", 0x3A0)
    assert _counts(audience.report(shop, target, selection)) == before
    assert sum(sum(c.values()) for c in before.values()) == 8


def test_sqlite_reports_from_the_judged_index_and_reads_rows_from_the_table(shop: App) -> None:
    # A report and a queue fill read `ix_point_facts_judged` (the kind's entries, about half of each
    # row; it holds each point's id, which the fill carries: migration 0022); the stream and a page
    # read the table (a page walks the id's index in order).
    if shop.store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no such index")

    def plan(r: Any, sql: str, params: dict[str, Any]) -> str:
        return " | ".join(str(row[-1]) for row in r.conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))

    with shop.store.writer() as w:
        w.put_register("postfilter", "Postfilter", PointKind.POSTAL, True, None, None)
    for name, target, covered in (
        ("najaar", None, True),
        ("klanten", None, True),  # a selection by tag
        ("najaar", audience.Target.of("post", "nieuwsbrief"), False),  # the register's entries: by value
    ):
        asked, selection = audience.of_campaign(shop, name)
        with shop.store.reader() as r:
            built = audience.build(r, shop.pack, target or asked, selection, shop.clock.now())
            parts = sql_audience._grouped(built, "sqlite", " AND f.point_no BETWEEN :lo AND :hi")
            counted = plan(r, parts, {**built.params, "lo": 0, "hi": 10**6})
            assert (
                "COVERING INDEX ix_point_facts_judged (kind=? AND point_no>? AND point_no<?)" in counted
            ) is covered
            assert "ix_point_facts_judged" in counted or "INTEGER PRIMARY KEY" in counted, counted
            paged = (
                f"SELECT * FROM ({built.inner}) m WHERE m.contact_point_id > :after "
                "ORDER BY m.contact_point_id LIMIT 5"
            )
            for sql, extra in ((built.inner, {}), (paged, {"after": ""})):
                found = plan(r, sql, {**built.params, **extra})
                assert "ix_point_facts_judged" not in found and "TEMP B-TREE" not in found, found
            # The queue fill reads point numbers, ids and rules: the index's entries where it holds
            # what the rules test, in the order of the numbers the queue is keyed by, no sort.
            found = plan(r, built.keyed, built.params)
            assert ("COVERING INDEX ix_point_facts_judged (kind=?)" in found) is covered, found
            assert "TEMP B-TREE" not in found, found


def test_the_queue_fill_judges_each_row_once(shop: App) -> None:
    # Flattened into the INSERT, both databases wrote the rule's CASE into the status, the
    # verdict and the rule column: every row was judged three times (docs/performance.md).
    import sqlalchemy as sa

    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.startswith("INSERT INTO campaign_messages"):
            seen.append((statement, parameters))

    target, selection = audience.of_campaign(shop, "najaar")
    sa.event.listen(shop.store.engine, "before_cursor_execute", capture)
    try:
        with shop.store.writer() as w:
            now = shop.clock.now()
            built = audience.build(w, shop.pack, target, selection, now)
            assert w.fill_queue("najaar", built, now) > 0
    finally:
        sa.event.remove(shop.store.engine, "before_cursor_execute", capture)
    ((statement, parameters),) = seen
    sqlite = shop.store.engine.dialect.name == "sqlite"
    with shop.store.reader() as r:
        # The program's reads of a column the rule's CASE tests (the person's objection): SQLite's
        # bytecode (`Column` on its position in the row), PostgreSQL's plan with its expressions.
        explain = "EXPLAIN " if sqlite else "EXPLAIN (VERBOSE, COSTS OFF) "
        if sqlite:
            names = [row[1] for row in r.conn.exec_driver_sql("PRAGMA table_info(point_facts)")]
            position = names.index("person_objected_dm")
            covered = r.conn.execute(sa.text("EXPLAIN QUERY PLAN " + built.keyed), dict(built.params)).all()
            if any("COVERING INDEX ix_point_facts_judged" in str(row[-1]) for row in covered):
                position = JUDGED.index("person_objected_dm")  # read from the index's entry

        def reads(sql: str, params: Any, named: bool = False) -> int:
            run = (
                r.conn.execute(sa.text(explain + sql), params)
                if named
                else r.conn.exec_driver_sql(explain + sql, params)
            )
            rows = run.all()
            if sqlite:
                return sum(row[1] == "Column" and row[3] == position for row in rows)
            return sum(str(row[-1]).count("person_objected_dm") for row in rows)

        alone = reads(built.keyed, dict(built.params), named=True)
        assert alone >= 1
        assert reads(statement, parameters) == alone
        plan = (
            [str(row[-1]) for row in r.conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            if sqlite
            else []
        )
    if sqlite:
        assert any("CO-ROUTINE" in line for line in plan), plan
    with shop.store.reader() as r:
        counts = r.message_counts("najaar")
    report = audience.report(shop, target, selection)
    assert counts["queued"] == report.included_count
    assert counts["skipped"] == report.excluded_count + report.review_count


def test_the_queue_fill_writes_each_judged_point_as_the_judging_query_decides_in_key_order(shop: App) -> None:
    # One row a judged point: queued with its id when its rule allows, skipped with its rule when
    # not, in the order of the points' numbers (on PostgreSQL the heap's order too). The fill tells
    # the two apart by the rule the fill's query leaves NULL where it allows; this holds it to the
    # judging query the stream reads (the rule's id on every row).
    import sqlalchemy as sa

    from consentry.policy.rules import Effect

    seen = set()
    for key in ("najaar", "klanten"):
        target, selection = audience.of_campaign(shop, key)
        with shop.store.writer() as w:
            now = shop.clock.now()
            built = audience.build(w, shop.pack, target, selection, now)
            judged = w.conn.execute(
                sa.text(
                    f"SELECT f.point_no, m.contact_point_id, m.rule FROM ({built.inner}) m "
                    "JOIN point_facts f ON f.contact_point_id = m.contact_point_id"
                ),
                dict(built.params),
            ).all()
            allowed = {i for i, rule in built.rules.items() if rule.effect is Effect.ALLOW}
            keyed = w.conn.execute(sa.text(built.keyed), dict(built.params)).all()
            refused = [(p, pid, None if rule in allowed else rule) for p, pid, rule in judged]
            assert sorted(keyed) == sorted(refused)
            assert w.fill_queue(key, built, now) == len(judged)
            no = "(SELECT no FROM campaigns WHERE key = :key)"
            columns = "point_no, status, rule, contact_point_id, attempts, art14"
            queue = f"FROM campaign_messages WHERE campaign_no = {no}"
            on = {"key": key}
            stored = w.conn.execute(sa.text(f"SELECT {columns} {queue} ORDER BY point_no"), on).all()
            if shop.store.engine.dialect.name == "postgresql":
                written = w.conn.execute(sa.text(f"SELECT point_no {queue} ORDER BY ctid"), on).scalars()
                assert list(written) == [row[0] for row in stored]
        expected = sorted(
            (p, "queued", None, pid, 0, False) if rule in allowed else (p, "skipped", rule, None, 0, False)
            for p, pid, rule in judged
        )
        assert [(p, s, r, i, a, bool(n)) for p, s, r, i, a, n in stored] == expected
        seen |= {row[1] for row in expected} | {row[2] for row in expected if row[2]}
    assert {"queued", "skipped"} < seen and len(seen) >= 5  # both kinds, several rules
