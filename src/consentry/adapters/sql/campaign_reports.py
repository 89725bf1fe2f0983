"""Where a campaign's messages stand, read from its queue as the domain names the statuses.

A `queued` row at or below the campaign's cursor is claimed (by the range that holds it),
a `waiting` one is queued (see `campaign_queue`); the rest read as stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.campaign_queue import (
    CLAIMED,
    DUE,
    QUEUED,
    SENT,
    SKIPPED,
    WAITING,
    cursor,
    due,
    number,
)
from consentry.domain.campaigns import MessageStatus

c = t.campaign_messages.c
p = t.contact_points.c


def _status(conn: Connection, no: int) -> sa.ColumnElement[str]:
    """The row's status as the domain names it."""
    top = cursor(conn, no)
    return sa.case(
        (sa.and_(c.status == QUEUED, c.point_no <= top), CLAIMED),
        (c.status == WAITING, QUEUED),
        else_=c.status,
    )


def counts(conn: Connection, key: str) -> dict[str, int]:
    """How many messages are in each status."""
    no = number(conn, key)
    status = _status(conn, no).label("status")
    q = sa.select(status, sa.func.count()).where(c.campaign_no == no).group_by(status)
    found = {s.value: 0 for s in MessageStatus}
    for name, n in conn.execute(q):
        found[name] += int(n)
    return found


def skipped_by_rule(conn: Connection, key: str) -> dict[str, int]:
    """How many messages each rule kept from being sent, most first."""
    q = (
        sa.select(c.rule, sa.func.count().label("n"))
        .where(c.campaign_no == number(conn, key), c.status == SKIPPED)
        .group_by(c.rule)
        .order_by(sa.desc("n"), c.rule)
    )
    return {str(rule): int(n) for rule, n in conn.execute(q)}


def unsubscribed_since(conn: Connection, key: str) -> int:
    """How many people a campaign reached unsubscribed after their message was sent."""
    e = t.events.c
    later = sa.exists().where(
        e.contact_point_id == p.id, e.occurred_at >= c.sent_at, e.type == "unsubscribed"
    )
    q = (
        sa.select(sa.func.count())
        .select_from(t.campaign_messages.join(t.contact_points, p.registered_seq == c.point_no))
        .where(c.campaign_no == number(conn, key), c.status == SENT, later)
    )
    return int(conn.execute(q).scalar_one())


def next_due(conn: Connection, key: str) -> datetime | None:
    """When the earliest queued message is due (None: nothing queued)."""
    no = number(conn, key)
    waiting = sa.select(sa.func.min(c.next_attempt_at)).where(c.campaign_no == no, c.status == WAITING, DUE)
    unclaimed = sa.select(sa.func.min(due(no))).where(
        c.campaign_no == no, c.status == QUEUED, c.point_no > cursor(conn, no)
    )
    found = [
        d
        for d in (conn.execute(waiting).scalar_one_or_none(), conn.execute(unclaimed).scalar_one_or_none())
        if d
    ]
    return min(found) if found else None


def messages(conn: Connection, key: str, status: MessageStatus | None = None) -> list[dict[str, Any]]:
    """The queue's rows (all, or in one status), by contact point id: each with its campaign's
    key, the point's id and number, and its status as the domain names it."""
    no = number(conn, key)
    shown = _status(conn, no)
    hidden = ("campaign_no", "status", "contact_point_id")  # the id: the point's, joined below
    columns: list[sa.ColumnElement[Any]] = [
        due(no).label(col.name) if col.name == "next_attempt_at" else col
        for col in t.campaign_messages.columns
        if col.name not in hidden
    ]
    q = (
        sa.select(
            sa.literal(key).label("campaign"), p.id.label("contact_point_id"), shown.label("status"), *columns
        )
        .select_from(t.campaign_messages.join(t.contact_points, p.registered_seq == c.point_no))
        .where(c.campaign_no == no)
    )
    if status is not None:
        q = q.where(shown == status.value)
    return [dict(r._mapping) for r in conn.execute(q.order_by(p.id))]
