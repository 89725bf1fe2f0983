"""`point_facts` with the columns an audience report reads first.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06

A report reads every row of `point_facts` and judges it by the facts the rules test. PostgreSQL
takes a row's columns apart from the first up to the last one a statement names, one at a time
whatever lies between; the e-mail report named `person_objected_dm` and `restricted`, columns
41 and 44 of 45 (added last by 0014 and 0016), so every row was taken apart up to its end: the
ids, blind indexes, sealed value, name and attributes and the head, which no report reads. The
table is written again with the point's number, then the judged columns in the order of
`tables.JUDGED` (the kind, the party and the source, the flags, the masks, the token strings),
then the rest; a report now stops at `c_timed`, column 29 (docs/performance.md, session 7).
No value changes: the rows are copied as they are, in the order of their numbers, and the
indexes and statistics are made again. The downgrade writes 0017's order back.
The tables are spelled out as they are at this revision.
"""

from __future__ import annotations

from collections.abc import Iterator

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_FLAGS_0014 = (
    "erased", "objected_dm", "objected_profiling", "suppressed", "published", "published_unproven",
    "outside_eea", "local_rules_met", "notice14", "bought_any", "consented_ever",
)  # fmt: skip
_MASKS = (
    "c_valid", "c_own", "c_pending", "c_defective", "subscribed", "opt_outs", "bought", "bought_ex",
    "listed", "suppressed_for", "c_fresh",
)  # fmt: skip
#: SQLite's covering index of what an audience report reads (`tables.JUDGED`, as of 0016).
_JUDGED = (
    "kind", "point_no", "party", "source", "erased", "person_objected_dm", "person_objected_profiling",
    "restricted", "suppressed", "published", "published_unproven", "outside_eea", "local_rules_met",
    "notice14", "bought_any", "consented_ever", "ended_day", *_MASKS,
    "c_timed", "more", "tags", "selected_by",
)  # fmt: skip


def _column(name: str) -> sa.Column[object]:
    """The column `name` of `point_facts` as 0014-0018 define it."""
    if name == "point_no":  # SQLite: INTEGER PRIMARY KEY, the rowid itself
        key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
        return sa.Column(name, key, primary_key=True, autoincrement=False)
    if name == "contact_point_id":
        return sa.Column(name, sa.String(40), nullable=False, unique=True)
    if name in _MASKS:
        return sa.Column(name, sa.BigInteger, nullable=False)
    if name in (*_FLAGS_0014, "restricted"):
        return sa.Column(name, sa.Boolean, nullable=False)
    if name in ("person_objected_dm", "person_objected_profiling"):  # as 0016 added them
        return sa.Column(name, sa.Boolean, nullable=False, server_default=sa.false())
    types: dict[str, tuple[sa.types.TypeEngine[object], bool]] = {
        "kind": (sa.String(16), False),
        "value_hash": (sa.LargeBinary(32), False),
        "party": (sa.String(20), False),
        "source": (sa.String(40), False),
        "ended_day": (sa.Date(), True),
        "tags": (sa.Text(), False),
        "c_timed": (sa.Text(), False),
        "contact_id": (sa.String(40), False),
        "lookup": (sa.LargeBinary(16), False),
        "value_ct": (sa.LargeBinary(), False),
        "name_ct": (sa.LargeBinary(), True),
        "attrs_ct": (sa.LargeBinary(), True),
        "event_count": (sa.Integer(), False),
        "last_seq": (sa.BigInteger(), False),
        "last_event_at": (sa.DateTime(), True),
        "suppressed_since": (sa.DateTime(), True),
        "more": (sa.Text(), False),
        "selected_by": (sa.Text(), False),
    }
    type_, nullable = types[name]
    return sa.Column(name, type_, nullable=nullable)


#: 0017's order: 0014's table, then the person's flags 0016 added.
_ORDER_0017 = (
    "point_no", "contact_point_id", "kind", "value_hash", "party", "source", *_FLAGS_0014, "ended_day",
    *_MASKS, "tags", "c_timed", "contact_id", "lookup",
    "value_ct", "name_ct", "attrs_ct", "event_count", "last_seq", "last_event_at", "suppressed_since",
    "restricted", "more", "selected_by", "person_objected_dm", "person_objected_profiling",
)  # fmt: skip
#: 0018's order: the point's number, what a report reads (`_JUDGED`), then the rest.
_ORDER_0018 = (
    "point_no", *(c for c in _JUDGED if c != "point_no"),
    "lookup", "value_hash", "contact_point_id", "contact_id", "objected_dm", "objected_profiling",
    "value_ct", "name_ct", "attrs_ct", "event_count", "last_seq", "last_event_at", "suppressed_since",
)  # fmt: skip


def _columns(order: tuple[str, ...]) -> Iterator[sa.Column[object]]:
    return (_column(name) for name in order)


def _rewrite(order: tuple[str, ...], version: str) -> None:
    """Copy `point_facts` into a table of the columns in `order`, which then takes its name."""
    if sorted(order) != sorted(_ORDER_0017):  # pragma: no cover - a column left out would be lost
        raise RuntimeError("the new order must hold every column of point_facts")
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # The old table's freed pages are zeroed whatever engine runs the migration: they hold
        # every point's value hash, blind index and sealed value and name, which an erasure
        # after the upgrade must not find left in the file.
        op.execute("PRAGMA secure_delete=ON")
    built = f"point_facts_{version}"
    op.create_table(built, *_columns(order))
    names = ", ".join(order)
    before = int(conn.exec_driver_sql("SELECT count(*) FROM point_facts").scalar_one())
    conn.exec_driver_sql(f"INSERT INTO {built} ({names}) SELECT {names} FROM point_facts ORDER BY point_no")
    if int(conn.exec_driver_sql(f"SELECT count(*) FROM {built}").scalar_one()) != before:
        raise RuntimeError("point_facts was not copied whole")  # pragma: no cover
    if sqlite:
        op.drop_index("ix_point_facts_judged", "point_facts")
    op.drop_index("ix_point_facts_contact", "point_facts")
    op.drop_table("point_facts")
    op.rename_table(built, "point_facts")
    if not sqlite:  # the key and the unique id keep the names a table created as point_facts has
        op.execute(f"ALTER TABLE point_facts RENAME CONSTRAINT {built}_pkey TO point_facts_pkey")
        op.execute(
            f"ALTER TABLE point_facts RENAME CONSTRAINT {built}_contact_point_id_key "
            "TO point_facts_contact_point_id_key"
        )
    op.create_index("ix_point_facts_contact", "point_facts", ["contact_id"])
    if sqlite:
        op.create_index("ix_point_facts_judged", "point_facts", list(_JUDGED))
    if not sqlite:
        # PostgreSQL's statistics went with the old table (autovacuum marks the new table's
        # pages all-visible later). SQLite has none to keep up (nothing runs ANALYZE there): a
        # snapshot taken now would freeze plans at today's size. SQLite keeps the old table's
        # pages free (zeroed) until a VACUUM.
        op.execute("ANALYZE point_facts")


def upgrade() -> None:
    _rewrite(_ORDER_0018, "v18")


def downgrade() -> None:
    _rewrite(_ORDER_0017, "v17")
