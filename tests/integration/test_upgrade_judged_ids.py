"""Revision 0022 (SQLite's covering index of `point_facts` holds the point's id, and a queue's fill
reads it) on a half-sent campaign, both stores.

A campaign is sent in part (some messages sent, a range claimed by a worker that then died, one
message retried, the rest queued, one person skipped). The database is taken back to 0021 (the
index without the id; PostgreSQL has no such index) and upgraded again: the queue lists as it did,
a second campaign filled after the upgrade holds the same rows as one filled before it (the fill
then read the table), and the half-sent campaign finishes with exactly one message each.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from alembic import command
from test_campaign_send import CAMPAIGN, FAST, Server, dkim_key, rows, server, shop
from test_upgrade_integer_queue import PEOPLE, half_sent

from consentry.adapters.sql import schema
from consentry.adapters.sql import tables as t
from consentry.bootstrap import App
from consentry.domain.campaigns import CampaignStatus
from consentry.services import audience, campaigns, sending

__all__ = ["dkim_key", "server", "shop"]  # the fixtures, from test_campaign_send


def _indexed(app: App) -> list[str] | None:
    """SQLite's covering index's columns (None on PostgreSQL, which has no such index)."""
    if app.store.engine.dialect.name != "sqlite":
        return None
    with app.store.engine.connect() as conn:
        return [str(row[2]) for row in conn.exec_driver_sql("PRAGMA index_info(ix_point_facts_judged)")]


def _filled(app: App, key: str) -> list[tuple[Any, ...]]:
    """A second campaign's queue as its fill wrote it (each row's number, status, rule and id)."""
    campaigns.define(app, {**CAMPAIGN, "key": key})
    sending.start(app, key)
    with app.store.engine.connect() as conn:
        sql = (
            "SELECT m.point_no, m.status, m.rule, m.contact_point_id FROM campaign_messages m "
            "JOIN campaigns c ON c.no = m.campaign_no WHERE c.key = :key ORDER BY m.point_no"
        )
        return [tuple(row) for row in conn.execute(sa.text(sql), {"key": key})]


def _listed(app: App) -> dict[str, tuple[Any, ...]]:
    return {
        pid: (m["status"], m["attempts"], m["rule"], m["next_attempt_at"]) for pid, m in rows(app).items()
    }


def _fill_plan(app: App) -> str:
    target, selection = audience.of_campaign(app, "najaar")
    with app.store.reader() as r:
        built = audience.build(r, app.pack, target, selection, app.clock.now())
        found = r.conn.execute(sa.text("EXPLAIN QUERY PLAN " + built.keyed), dict(built.params)).all()
    return " | ".join(str(row[-1]) for row in found)


def test_a_half_sent_queue_goes_down_to_0021_and_up_again_and_the_fill_reads_the_index(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    half_sent(shop)
    sqlite = shop.store.engine.dialect.name == "sqlite"
    assert _indexed(shop) == ([*t.COVERED] if sqlite else None)
    if sqlite:
        assert "COVERING INDEX ix_point_facts_judged (kind=?)" in _fill_plan(shop)
    before = _listed(shop)

    cfg = schema.alembic_config(shop.store.engine)
    with shop.store.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0021")
    assert schema.current_revision(shop.store.engine) == "0021"
    assert _indexed(shop) == ([*t.JUDGED] if sqlite else None)
    old = _filled(shop, "voorjaar")  # filled from the index without the ids (SQLite: and the table)

    shop.store.migrate()
    assert schema.current_revision(shop.store.engine) == schema.head_revision(shop.store.engine)
    assert _indexed(shop) == ([*t.COVERED] if sqlite else None)
    assert _listed(shop) == before  # statuses, attempts, rules and due moments as they were
    new = _filled(shop, "zomer")
    assert new == old
    assert Counter(status for _, status, _, _ in new) == Counter({"queued": 12, "skipped": 1})
    assert {pid is None for _, status, _, pid in new if status == "skipped"} == {True}

    sending.resume(shop, "najaar")
    report = sending.send(shop, "najaar", FAST)
    assert report.status is CampaignStatus.DONE
    assert srv.by_rcpt == Counter({a: 1 for a in PEOPLE})
    assert Counter(m["status"] for m in rows(shop).values()) == Counter({"sent": 12, "skipped": 1})
