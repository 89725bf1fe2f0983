"""What someone with write access to the database can do to the ledger, as the tamper tests do it."""

from __future__ import annotations

import sqlalchemy as sa

from consentry.adapters.sql.stored import stored_hash
from consentry.bootstrap import App
from consentry.domain.chain import GENESIS, link
from consentry.services import integrity


def sql(app: App, *statements: str) -> None:
    """Run statements straight on the database, past every service."""
    with app.store.engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))


def truncate(app: App, keep: int) -> None:
    """Delete the events after seq `keep` and move the head back onto the last one kept."""
    with app.store.reader() as r:
        kept = next(row.hash for row in r.chain() if row.seq == keep)
    sql(
        app, f"DELETE FROM events WHERE seq > {keep}", f"UPDATE ledger_head SET seq = {keep}, hash = '{kept}'"
    )


def wipe(app: App) -> None:
    """Delete every event and the ledger head."""
    sql(app, "DELETE FROM events", "DELETE FROM ledger_head")


def recompute_chain(app: App, drop_seq: int | None = None) -> None:
    """Drop one event (or none), renumber the rest, recompute every hash and the head; rebuild
    the projection."""
    with app.store.reader() as r:
        rows = [row for row in r.chain() if row.seq != drop_seq]
    prev, seq = GENESIS, 0
    with app.store.engine.begin() as conn:
        if drop_seq is not None:
            conn.execute(sa.text("DELETE FROM events WHERE seq = :s"), {"s": drop_seq})
        for row in rows:
            seq += 1
            h = link(prev, row.event, seq, sealed=row.sealed)
            conn.execute(
                sa.text("UPDATE events SET seq = :new, hash = :h WHERE id = :id"),
                {"new": seq, "h": stored_hash(h), "id": row.event.id},
            )
            prev = h
        conn.execute(sa.text("UPDATE ledger_head SET seq = :s, hash = :h"), {"s": seq, "h": prev})
    integrity.rebuild_projection(app)
