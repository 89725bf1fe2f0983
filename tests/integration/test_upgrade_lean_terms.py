"""Revision 0011 (lean search terms) on a populated database, on both stores.

The database is made as revision 0010 left it: the projection in its 0010 shape (terms keyed
by the 26-character point id, 16-byte indexes, a term for every attribute), filled as 0010's
code filled it. After `consentry init`'s upgrade the projection is rebuilt from the ledger:
8-byte search terms keyed by the point's number, selection terms in `point_facts`, none for
an attribute that names a number, and search, selection and the projection check answer as
before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command

from conftest import define_purposes, make_app
from consentry.adapters.sql import schema
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.projection import term_token
from consentry.adapters.sql.upgrade_v2 import UpgradeRefused
from consentry.bootstrap import App
from consentry.domain.campaigns import Selection
from consentry.domain.fold import fold
from consentry.policy.factrows import attribute_term, source_term, tag_term, words
from consentry.services import audience, audit, ledger, search
from consentry.services.errors import InputError
from contact_people import people
from old_facts import as_tokens

PHONE_ATTRIBUTE = ("telefoon", "0201234567")


def _extra(app: App) -> None:
    """Attributes on two people: a town (selectable) and a phone number (not)."""
    records = [
        {"type": "attributes.set", "contact": "jan@example.nl", "attributes": {"woonplaats": "Zwolle"}},
        {
            "type": "attributes.set",
            "contact": "piet@example.nl",
            "attributes": {"woonplaats": "Zwolle", PHONE_ATTRIBUTE[0]: PHONE_ATTRIBUTE[1]},
        },
    ]
    ledger.append_records(app, enumerate(records, 1))


def _old_terms(app: App) -> list[tuple[str, bytes]]:
    """The point_terms rows 0010's code wrote: every attribute, keyed by id, 16-byte indexes."""
    rows: list[tuple[str, bytes]] = []
    with app.store.reader() as r:
        for pid, events in r.events_for_many(r.point_ids()).items():
            s = fold(pid, events)
            found = [f"name:{w}" for w in words(s.display_name)] if s.display_name else []
            found += [attribute_term(k, v) for k, v in s.attributes.items()]
            found += [tag_term(x) for x in sorted(s.tags)]
            found += [source_term(s.source_detail)] if s.source_detail else []
            rows += [(pid, app.store.vault.blind.index("term", x)) for x in dict.fromkeys(found)]
    return rows


def _as_0010(app: App) -> None:
    """Turn the database into a populated revision 0010 one (the projection as 0010 kept it)."""
    engine = app.store.engine
    with app.store.reader() as r:
        bits = r.fact_bits()
        facts = [as_tokens(dict(m), bits) for m in r.conn.execute(sa.select(t.point_facts)).mappings()]
    terms = _old_terms(app)
    cfg = schema.alembic_config(engine)
    with engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0010")
        old = sa.MetaData()
        old.reflect(conn, only=["point_facts", "point_terms"])
        assert "point_no" not in old.tables["point_facts"].c
        conn.execute(old.tables["point_facts"].insert(), [_without_point_no(f) for f in facts])
        conn.execute(
            old.tables["point_terms"].insert(), [{"contact_point_id": p, "term": x} for p, x in terms]
        )
        conn.execute(sa.text("DELETE FROM contact_objections"))


def _without_point_no(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "point_no"}


def _answers(app: App) -> tuple[Any, ...]:
    def values(found: search.Found) -> list[str]:
        return sorted(p.value for p in found.points)

    target = audience.Target.of("email", "nieuwsbrief")
    zwolle = Selection(attribute=("woonplaats", "Zwolle"))
    return (
        values(search.search(app, "jansen")),
        values(search.search(app, "Jansen Jan")),
        values(search.search(app, "tag:vip")),
        audience.report(app, target, zwolle).considered,
    )


@pytest.fixture
def populated(store_url: str) -> Iterator[App]:
    app = make_app(store_url)
    define_purposes(app)
    people(app)
    _extra(app)
    yield app
    app.store.engine.dispose()


def test_a_populated_0010_database_gets_its_terms_rebuilt_lean(populated: App) -> None:
    app = populated
    before = _answers(app)
    assert before == (
        ["+31612345678", "jan@example.nl", "piet@example.nl"],
        ["+31612345678", "jan@example.nl"],
        ["janneke@example.nl", "piet@example.nl"],
        2,
    )
    _as_0010(app)
    assert schema.current_revision(app.store.engine) == "0010"
    app.store.migrate()
    assert schema.current_revision(app.store.engine) == schema.head_revision(app.store.engine)
    assert _answers(app) == before
    with app.store.engine.connect() as conn:
        terms = conn.execute(sa.text("SELECT point_no, term FROM point_terms")).all()
        numbers = dict(conn.execute(sa.text("SELECT contact_point_id, point_no FROM point_facts")).all())
        registered = dict(conn.execute(sa.text("SELECT id, registered_seq FROM contact_points")).all())
    assert numbers == registered
    assert terms and all(len(bytes(x)) == 8 for _, x in terms)
    blind = app.store.vault.blind
    phone, town = (blind.term(attribute_term(*a)) for a in (PHONE_ATTRIBUTE, ("woonplaats", "Zwolle")))
    assert phone not in {bytes(x) for _, x in terms}
    with app.store.engine.connect() as conn:
        selected = [row[0] for row in conn.execute(sa.text("SELECT selected_by FROM point_facts"))]
    assert sum(f"|{term_token(town)}|" in x for x in selected) == 2
    assert not any(term_token(phone) in x for x in selected)
    assert audit.verify_projection(app).ok
    with pytest.raises(InputError, match="not selectable"):
        audience.parse_selection(attribute="=".join(PHONE_ATTRIBUTE))


def test_without_the_keys_the_rebuild_is_refused_and_nothing_changes(
    populated: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = populated
    _as_0010(app)
    with app.store.engine.connect() as conn:
        old_terms = conn.execute(sa.text("SELECT count(*) FROM point_terms")).scalar_one()
    monkeypatch.delenv("CONSENTRY_MASTER_KEY")
    monkeypatch.delenv("CONSENTRY_BLIND_INDEX_KEY")
    engine = sa.create_engine(app.store.engine.url)
    try:
        with pytest.raises(UpgradeRefused) as refused:
            schema.upgrade(engine)  # as `consentry init` without keys: from the settings
    finally:
        engine.dispose()
    assert "CONSENTRY_MASTER_KEY" in str(refused.value) and "Nothing was changed" in str(refused.value)
    assert schema.current_revision(app.store.engine) == "0010"
    with app.store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM point_terms")).scalar_one() == old_terms
        columns = {c["name"] for c in sa.inspect(conn).get_columns("point_terms")}
    assert "contact_point_id" in columns
