"""Revision 0020 (no sealed copy of a point's attributes on its projection row; SQLite's
`data_keys` WITHOUT ROWID), on both stores.

A populated database is taken back to revision 0019 (with `point_facts.attrs_ct`, `data_keys`
with a rowid) and upgraded again: every projection row and every data key is kept, the column
is gone, the projection check passes, and a point's attributes are read from the ledger as
recorded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from conftest import define_purposes, make_app, sqlite_file_after_plain_upgrade
from consentry.adapters.sql import schema
from consentry.bootstrap import App
from consentry.domain.fold import fold
from consentry.services import audit, ledger
from contact_people import people

ATTRIBUTES = {"First Name": "Sanne", "Plaats": "Amsterdam", "mailchimp.MEMBER_RATING": "5"}


@pytest.fixture
def populated(store_url: str) -> Iterator[App]:
    """The contact people, and Sanne with a Mailchimp member's attributes."""
    app = make_app(store_url)
    define_purposes(app)
    people(app)
    sanne = {"type": "contact_point.registered", "kind": "email", "value": "sanne@example.nl",
             "source": "import", "display_name": "Sanne de Boer", "attributes": ATTRIBUTES}  # fmt: skip
    ledger.append_records(app, [(1, sanne)])
    yield app
    app.store.engine.dispose()


def _columns(app: App) -> set[str]:
    with app.store.engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns("point_facts")}


def _keys_table(app: App) -> tuple[list[tuple[object, ...]], bool | None]:
    """The data keys as stored, and on SQLite whether their table has a rowid (None elsewhere)."""
    with app.store.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(sa.text("SELECT * FROM data_keys ORDER BY contact_id"))]
        if conn.dialect.name != "sqlite":
            return rows, None
        sql = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'data_keys'")).scalar_one()
        return rows, "WITHOUT ROWID" not in sql


def _to(app: App, revision: str, down: bool) -> None:
    cfg = schema.alembic_config(app.store.engine)
    with app.store.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def _attributes(app: App) -> dict[str, str]:
    with app.store.reader() as r:
        (pid,) = [
            p
            for p, evs in r.events_for_many(r.point_ids()).items()
            if evs[0].payload["value"] == "sanne@example.nl"
        ]
        return dict(fold(pid, r.events_for(pid)).attributes)


def test_the_projection_keeps_no_copy_of_the_attributes_which_the_ledger_holds(populated: App) -> None:
    assert "attrs_ct" not in _columns(populated)
    assert _keys_table(populated)[1] in (False, None)  # SQLite: WITHOUT ROWID
    assert _attributes(populated) == ATTRIBUTES
    assert audit.verify_projection(populated).ok


def test_a_populated_database_downgraded_to_0019_and_upgraded_again_keeps_every_row(populated: App) -> None:
    app = populated
    kept = sa.text(
        "SELECT contact_point_id, c_valid, contact_id, value_ct, name_ct FROM point_facts ORDER BY point_no"
    )
    with app.store.engine.connect() as conn:
        rows = conn.execute(kept).all()
    keys, _ = _keys_table(app)
    assert len(rows) == 5 and len(keys) == 4  # Jan's two points share his contact's key
    sqlite = app.store.engine.dialect.name == "sqlite"
    _to(app, "0019", down=True)
    assert "attrs_ct" in _columns(app)
    assert _keys_table(app) == (keys, True if sqlite else None)
    with app.store.engine.connect() as conn:
        assert conn.execute(kept).all() == rows
        assert (
            conn.execute(sa.text("SELECT count(*) FROM point_facts WHERE attrs_ct IS NOT NULL")).scalar_one()
            == 0
        )
    app.store.migrate()
    assert schema.current_revision(app.store.engine) == schema.head_revision(app.store.engine)
    assert "attrs_ct" not in _columns(app)
    assert _keys_table(app) == (keys, False if sqlite else None)
    with app.store.engine.connect() as conn:
        assert conn.execute(kept).all() == rows
    assert audit.verify_projection(app).ok
    assert _attributes(app) == ATTRIBUTES


def test_rewriting_sqlites_data_keys_leaves_no_second_copy_of_a_key_in_the_file(populated: App) -> None:
    """Run as `alembic upgrade` on an engine of its own (here with `secure_delete` off, as
    stock SQLite has it), 0020 still zeroes the old table's pages: every wrapped key is in the
    file once, so destroying it at an erasure destroys it."""
    app = populated
    if app.store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's file only: PostgreSQL keeps its table")
    _to(app, "0019", down=True)
    keys, _ = _keys_table(app)
    stored = sqlite_file_after_plain_upgrade(app, "0020")
    wrapped = [row[2] for row in keys]
    assert wrapped and all(isinstance(w, bytes) for w in wrapped)
    assert [stored.count(w) for w in wrapped] == [1] * len(wrapped)
