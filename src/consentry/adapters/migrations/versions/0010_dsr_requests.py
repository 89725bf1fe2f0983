"""Data-subject requests with their deadlines.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

`dsr_requests` tracks each request (GDPR Art. 12(3), 15-21): ids, codes and
moments only; what people wrote stays in the ledger events the row names.
(`point_facts.restricted`, GDPR Art. 18, came with storage v2's projection in 0009.)

Requests recorded before (`request.received` from the preference centre or the API,
which nothing tracked) become open requests with their deadline, so none is lost;
those of erased points are not (the erasure answered them). The deadline is counted
here as `consentry.domain.dsr` counts it, without importing the application.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_VIA = {"preference_centre", "api", "email", "letter", "phone", "in_person"}

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dsr_requests",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("contact_point_id", sa.String(40), nullable=False),
        sa.Column("contact_ref", sa.Text, nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("via", sa.String(32), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
        sa.Column("received_event", sa.String(40), nullable=False),
        sa.Column("due_at", sa.DateTime, nullable=False),
        sa.Column("extended_until", sa.DateTime, nullable=True),
        sa.Column("extension_event", sa.String(40), nullable=True),
        sa.Column("extension_notified_at", sa.DateTime, nullable=True),
        sa.Column("identity", sa.String(16), nullable=False),
        sa.Column("identity_method", sa.String(32), nullable=True),
        sa.Column("identity_checked_at", sa.DateTime, nullable=True),
        sa.Column("handler", sa.String(120), nullable=True),
        sa.Column("handled_at", sa.DateTime, nullable=True),
        sa.Column("outcome_event", sa.String(40), nullable=True),
        sa.Column("person_told_at", sa.DateTime, nullable=True),
        sa.Column("reminded_on", sa.Date, nullable=True),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_dsr_requests_state_due", "dsr_requests", ["state", "due_at"])
    op.create_index("ix_dsr_requests_point", "dsr_requests", ["contact_point_id"])
    _track_earlier_requests()


def _add_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("every month has 28 days")


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _track_earlier_requests() -> None:
    conn = op.get_bind()
    erased = {
        row[0]
        for row in conn.execute(
            sa.text("SELECT contact_point_id FROM events WHERE type = 'contact_point.erased'")
        )
    }
    contacts = dict(conn.execute(sa.text("SELECT contact_point_id, contact_id FROM point_facts")).all())
    now = datetime.now(UTC).replace(tzinfo=None)
    rows: list[dict[str, Any]] = []
    found = conn.execute(
        sa.text(
            "SELECT id, contact_point_id, occurred_at, payload FROM events "
            "WHERE type = 'request.received' ORDER BY seq"
        ).columns(
            sa.column("id", sa.String),
            sa.column("contact_point_id", sa.String),
            sa.column("occurred_at", sa.DateTime),  # stored as naive UTC
            sa.column("payload", sa.JSON),
        )
    )
    for event_id, point, occurred, payload in found:
        p = json.loads(payload) if isinstance(payload, str) else payload
        if point in erased or "request_id" in p:
            continue
        received = occurred.replace(tzinfo=UTC) if occurred.tzinfo is None else occurred
        last = _add_month(received.astimezone(_AMSTERDAM).date())
        due = datetime.combine(last + timedelta(days=1), time(0), _AMSTERDAM)
        via = p.get("via") if p.get("via") in _VIA else "api"
        signed = via == "preference_centre"  # the signed link mailed to the address
        rows.append(
            {
                "id": "dsr_m" + hashlib.sha256(event_id.encode()).hexdigest()[:32],
                "contact_point_id": point,
                "contact_ref": contacts.get(point),
                "kind": p["request"],
                "state": "open",
                "via": via,
                "language": "nl",
                "received_at": _naive_utc(received),
                "received_event": event_id,
                "due_at": _naive_utc(due),
                "identity": "verified" if signed else "unverified",
                "identity_method": "signed_link" if signed else None,
                "identity_checked_at": _naive_utc(received) if signed else None,
                "updated_at": now,
            }
        )
    if rows:
        table = sa.table("dsr_requests", *(sa.column(name) for name in rows[0]))
        conn.execute(table.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_dsr_requests_point", "dsr_requests")
    op.drop_index("ix_dsr_requests_state_due", "dsr_requests")
    op.drop_table("dsr_requests")
