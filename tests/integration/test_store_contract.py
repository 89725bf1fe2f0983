"""The store contract: every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from consentry.adapters.sql import tables as t
from consentry.bootstrap import App
from consentry.domain.fold import fold
from consentry.domain.purposes import Purpose, PurposeKind
from consentry.domain.vocabulary import PointKind
from consentry.services import integrity, ledger
from consentry.services.decide import decide
from consentry.services.errors import AlreadyExists, FileRejected, InputError


def line(**fields: object) -> str:
    """One JSON line."""
    return json.dumps(fields)


def register(value: str, kind: str = "email", **extra: object) -> str:
    return line(
        type="contact_point.registered",
        kind=kind,
        value=value,
        source="web_form",
        occurred_at="2025-01-01T10:00:00+01:00",
        **extra,
    )


def consent(contact: str, at: str = "2025-01-01T10:00:00+01:00", **extra: object) -> str:
    return line(
        type="consent.given",
        contact=contact,
        purpose="nieuwsbrief",
        channels=["email"],
        method="single_opt_in",
        occurred_at=at,
        **extra,
    )


def counts(app: App) -> dict[str, int]:
    with app.store.reader() as r:
        return r.counts()


def test_appending_a_file_chains_every_event_and_keeps_the_chain_intact(app: App) -> None:
    report = ledger.append_lines(app, [register("a@example.nl"), consent("a@example.nl")])
    assert (report.appended, report.registered, report.first_seq, report.last_seq) == (2, 1, 1, 2)
    verdict = integrity.verify_ledger(app)
    assert verdict.ok and verdict.events == 2 and verdict.head_seq == 2


def test_the_projection_equals_a_fold_of_the_ledger_after_appends(app: App) -> None:
    ledger.append_lines(app, [register("a@example.nl"), consent("a@example.nl")])
    ledger.append_lines(
        app, [line(type="unsubscribed", contact="a@example.nl", occurred_at="2025-02-01T09:00:00+01:00")]
    )
    with app.store.reader() as r:
        pid = r.point_id(*_email("a@example.nl"))
        assert pid is not None
        stored = r.state(pid)
        refolded = fold(pid, r.events_for(pid)).to_json()
    assert stored == refolded
    assert stored is not None and stored["consents"][0]["withdrawn_at"] is not None
    assert integrity.rebuild_projection(app) == 1
    with app.store.reader() as r:
        assert r.state(pid) == refolded


def test_a_back_filled_event_takes_its_place_in_the_history(app: App) -> None:
    # The unsubscribe is appended first but happened before the consent: the
    # consent given later stands.
    ledger.append_lines(app, [register("a@example.nl")])
    ledger.append_lines(
        app, [line(type="unsubscribed", contact="a@example.nl", occurred_at="2025-03-01T09:00:00+01:00")]
    )
    ledger.append_lines(app, [consent("a@example.nl", at="2025-04-01T09:00:00+02:00")])
    d = decide(app, "a@example.nl", "email", "nieuwsbrief")
    assert (d.verdict.value, d.rule) == ("allow", "EU-GDPR-02")


def test_a_decision_as_of_a_moment_judges_only_what_had_happened_then(app: App) -> None:
    ledger.append_lines(
        app,
        [
            register("a@example.nl"),
            consent("a@example.nl"),
            line(
                type="objection.recorded",
                contact="a@example.nl",
                scope="direct_marketing",
                occurred_at="2025-06-01T12:00:00+02:00",
            ),
        ],
    )
    before = decide(app, "a@example.nl", "email", "nieuwsbrief", at=datetime(2025, 5, 1, tzinfo=UTC))
    after = decide(app, "a@example.nl", "email", "nieuwsbrief", at=datetime(2025, 7, 1, tzinfo=UTC))
    assert (before.verdict.value, before.rule) == ("allow", "EU-GDPR-02")
    assert (after.verdict.value, after.rule) == ("deny", "EU-GDPR-04")


BAD_LINES = [
    ("{not json", "-", "not valid JSON"),
    (line(type="consent.exploded", contact="a@example.nl"), "type", "unknown event type"),
    (consent("a@example.nl", purpose_extra=1), "purpose_extra", "is not a field"),
    (
        line(
            type="consent.given",
            contact="a@example.nl",
            purpose="bestaat-niet",
            channels=["email"],
            method="single_opt_in",
        ),
        "purpose",
        "unknown purpose",
    ),
    (register("06-123", kind="phone"), "value", "phone number"),
    (register("niet-een-adres"), "value", "not a valid e-mail address"),
    (consent("a@example.nl", at="01-02-2025"), "occurred_at", "not a date or time"),
    (consent("a@example.nl", at="0001-01-01T00:30:00+01:00"), "occurred_at", "outside the years 1-9999"),
    (consent("a@example.nl", at="2099-01-01"), "occurred_at", "in the future"),
    (consent("onbekend@example.nl"), "contact", "is not registered"),
    (
        line(
            type="consent.given",
            contact="a@example.nl",
            purpose="nieuwsbrief",
            channels=["phone"],
            method="single_opt_in",
        ),
        "channels",
        "cannot be reached by phone",
    ),
    (
        line(
            type="consent.given",
            contact="a@example.nl",
            purpose="nieuwsbrief",
            channels=["email"],
            method="telepathy",
        ),
        "method",
        "is not one of",
    ),
    (register("A@Example.nl"), "value", "already registered"),
    (line(type="bounce.recorded", contact="a@example.nl", bounce_kind="medium"), "bounce_kind", "hard"),
]


@pytest.mark.parametrize(("bad", "field", "words"), BAD_LINES)
def test_a_bad_line_names_its_line_and_field_and_nothing_from_the_file_is_appended(
    app: App, bad: str, field: str, words: str
) -> None:
    ledger.append_lines(app, [register("a@example.nl")])
    before = counts(app)
    with pytest.raises(FileRejected) as caught:
        ledger.append_lines(app, [register("b@example.nl"), consent("b@example.nl"), "", bad])
    (problem,) = caught.value.problems
    assert problem.line == 4 and problem.field == field and words in problem.message
    assert counts(app) == before
    assert integrity.verify_ledger(app).ok


def test_every_problem_in_a_file_is_reported_not_only_the_first(app: App) -> None:
    with pytest.raises(FileRejected) as caught:
        ledger.append_lines(app, [register("x"), register("ok@example.nl"), consent("nobody@example.nl")])
    assert [(p.line, p.field) for p in caught.value.problems] == [(1, "value"), (3, "contact")]
    assert counts(app)["events"] == 0


def test_a_duplicate_event_id_is_rejected(app: App) -> None:
    ledger.append_lines(app, [register("a@example.nl", id="import-1")])
    with pytest.raises(FileRejected) as caught:
        ledger.append_lines(app, [consent("a@example.nl", id="import-1")])
    assert caught.value.problems[0].field == "id"


def test_a_duplicate_key_comes_out_of_the_store_as_the_services_already_exists(app: App) -> None:
    purpose = Purpose("nieuws", "Nieuwsbrief", "Newsletter", PurposeKind.COMMERCIAL, frozenset(), False)
    with app.store.writer() as w:
        w.put_purpose(purpose)
    with pytest.raises(AlreadyExists), app.store.writer() as w:
        w.put_purpose(purpose)
    with app.store.reader() as r:
        assert [p.key for p in r.purposes()].count("nieuws") == 1


def test_a_write_that_breaks_another_constraint_is_not_called_a_duplicate(app: App) -> None:
    with pytest.raises(sa.exc.IntegrityError), app.store.writer() as w:
        w.conn.execute(t.purposes.insert().values(key="zonder-naam"))  # NOT NULL, not unique


def test_deciding_about_an_unknown_purpose_or_channel_is_an_input_error(app: App) -> None:
    ledger.append_lines(app, [register("a@example.nl")])
    with pytest.raises(InputError, match="unknown purpose"):
        decide(app, "a@example.nl", "email", "bestaat-niet")
    with pytest.raises(InputError, match="cannot be reached by phone"):
        decide(app, "a@example.nl", "phone", "nieuwsbrief")
    with pytest.raises(InputError, match="not one of"):
        decide(app, "a@example.nl", "pigeon", "nieuwsbrief")


def _tamper(app: App, sql: str) -> None:
    with app.store.engine.begin() as conn:
        conn.execute(sa.text(sql))


def _seeded(app: App) -> None:
    ledger.append_lines(
        app,
        [
            register("a@example.nl"),
            consent("a@example.nl"),
            register("b@example.nl"),
            consent("b@example.nl"),
        ],
    )


def test_verify_reports_a_hand_edited_event(app: App) -> None:
    _seeded(app)
    _tamper(
        app,
        "UPDATE events SET occurred_at = occurred_at - INTERVAL '1 day' WHERE seq = 2"
        if app.store.engine.dialect.name == "postgresql"
        else "UPDATE events SET occurred_at = datetime(occurred_at, '-1 day') WHERE seq = 2",
    )
    report = integrity.verify_ledger(app)
    assert [(p.seq, "edited" in p.problem) for p in report.problems] == [(2, True)]


def test_verify_reports_an_edited_payload(app: App) -> None:
    _seeded(app)
    payload = json.dumps({"purpose": "nieuwsbrief", "channels": ["email"], "method": "double_opt_in"})
    cast = "::jsonb" if app.store.engine.dialect.name == "postgresql" else ""
    _tamper(app, f"UPDATE events SET payload = '{payload}'{cast} WHERE seq = 4")
    assert [p.seq for p in integrity.verify_ledger(app).problems] == [4]


def test_verify_reports_a_removed_event(app: App) -> None:
    _seeded(app)
    _tamper(app, "DELETE FROM events WHERE seq = 2")
    problems = integrity.verify_ledger(app).problems
    assert problems and problems[0].seq == 3 and "missing" in problems[0].problem


def test_verify_reports_a_removed_last_event_through_the_head(app: App) -> None:
    _seeded(app)
    _tamper(app, "DELETE FROM events WHERE seq = 4")
    problems = integrity.verify_ledger(app).problems
    assert len(problems) == 1 and "head" in problems[0].problem


def test_verify_reports_reordered_events(app: App) -> None:
    _seeded(app)
    _tamper(app, "UPDATE events SET seq = 100 WHERE seq = 2")
    _tamper(app, "UPDATE events SET seq = 2 WHERE seq = 3")
    _tamper(app, "UPDATE events SET seq = 3 WHERE seq = 100")
    problems = integrity.verify_ledger(app).problems
    assert {p.seq for p in problems} >= {2, 3}


def test_concurrent_writers_keep_one_unbroken_chain(app: App) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                ledger.append_lines(app, [register(f"w{n}-{i}@example.nl"), consent(f"w{n}-{i}@example.nl")])
        except BaseException as exc:  # report in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    report = integrity.verify_ledger(app)
    assert report.ok and report.events == 80


def test_the_migrations_create_exactly_the_tables_the_code_defines(app: App) -> None:
    dialect = app.store.engine.dialect.name

    def here(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        # What the code defines for one database only (`ddl_if`) is compared on that one.
        only = getattr(obj, "_ddl_if", None)
        return only is None or only.dialect in (None, dialect)

    with app.store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": here})
        diff = compare_metadata(context, t.metadata)
    assert diff == []


def _email(value: str) -> tuple[PointKind, str]:
    return PointKind.EMAIL, value


def test_the_points_of_a_contact_are_those_it_holds_now(app: App) -> None:
    ledger.append_lines(
        app,
        [
            register("a@example.nl", contact_id="K1"),
            register("b@example.nl", contact_id="K1"),
            register("c@example.nl", contact_id="K2"),
            register("d@example.nl"),
            line(type="contact_point.updated", contact="b@example.nl", contact_id="K2"),
        ],
    )
    with app.store.reader() as r:
        ids = {v: r.point_id(PointKind.EMAIL, v) for v in ("a@example.nl", "b@example.nl", "c@example.nl")}
        found = r.contact_points_of(["K1", "K2", "K3"])
    assert found == {
        "K1": [ids["a@example.nl"]],
        "K2": sorted([ids["b@example.nl"], ids["c@example.nl"]]),
    }
