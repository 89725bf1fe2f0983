"""Revision 0014 (typed facts) on a populated database, on both stores.

The database is made as revision 0013 left it: `point_facts` with its token strings
(`|nieuwsbrief/email|`), filled as 0013's code filled it, and its search terms, listings and
objections. After the upgrade the projection is rebuilt from the ledger: bit masks numbered
in `fact_bits`, and the audience, search and the projection check answer as before.
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
from consentry.bootstrap import App
from consentry.domain.campaigns import Selection
from consentry.services import audience, audit, ledger, search
from contact_people import people
from old_facts import as_tokens

#: A category as long as the ledger takes one (200 characters), longer once its `/`s are escaped.
LONG = "koffie/" * 28 + "thee"

#: The projection tables 0014 empties and rebuilds besides `point_facts`.
_OTHERS = ("point_terms", "point_listings", "contact_objections")


def _extra(app: App) -> None:
    """Opt-outs, an objection, a purchase and a register listing: every kind of mask in use."""
    records = [
        {"type": "unsubscribed", "contact": "piet@example.nl", "purpose": "nieuwsbrief"},
        {"type": "objection.recorded", "contact": "0612345678", "scope": "direct_marketing"},
        {"type": "purchase.recorded", "contact": "janneke@example.nl", "categories": ["koffie", LONG],
         "opt_out_offered": True},
        {"type": "register.listed", "contact": "0612345678", "register": "bel-me-niet"},
        {"type": "consent.given", "contact": "janneke@example.nl", "purpose": "nieuwsbrief",
         "channels": ["email"], "method": "single_opt_in"},
    ]  # fmt: skip
    ledger.append_records(app, enumerate(records, 1))


def _as_0013(app: App) -> None:
    """Turn the database into a populated revision 0013 one (point_facts as 0013 kept it)."""
    engine = app.store.engine
    with app.store.reader() as r:
        bits = r.fact_bits()
        facts = [dict(m) for m in r.conn.execute(sa.select(t.point_facts)).mappings()]
        others = {
            x: [dict(m) for m in r.conn.execute(sa.select(t.metadata.tables[x])).mappings()] for x in _OTHERS
        }
    cfg = schema.alembic_config(engine)
    with engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0013")
        old = sa.MetaData()
        old.reflect(conn, only=["point_facts"])
        assert "more" not in old.tables["point_facts"].c
        assert not sa.inspect(conn).has_table("fact_bits")
        conn.execute(old.tables["point_facts"].insert(), [as_tokens(f, bits) for f in facts])
        for table, rows in others.items():
            if rows:
                conn.execute(t.metadata.tables[table].insert(), rows)


def _answers(app: App) -> tuple[Any, ...]:
    out: list[Any] = [sorted(p.value for p in search.search(app, "tag:vip").points)]
    for channel in ("email", "phone"):
        report = audience.report(app, audience.Target.of(channel, "nieuwsbrief"), Selection())
        out.append(
            (report.considered, report.included_count, sorted((c.rule.id, c.count) for c in report.excluded))
        )
    subscribers = Selection(subscribers_of="nieuwsbrief")
    out.append(audience.report(app, audience.Target.of("email", "nieuwsbrief"), subscribers).considered)
    return tuple(out)


@pytest.fixture
def populated(store_url: str) -> Iterator[App]:
    app = make_app(store_url)
    define_purposes(app)
    people(app)
    _extra(app)
    yield app
    app.store.engine.dispose()


def test_a_populated_0013_database_gets_its_facts_rebuilt_as_bit_masks(populated: App) -> None:
    app = populated
    before = _answers(app)
    assert before[-1] == 2  # Jan and Janneke gave their consent to the newsletter
    _as_0013(app)
    assert schema.current_revision(app.store.engine) == "0013"
    with app.store.engine.connect() as conn:
        valid = conn.execute(sa.text("SELECT c_valid FROM point_facts")).scalars().all()
    assert "|nieuwsbrief/email|" in valid
    app.store.migrate()
    assert schema.current_revision(app.store.engine) == schema.head_revision(app.store.engine)
    assert _answers(app) == before
    with app.store.engine.connect() as conn:
        masks = conn.execute(sa.text("SELECT c_valid, opt_outs, listed, more FROM point_facts")).all()
        numbered = conn.execute(sa.text("SELECT col, token, bit FROM fact_bits")).all()
    assert all(isinstance(v, int) for row in masks for v in row[:3])
    assert {m[3] for m in masks} == {"|"}
    assert ("c_valid", "nieuwsbrief/email", 0) in {tuple(n) for n in numbered}
    assert audit.verify_projection(app).ok
