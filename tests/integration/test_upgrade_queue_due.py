"""Revision 0021 (a queue's rows due once, on the campaign: the fill writes no time on each row),
on a half-sent campaign, both stores.

The fill leaves `next_attempt_at` NULL on every row it writes: such a row is due since its
campaign's `queued_at`. The listing shows that moment, a hand-back writes it on the row (so the
row is claimed one by one, as before), a retry writes its own. The database is taken back to
revision 0020 (a time on every row) and upgraded again: every row as it was, and the send
finishes with exactly one message each.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import command
from test_campaign_send import CAMPAIGN, FAST, Server, dkim_key, load, person, point_no, rows, server, shop
from test_upgrade_integer_queue import PEOPLE, half_sent

from consentry.adapters.sql import schema
from consentry.bootstrap import App
from consentry.domain.campaigns import CampaignStatus
from consentry.services import campaigns, sending

__all__ = ["dkim_key", "server", "shop"]  # the fixtures, from test_campaign_send


def _stored(app: App, sql: str) -> list[tuple[Any, ...]]:
    with app.store.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.text(sql))]


def _nullable(app: App) -> bool:
    columns = sa.inspect(app.store.engine).get_columns("campaign_messages")
    return bool(next(c for c in columns if c["name"] == "next_attempt_at")["nullable"])


def _queued_at(app: App) -> datetime:
    with app.store.reader() as r:
        row = r.campaign("najaar")
    assert row is not None and row["queued_at"] is not None
    return row["queued_at"]  # type: ignore[no-any-return]


def _listed(app: App) -> dict[str, tuple[Any, ...]]:
    listed = rows(app)
    return {pid: (m["status"], m["attempts"], m["rule"], m["next_attempt_at"]) for pid, m in listed.items()}


def test_a_fresh_queue_is_due_at_its_fill_and_a_released_part_of_a_range_is_claimed_again(
    shop: App, server: tuple[Server, int]
) -> None:
    # No retry: what is due first is the fill's moment, which no row carries.
    srv, _ = server
    load(shop, *(person(a, a) for a in PEOPLE))
    campaigns.define(shop, CAMPAIGN)
    sending.start(shop, "najaar")
    filled = _queued_at(shop)
    assert _stored(shop, "SELECT count(*) FROM campaign_messages WHERE next_attempt_at IS NOT NULL") == [(0,)]
    with shop.store.writer() as w:
        assert w.next_due("najaar") == filled
        claimed = w.claim("najaar", "w1", 4, shop.clock.now())
    assert len(claimed) == 4
    given_back = [no for no, _, _, _ in claimed[:2]]
    with shop.store.writer() as w:  # two of the range never tried: handed back, due at the fill
        w.release("najaar", given_back, "w1")
    stored = dict(_stored(shop, "SELECT point_no, next_attempt_at FROM campaign_messages"))
    assert {no for no, at in stored.items() if at is not None} == set(given_back)
    assert {m["next_attempt_at"] for m in rows(shop).values()} == {filled}
    with shop.store.writer() as w:
        assert w.next_due("najaar") == filled
        again = w.claim("najaar", "w2", 2, shop.clock.now())
    assert [no for no, _, _, _ in again] == given_back  # claimed one by one, before the next range

    sending.resume(shop, "najaar")
    report = sending.send(shop, "najaar", FAST)
    assert report.status is CampaignStatus.DONE
    assert srv.by_rcpt == Counter({a: 1 for a in PEOPLE})


def test_the_fill_writes_no_time_on_its_rows_and_they_are_listed_and_handed_back_due_at_the_fill(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    dead, retried = half_sent(shop)
    filled = _queued_at(shop)
    stored = dict(_stored(shop, "SELECT point_no, next_attempt_at FROM campaign_messages"))
    timed = {no for no, at in stored.items() if at is not None}
    assert timed == {point_no(shop, retried)}  # the retry's own time; every other row as filled
    listed = rows(shop)
    assert {pid: m["next_attempt_at"] for pid, m in listed.items() if pid != retried} == {
        pid: filled for pid in listed if pid != retried
    }
    with shop.store.writer() as w:  # the unclaimed rows are due at the fill, the retried one at its time
        assert w.next_due("najaar") == min(filled, listed[retried]["next_attempt_at"])

    # The dead worker's range is handed back due at the fill, and claimed again one by one.
    with shop.store.writer() as w:
        assert w.requeue_claims("najaar", ["dead-worker"]) == 2
    assert {rows(shop)[pid]["next_attempt_at"] for pid in dead} == {filled}
    stored = dict(_stored(shop, "SELECT point_no, next_attempt_at FROM campaign_messages"))
    assert {stored[point_no(shop, pid)] is not None for pid in dead} == {True}
    with shop.store.writer() as w:
        again = w.claim("najaar", "w2", 3, shop.clock.now())
        w.release("najaar", [no for no, _, _, _ in again], "w2")
    assert {pid for _, pid, _, _ in again} == {*dead, retried}

    # Sent: nothing twice, nothing lost.
    sending.resume(shop, "najaar")
    report = sending.send(shop, "najaar", FAST)
    assert report.status is CampaignStatus.DONE
    assert srv.by_rcpt == Counter({a: 1 for a in PEOPLE})
    assert {rows(shop)[pid]["status"] for pid in dead} == {"sent"}


def test_a_half_sent_queue_goes_down_to_0020_and_up_again_and_finishes_with_one_message_each(
    shop: App, server: tuple[Server, int]
) -> None:
    srv, _ = server
    half_sent(shop)
    before = _listed(shop)
    assert Counter(s for s, _, _, _ in before.values()) == Counter(
        {"sent": 2, "claimed": 2, "queued": 8, "skipped": 1}
    )

    cfg = schema.alembic_config(shop.store.engine)
    with shop.store.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0020")
    assert schema.current_revision(shop.store.engine) == "0020"
    assert not _nullable(shop)
    assert "queued_at" not in {c["name"] for c in sa.inspect(shop.store.engine).get_columns("campaigns")}
    assert _stored(shop, "SELECT count(*) FROM campaign_messages WHERE next_attempt_at IS NULL") == [(0,)]
    with shop.store.engine.connect() as conn:  # SQLite: the key is still the table
        if conn.dialect.name == "sqlite":
            table = "SELECT sql FROM sqlite_master WHERE name = 'campaign_messages'"
            ddl = conn.execute(sa.text(table)).scalar()
            assert "WITHOUT ROWID" in str(ddl)

    shop.store.migrate()
    assert schema.current_revision(shop.store.engine) == schema.head_revision(shop.store.engine)
    assert _nullable(shop)
    with shop.store.engine.connect() as conn:  # SQLite: the upgrade's copy keeps the key as the table
        if conn.dialect.name == "sqlite":
            ddl = conn.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'campaign_messages'"))
            assert "WITHOUT ROWID" in str(ddl.scalar())
    after = _listed(shop)
    assert after == before  # statuses, attempts, rules and each row's due moment as they were
    # As a fill of 0021 leaves them: a time only on the row claimed one by one (the retried one).
    timed = _stored(shop, "SELECT status FROM campaign_messages WHERE next_attempt_at IS NOT NULL")
    assert timed == [("waiting",)]
    indexes = {i["name"] for i in sa.inspect(shop.store.engine).get_indexes("campaign_messages")}
    assert "ix_campaign_messages_due" in indexes

    sending.resume(shop, "najaar")
    report = sending.send(shop, "najaar", FAST)
    assert report.status is CampaignStatus.DONE
    assert srv.by_rcpt == Counter({a: 1 for a in PEOPLE})
    assert Counter(row["status"] for row in rows(shop).values()) == Counter({"sent": 12, "skipped": 1})
