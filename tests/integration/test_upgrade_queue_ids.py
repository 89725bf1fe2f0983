"""Revision 0019 (the send queue carries each queued point's id) on a half-sent campaign, both stores.

A campaign is sent in part: some messages sent, a range claimed by a worker that then died,
one message retried, the rest queued. The database is taken back to revision 0018 (the ids
looked up in `point_facts` at each claim), then upgraded again: every row a claim may still
read has its point's id, and the send finishes with exactly one message each.
"""

from __future__ import annotations

from collections import Counter

import sqlalchemy as sa
from alembic import command
from test_campaign_send import FAST, Server, dkim_key, point_no, rows, server, shop
from test_upgrade_integer_queue import PEOPLE, half_sent

from consentry.adapters.sql import schema
from consentry.bootstrap import App
from consentry.domain.campaigns import CampaignStatus
from consentry.services import sending

__all__ = ["dkim_key", "server", "shop"]  # the fixtures, from test_campaign_send


def _columns(app: App) -> set[str]:
    return {c["name"] for c in sa.inspect(app.store.engine).get_columns("campaign_messages")}


def test_a_half_sent_queue_gets_its_ids_and_finishes_with_one_message_each(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    half_sent(shop)
    before = {pid: (row["status"], row["attempts"], row["rule"]) for pid, row in rows(shop).items()}

    cfg = schema.alembic_config(shop.store.engine)
    with shop.store.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0018")
    assert schema.current_revision(shop.store.engine) == "0018"
    assert "contact_point_id" not in _columns(shop)
    shop.store.migrate()
    assert schema.current_revision(shop.store.engine) == schema.head_revision(shop.store.engine)
    assert "contact_point_id" in _columns(shop)
    after = {pid: (row["status"], row["attempts"], row["rule"]) for pid, row in rows(shop).items()}
    assert after == before
    with shop.store.engine.connect() as conn:
        stored = conn.execute(
            sa.text("SELECT point_no, status, contact_point_id FROM campaign_messages")
        ).all()
    waiting = {no: pid for no, status, pid in stored if status in ("queued", "waiting", "claimed")}
    assert len(waiting) == 10 and waiting == {point_no(shop, pid): pid for pid in waiting.values()}
    assert {pid for _, status, pid in stored if status not in ("queued", "waiting", "claimed")} == {None}

    sending.resume(shop, "najaar")
    report = sending.send(shop, "najaar", FAST)
    assert report.status is CampaignStatus.DONE
    assert srv.by_rcpt == Counter({a: 1 for a in PEOPLE})
    assert Counter(row["status"] for row in rows(shop).values()) == Counter({"sent": 12, "skipped": 1})
