"""Revision 0017 (the send queue keyed by integers, claimed as ranges) on a half-sent campaign, both stores.

A campaign is sent in part: some messages sent, a range claimed by a worker that then died,
one message retried, the rest queued. The database is taken back to revision 0016 (the queue
keyed by campaign key and point id, each claimed row marked with its worker), then upgraded
again; the send then finishes: every allowed person has exactly one message, none twice,
none lost.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from alembic import command
from test_campaign_send import CAMPAIGN, FAST, Server, dkim_key, load, person, point_no, rows, server, shop

from consentry.adapters.sql import schema
from consentry.bootstrap import App
from consentry.domain.campaigns import CampaignStatus
from consentry.services import campaigns, sending

__all__ = ["dkim_key", "server", "shop"]  # the fixtures, from test_campaign_send

PEOPLE = [f"klant{i:02d}@example.nl" for i in range(12)]


def half_sent(shop: App) -> tuple[list[str], str]:
    """The campaign sent in part: two messages sent, a range of two claimed by a worker that
    then died, one queued message waiting for a retry, the rest queued, one person skipped.
    The dead worker's points and the retried one."""
    load(shop, *(person(a, a) for a in PEOPLE), person("nee@example.nl", "Nee", consent=False))
    campaigns.define(shop, CAMPAIGN)

    def pause_after_the_first(claimed: list[str]) -> None:
        sending.pause(shop, "najaar", "half way")

    first = sending.send(shop, "najaar", FAST, after_claim=pause_after_the_first)
    assert first.status is CampaignStatus.PAUSED and first.sent == 2
    now = shop.clock.now()
    with shop.store.writer() as w:
        dead = [pid for _, pid, _, _ in w.claim("najaar", "dead-worker", 2, now)]
    queued = [pid for pid, row in rows(shop).items() if row["status"] == "queued"]
    with shop.store.writer() as w:
        w.retry("najaar", [(point_no(shop, queued[0]), "451 try later", now - timedelta(minutes=1))])
    return dead, queued[0]


def _before_0017(app: App) -> None:
    cfg = schema.alembic_config(app.store.engine)
    with app.store.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0016")


def _stored(app: App, sql: str) -> list[tuple[Any, ...]]:
    with app.store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def test_a_half_sent_campaign_is_converted_and_finishes_with_one_message_each(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    dead, retried = half_sent(shop)
    before = {pid: (row["status"], row["attempts"], row["rule"]) for pid, row in rows(shop).items()}
    assert Counter(s for s, _, _ in before.values()) == Counter(
        {"sent": 2, "claimed": 2, "queued": 8, "skipped": 1}
    )

    _before_0017(shop)
    assert schema.current_revision(shop.store.engine) == "0016"
    old = {
        pid: (status, attempts, rule, worker)
        for pid, status, attempts, rule, worker in _stored(
            shop, "SELECT contact_point_id, status, attempts, rule, worker FROM campaign_messages"
        )
    }
    # The old shape: the dead worker's range is claimed row by row, the retried row queued again.
    assert {pid: (s, a, r) for pid, (s, a, r, _) in old.items()} == before
    assert {pid for pid, row in old.items() if row[3] == "dead-worker"} == set(dead)
    assert old[retried][:2] == ("queued", 1)

    shop.store.migrate()
    assert schema.current_revision(shop.store.engine) == schema.head_revision(shop.store.engine)
    after = {pid: (row["status"], row["attempts"], row["rule"]) for pid, row in rows(shop).items()}
    assert after == before
    stored = dict(_stored(shop, "SELECT point_no, status FROM campaign_messages"))
    assert stored[point_no(shop, retried)] == "waiting"
    assert {stored[point_no(shop, pid)] for pid in dead} == {"claimed"}

    sending.resume(shop, "najaar")
    report = sending.send(shop, "najaar", FAST)
    assert report.status is CampaignStatus.DONE
    assert srv.by_rcpt == Counter({a: 1 for a in PEOPLE})
    final = rows(shop)
    assert Counter(row["status"] for row in final.values()) == Counter({"sent": 12, "skipped": 1})
    with shop.store.reader() as r:
        assert r.skipped_by_rule("najaar") == {
            before[next(p for p, s in before.items() if s[0] == "skipped")][2]: 1
        }


def test_an_empty_queue_goes_down_and_up_again(shop: App) -> None:
    campaigns.define(shop, CAMPAIGN)
    _before_0017(shop)
    assert _stored(shop, "SELECT key FROM campaigns") == [("najaar",)]
    shop.store.migrate()
    assert _stored(shop, "SELECT key, no FROM campaigns") == [("najaar", 1)]
    campaigns.define(shop, {**CAMPAIGN, "key": "winter"})
    assert _stored(shop, "SELECT key, no FROM campaigns ORDER BY no") == [("najaar", 1), ("winter", 2)]
