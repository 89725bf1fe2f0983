"""Storage v2: personal data sealed per contact, blind-index lookups, lean projections (issue #16).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

The changed tables are dropped and created anew. A database whose ledger holds events is
upgraded in the same transaction by `consentry.adapters.sql.upgrade_v2`: its events are
set aside first, then appended again through the store's own writer (sealed under a key
per contact, the chain written anew from the old head, recorded in `chain_epochs`, the
projections rebuilt); it needs the master key and the blind index secret. Unlike the other
migrations this one uses the store's code: sealing and projecting are the store's, not a
copy of them frozen here. The keys and the moment come from the caller (`schema.upgrade`
passes the store's), or from the settings when Alembic is run by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from consentry.adapters.sql import upgrade_v2
from consentry.adapters.sql.migration_context import keys, now

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_FLAGS = (
    "erased", "objected_dm", "objected_profiling", "suppressed", "published", "published_unproven",
    "outside_eea", "local_rules_met", "notice14", "bought_any", "consented_ever",
)  # fmt: skip
_TOKENS = (
    "c_valid", "c_own", "c_pending", "c_defective", "subscribed", "opt_outs", "bought", "bought_ex",
    "tags", "listed", "c_timed",
)  # fmt: skip


class PopulatedLedger(RuntimeError):
    """The database holds events: the downgrade (back to clear storage) runs on an empty ledger only."""


def _refuse_populated() -> None:
    n = op.get_bind().execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    if n:
        raise PopulatedLedger(
            f"this database's ledger holds {n} events: storage v2 (revision 0009) is not taken back "
            "on a populated ledger (its personal data would be written out in clear again); restore "
            "the backup made before the upgrade instead."
        )


def _events(sealed: bool) -> None:
    op.create_table(
        "events",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("contact_point_id", sa.String(40), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime, nullable=False),
        sa.Column("recorded_at", sa.DateTime, nullable=False),
        sa.Column("schema_version", sa.SmallInteger, nullable=False),
        sa.Column("payload", JSON, nullable=False),
        *([sa.Column("sealed", sa.LargeBinary, nullable=True)] if sealed else []),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_events_point_time", "events", ["contact_point_id", "occurred_at", "seq"])


def _objections(contact: sa.types.TypeEngine[str]) -> None:
    op.create_table(
        "contact_objections",
        sa.Column("contact_point_id", sa.String(40), nullable=False),
        sa.Column("contact_id", contact, nullable=False),
        sa.Column("scope", sa.String(32), nullable=False),
    )
    op.create_index("ix_contact_objections_point", "contact_objections", ["contact_point_id"])
    op.create_index("ix_contact_objections_scope", "contact_objections", ["scope", "contact_id"])


def _drop_changed() -> None:
    op.drop_index("ix_events_point_time", "events")
    op.drop_table("events")
    op.drop_table("contact_points")
    op.drop_index("ix_point_facts_contact", "point_facts")
    op.drop_table("point_facts")
    op.drop_index("ix_contact_objections_scope", "contact_objections")
    op.drop_index("ix_contact_objections_point", "contact_objections")
    op.drop_table("contact_objections")


def upgrade() -> None:
    carried = upgrade_v2.set_aside(op.get_bind(), keys, now())
    _drop_changed()
    op.drop_table("contact_state")
    _events(sealed=True)
    op.create_table(
        "contact_points",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lookup", sa.LargeBinary(16), nullable=True),
        sa.Column("contact_ref", sa.String(40), nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("kind", "lookup", name="uq_contact_points_kind_lookup"),
    )
    op.create_table(
        "point_facts",
        sa.Column("contact_point_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value_hash", sa.String(64), nullable=False),
        sa.Column("party", sa.String(20), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        *(sa.Column(name, sa.Boolean, nullable=False) for name in _FLAGS),
        sa.Column("ended_day", sa.Date, nullable=True),
        *(sa.Column(name, sa.Text, nullable=False) for name in _TOKENS),
        sa.Column("contact_id", sa.String(40), nullable=False),
        sa.Column("lookup", sa.LargeBinary(16), nullable=False),
        sa.Column("value_ct", sa.LargeBinary, nullable=False),
        sa.Column("name_ct", sa.LargeBinary, nullable=True),
        sa.Column("attrs_ct", sa.LargeBinary, nullable=True),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_event_at", sa.DateTime, nullable=True),
        sa.Column("suppressed_since", sa.DateTime, nullable=True),
        # The channels an earlier suppression covers (`|*|`: all) and the purpose/channel pairs a
        # fresh opt-in confirmed after it lifts it for (the erasure's prior-suppression rule).
        sa.Column("suppressed_for", sa.Text, nullable=False, server_default="|"),
        sa.Column("c_fresh", sa.Text, nullable=False, server_default="|"),
        # Processing restricted (GDPR Art. 18): no marketing until lifted.
        sa.Column("restricted", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_point_facts_contact", "point_facts", ["contact_id"])
    op.create_table(
        "point_terms",
        sa.Column("contact_point_id", sa.String(40), primary_key=True),
        sa.Column("term", sa.LargeBinary(16), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_point_terms_term", "point_terms", ["term"])
    _objections(sa.String(40))
    op.create_table(
        "suppressions",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("lookup", sa.LargeBinary(16), primary_key=True),
        sa.Column("what", sa.String(32), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("since", sa.DateTime, nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "chain_epochs",
        sa.Column("epoch", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
        sa.Column("previous_head_seq", sa.BigInteger, nullable=False),
        sa.Column("previous_head_hash", sa.String(64), nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
    )
    if carried is not None:
        upgrade_v2.carry_over(op.get_bind(), carried, now())


def downgrade() -> None:
    """Back to the v1 tables, on an empty ledger (the projections are rebuilt from it)."""
    _refuse_populated()
    op.drop_table("chain_epochs")
    op.drop_table("suppressions")
    op.drop_index("ix_point_terms_term", "point_terms")
    op.drop_table("point_terms")
    _drop_changed()
    _events(sealed=False)
    op.create_table(
        "contact_points",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.Column("registered_seq", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("kind", "value", name="uq_contact_points_kind_value"),
    )
    op.create_table(
        "contact_state",
        sa.Column("contact_point_id", sa.String(40), primary_key=True),
        sa.Column("party", sa.String(20), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        *(
            sa.Column(name, sa.Boolean, nullable=False)
            for name in ("erased", "objected_dm", "objected_profiling", "suppressed")
        ),
        sa.Column("event_count", sa.Integer, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("last_event_at", sa.DateTime, nullable=True),
        sa.Column("state", JSON, nullable=False),
    )
    op.create_table(
        "point_facts",
        sa.Column("contact_point_id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.Column("value_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("party", sa.String(20), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("source_detail", sa.Text, nullable=True),
        *(sa.Column(name, sa.Boolean, nullable=False) for name in _FLAGS),
        sa.Column("ended_day", sa.Date, nullable=True),
        *(sa.Column(name, sa.Text, nullable=False) for name in _TOKENS if name != "c_timed"),
        sa.Column("attrs", sa.Text, nullable=False),
        sa.Column("contact_id", sa.Text, nullable=True),
        sa.Column("c_timed", sa.Text, nullable=False, server_default="|"),
    )
    op.create_index("ix_point_facts_contact", "point_facts", ["contact_id"])
    _objections(sa.Text())
