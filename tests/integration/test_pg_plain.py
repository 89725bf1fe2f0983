"""Plain reads outside a transaction: on PostgreSQL run by libpq (`adapters.sql.pg_plain`), held equal.

A decision's reads run outside a transaction (`Store.statement_reader`); on PostgreSQL
`Connected._plain` runs them through libpq, each statement prepared once a connection, and
inside a transaction through psycopg's cursor. These tests hold the two equal on both
stores, and the libpq path to its promises: it survives psycopg deallocating every prepared
statement of the connection, keeps at most `PREPARED_MAX` of its own, and raises psycopg's
errors.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from consentry.adapters.sql import pg_plain
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind
from consentry.services import ledger


def registered(app: App) -> str:
    ledger.append_lines(
        app,
        [
            json.dumps(fields)
            for fields in (
                {"type": "contact_point.registered", "kind": "email", "value": "Anna@Example.nl",
                 "source": "web_form", "occurred_at": "2023-01-01"},
                {"type": "consent.given", "contact": "anna@example.nl", "purpose": "nieuwsbrief",
                 "channels": ["email"], "method": "single_opt_in", "text_version": "v1",
                 "occurred_at": "2023-01-02", "ip": "203.0.113.5"},
            )
        ],
    )  # fmt: skip
    with app.store.reader() as r:
        (pid,) = r.point_ids()
    return pid


def reads(r: Any, pid: str) -> list[object]:
    """What a decision reads, by every kind of parameter and column (ids, bytes, arrays, JSON, moments)."""
    return [
        r.decision_basis((PointKind.EMAIL, "anna@example.nl"), "nieuwsbrief"),
        r.decision_basis(pid, "nieuwsbrief"),
        r.decision_basis(pid, "no-such-purpose"),
        r.decision_basis("no-such-point", "nieuwsbrief"),
        r.events_for_many([pid]),
        r.heads([pid]),
        r.registers_version(),
        r.find_points([(PointKind.EMAIL, "anna@example.nl")]),
        r.purposes(),
    ]


def test_reads_outside_a_transaction_give_what_the_same_reads_inside_one_give(app: App) -> None:
    pid = registered(app)
    with app.store.reader() as r:
        inside = reads(r, pid)
    with app.store.statement_reader() as r:
        outside = reads(r, pid)
        if app.store.engine.dialect.name == "postgresql":
            assert r._pg is not None and r._pg.alone()  # run by libpq, not psycopg's cursor
    assert outside == inside
    assert outside[0] is not None and outside[2] is not None and outside[3] is None


@pytest.fixture
def pg(app: App) -> Any:
    if app.store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's statements")
    pooled = app.store.engine.raw_connection()
    raw = pooled.driver_connection
    raw.autocommit = True
    yield raw
    raw.autocommit = False
    pooled.close()


def ours(raw: Any) -> set[str]:
    rows = raw.execute(
        "SELECT name FROM pg_prepared_statements WHERE name LIKE '\\_consentry\\_%'"
    ).fetchall()
    return {name for (name,) in rows}


def test_a_read_survives_psycopg_deallocating_every_prepared_statement(pg: Any) -> None:
    plain = pg_plain.PgPlain(pg)
    assert plain.rows("SELECT ?::int + 1, ?::text", [1, "a"]) == [(2, "a")]
    assert ours(pg) == {"_consentry_0"}
    pg.autocommit = False
    for _ in range(6):  # psycopg prepares a statement of its own on its sixth run
        pg.execute("SELECT 2").fetchall()
    pg.rollback()  # ... and so deallocates every prepared statement (ours too) on a rollback
    pg.autocommit = True
    assert ours(pg) == set()
    assert plain.rows("SELECT ?::int + 1, ?::text", [1, "a"]) == [(2, "a")]  # prepared again
    assert len(ours(pg)) == 1


def test_a_connection_keeps_at_most_so_many_statements_prepared(
    pg: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pg_plain, "PREPARED_MAX", 2)
    plain = pg_plain.PgPlain(pg)
    for n in (1, 2, 3, 1):
        assert plain.rows(f"SELECT {n} + ?::int", [1]) == [(n + 1,)]
    assert len(ours(pg)) == 2


def test_a_failing_statement_raises_psycopgs_error_and_leaves_the_connection_usable(pg: Any) -> None:
    plain = pg_plain.PgPlain(pg)
    with pytest.raises(psycopg.errors.UndefinedTable):
        plain.rows("SELECT * FROM no_such_table WHERE id = ?", ["x"])
    with pytest.raises(psycopg.errors.DivisionByZero):
        plain.rows("SELECT 1 / ?::int", [0])
    assert plain.alone()
    assert plain.rows("SELECT 1 / ?::int", [1]) == [(1,)]
