"""Revision 0023: live contact points looked up by their compared form (`addresses.match_form`).

Before the compared form, a point's `lookup` was the blind index of its normalised value as
given, so `Dorpsstraat 12\\n1234 AB Dorp` and `DORPSSTRAAT 12\\n1234AB DORP` were two points and a
look-up found a point by its own spelling only. `reindex` opens each live e-mail and postal
point's value (its registration event, under its contact's data key) and stores the index of
its compared form; phone numbers are their own compared form. A point whose compared form is
held already (another spelling of it registered before, the earliest registration keeps it) keeps
its old index: it is found by its own spelling (`Ciphers.lookups_for`), nothing is merged.
Suppression records are not touched: their values are gone, and look-ups ask for both indexes.

With `compared=False` (the downgrade) every point gets the index of its value as given again,
as the code before expects. Suppression records made since keep the compared form's index.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from consentry.adapters.addresses import match_form
from consentry.adapters.crypto.vault import Vault
from consentry.adapters.sql.reader import Reader
from consentry.adapters.sql.upgrade_v2 import checked_keys

__all__ = ["reindex"]

#: Points whose values are opened at a time (their events' rows and their contacts' keys).
BATCH = 2000

_LIVE = (
    "SELECT id, kind, lookup FROM contact_points WHERE lookup IS NOT NULL "
    "AND kind IN ('email', 'postal') ORDER BY registered_seq, id"
)


def reindex(
    conn: Connection, keys: Callable[[], Vault], now: datetime, compared: bool = True
) -> tuple[int, int]:
    """Give each live e-mail and postal point the index of its compared form (`compared=False`: of
    its value as given): (points re-indexed, points that keep their index as another holds it)."""
    live = [(str(pid), str(kind), bytes(lookup)) for pid, kind, lookup in conn.exec_driver_sql(_LIVE)]
    if not live:
        return 0, 0
    why = (
        f"this upgrade looks {len(live)} e-mail and postal contact points up anew by their compared "
        "form, made from their sealed values"
    )
    vault = checked_keys(conn, keys, now, why)
    r = Reader(conn, vault)
    index = vault.blind.index
    wanted: dict[tuple[str, bytes], str] = {}  # the new index, by kind: the point that gets it
    kept = 0
    for i in range(0, len(live), BATCH):
        part = live[i : i + BATCH]
        values = r.registered_values([pid for pid, _, _ in part])
        for pid, kind, lookup in part:
            value = values.get(pid)
            if not value:  # unreadable (no key): left as it is
                continue
            want = index(kind, match_form(kind, value) if compared else value)
            if want == lookup:
                continue
            if (kind, want) in wanted:  # another spelling, registered earlier, has it
                kept += 1
            else:
                wanted[(kind, want)] = pid
        r.drop_caches()
    for kind in ("email", "postal"):
        ours = [lk for k, lk in wanted if k == kind]
        held = r._rows_of(
            "SELECT lookup FROM contact_points WHERE kind = ? AND lookup {set}", ours, "bytea", [kind]
        )
        for (lk,) in held:  # a point already indexed so: it keeps it
            del wanted[(kind, bytes(lk))]
            kept += 1
    if wanted:
        conn.execute(
            sa.text("UPDATE contact_points SET lookup = :lookup WHERE id = :id"),
            [{"id": pid, "lookup": lk} for (_, lk), pid in wanted.items()],
        )
    return len(wanted), kept
