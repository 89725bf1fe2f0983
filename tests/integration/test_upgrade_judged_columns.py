"""Revision 0018 (`point_facts` with the columns a report reads first) on a populated database, both stores.

The database is taken back to revision 0017 (0014's order, the person's flags last), then
upgraded again: every row keeps every value, the columns stand in the order `tables.py` gives,
the indexes are there, the audience answers as before and the projection still matches the
ledger, also after a later write.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from conftest import (
    define_purposes,
    make_app,
    point_facts_indexes,
    report_answers,
    sqlite_file_after_plain_upgrade,
)
from consentry.adapters.sql import schema
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.engine import create_engine
from consentry.bootstrap import App
from consentry.services import audit, ledger
from contact_people import people


@pytest.fixture
def populated(store_url: str) -> Iterator[App]:
    """Jan (e-mail and phone, one person) objects on his phone; Piet consents for a year."""
    app = make_app(store_url)
    define_purposes(app)
    people(app)
    records = [
        {"type": "objection.recorded", "contact": "0612345678", "scope": "direct_marketing"},
        {"type": "consent.given", "contact": "piet@example.nl", "purpose": "nieuwsbrief",
         "channels": ["email"], "method": "single_opt_in", "valid_for_months": 12},
    ]  # fmt: skip
    ledger.append_records(app, enumerate(records, 1))
    yield app
    app.store.engine.dispose()


def _rows(app: App) -> list[dict[str, Any]]:
    with app.store.engine.connect() as conn:
        found = conn.execute(sa.text("SELECT * FROM point_facts ORDER BY point_no")).mappings().all()
    return [dict(row) for row in found]


def _order(app: App) -> list[str]:
    with app.store.engine.connect() as conn:
        return [c["name"] for c in sa.inspect(conn).get_columns("point_facts")]


def _to_0017(app: App) -> None:
    cfg = schema.alembic_config(app.store.engine)
    with app.store.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0017")


def test_a_populated_0017_database_gets_the_judged_columns_first_and_keeps_every_value(
    populated: App,
) -> None:
    app = populated
    rows, before, indexes = _rows(app), report_answers(app), point_facts_indexes(app)
    assert rows and ("EU-GDPR-04", 1) in before[0][2]  # Jan's e-mail, by his person's objection
    _to_0017(app)
    assert schema.current_revision(app.store.engine) == "0017"
    order = _order(app)
    assert order == _created_at_0017()
    # 0020's downgrade gives 0017 its `attrs_ct` back, empty (the attributes are in the ledger)
    assert [{k: v for k, v in row.items() if k != "attrs_ct"} for row in _rows(app)] == rows
    assert {row["attrs_ct"] for row in _rows(app)} == {None}
    app.store.migrate()
    assert schema.current_revision(app.store.engine) == schema.head_revision(app.store.engine)
    assert _order(app) == [c.name for c in t.point_facts.columns]
    assert _order(app)[1 : len(t.JUDGED)] == [c for c in t.JUDGED if c != "point_no"]
    assert _rows(app) == rows
    assert point_facts_indexes(app) == indexes
    assert report_answers(app) == before
    assert audit.verify_projection(app).ok
    # The writer writes the new table as before: a withdrawal moves Jan's e-mail out of the objection.
    withdrawn = {"type": "objection.withdrawn", "contact": "0612345678", "scope": "direct_marketing"}
    ledger.append_records(app, [(1, withdrawn)])
    assert report_answers(app) != before
    assert audit.verify_projection(app).ok


def _created_at_0017() -> list[str]:
    """`point_facts`'s columns in a database the migrations take from nothing to 0017."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/at-0017.db")
        cfg = schema.alembic_config(engine)
        with engine.connect() as conn, conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0017")
        with engine.connect() as conn:
            order = [c["name"] for c in sa.inspect(conn).get_columns("point_facts")]
        engine.dispose()
    return order


def test_run_on_an_engine_of_its_own_the_rewrite_leaves_no_copy_of_a_row_in_the_file(populated: App) -> None:
    """As `alembic upgrade` on stock SQLite (`secure_delete` off), 0018 still zeroes the old
    table's pages: each point's value hash is in the file once (its row), not twice."""
    app = populated
    if app.store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's file only")
    _to_0017(app)
    hashes = [row["value_hash"] for row in _rows(app)]
    assert hashes
    stored = sqlite_file_after_plain_upgrade(app, "0018")
    assert [stored.count(h) for h in hashes] == [1] * len(hashes)
