"""Revision 0016 (the person's objections on every point) on a populated database, on both stores.

The database is taken back to revision 0015 (no `person_objected_*` columns: the audience SQL of
that revision looked the objecting contacts up in `contact_objections`), then upgraded again:
the columns are filled from the projection as it stands, every point of an objecting person
carries its objection, SQLite gets the report's covering index, and the audience and the
projection check answer as before.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from conftest import define_purposes, make_app, point_facts_indexes, report_answers
from consentry.adapters.sql import schema
from consentry.bootstrap import App
from consentry.services import audit, ledger
from contact_people import people

_FLAGS = ("person_objected_dm", "person_objected_profiling")


@pytest.fixture
def populated(store_url: str) -> Iterator[App]:
    """Jan (e-mail and phone, one person) objects to direct marketing on his phone; Piet (a point
    without a contact) to profiling; Kees, a second point of Jan's person, registered after it."""
    app = make_app(store_url)
    define_purposes(app)
    people(app)
    records = [
        {"type": "objection.recorded", "contact": "0612345678", "scope": "direct_marketing"},
        {"type": "objection.recorded", "contact": "piet@example.nl", "scope": "profiling"},
        {"type": "consent.given", "contact": "piet@example.nl", "purpose": "nieuwsbrief",
         "channels": ["email"], "method": "single_opt_in"},
    ]  # fmt: skip
    ledger.append_records(app, enumerate(records, 1))
    later = {"type": "contact_point.registered", "kind": "email", "value": "kees@example.nl",
             "source": "web_form", "contact_id": "K1"}  # fmt: skip
    ledger.append_records(app, [(1, later)])
    yield app
    app.store.engine.dispose()


def _flags(app: App) -> dict[str, tuple[bool, bool]]:
    with app.store.reader() as r:
        rows = r.conn.execute(sa.text(f"SELECT contact_point_id, {', '.join(_FLAGS)} FROM point_facts")).all()
    return {pid: (bool(dm), bool(prof)) for pid, dm, prof in rows}


def _columns(app: App) -> set[str]:
    with app.store.engine.connect() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns("point_facts")}


def _to(app: App, revision: str, down: bool) -> None:
    cfg = schema.alembic_config(app.store.engine)
    with app.store.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_a_populated_0015_database_gets_its_persons_objections_on_every_point(populated: App) -> None:
    app = populated
    flags, before = _flags(app), report_answers(app)
    # Jan's three points (his e-mail, his phone, Kees's address) carry the objection made on the phone.
    assert sorted(flags.values()) == [(False, False), (False, True), *[(True, False)] * 3]
    assert ("EU-GDPR-04", 2) in before[0][2]  # Jan's and Kees's e-mail, for the newsletter
    _to(app, "0015", down=True)
    assert schema.current_revision(app.store.engine) == "0015"
    assert not _columns(app) & set(_FLAGS)
    assert "ix_point_facts_judged" not in point_facts_indexes(app)
    with app.store.engine.connect() as conn:  # what 0015's audience read: the objections stay
        assert conn.execute(sa.text("SELECT count(*) FROM contact_objections")).scalar_one() == 1
    app.store.migrate()
    assert schema.current_revision(app.store.engine) == schema.head_revision(app.store.engine)
    assert _flags(app) == flags
    sqlite = app.store.engine.dialect.name == "sqlite"
    assert ("ix_point_facts_judged" in point_facts_indexes(app)) is sqlite  # the report's covering index
    assert report_answers(app) == before
    assert audit.verify_projection(app).ok


def test_the_downgrade_and_the_upgrade_again_keep_every_row(populated: App) -> None:
    app = populated
    kept = sa.text("SELECT contact_point_id, c_valid, contact_id FROM point_facts ORDER BY point_no")
    with app.store.engine.connect() as conn:
        rows = conn.execute(kept).all()
    _to(app, "0015", down=True)
    with app.store.engine.connect() as conn:
        assert conn.execute(kept).all() == rows
    _to(app, "0016", down=False)
    assert set(_FLAGS) <= _columns(app)
    assert audit.verify_projection(app).ok
