"""Do-not-contact registers (the Bel-me-niet Register, a company's own lists) and their entries.

A hashed register lists SHA-256 hashes, as such registers are delivered. A clear register's
entries are stored as the blind index (hex) of the normalised entry, not in clear: a point
is matched by its own blind index (`point_facts.lookup`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from consentry.adapters.crypto.vault import Vault
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.stored import chunks, day, utc
from consentry.domain.state import Listing
from consentry.domain.vocabulary import PointKind
from consentry.policy.factrows import value_hash as entry_hash

__all__ = ["RegisterReads", "RegisterWrites", "clear_entry", "entry_hash"]


def clear_entry(vault: Vault, kind: PointKind | str, normalised: str) -> str:
    """How a clear (not hashed) register stores an entry: its blind index, in hex."""
    return vault.blind.index(kind if isinstance(kind, str) else kind.value, normalised).hex()


class RegisterReads(Connected):
    """Reading registers and looking contact points up in them."""

    vault: Vault

    def registers_version(self) -> tuple[int, datetime | None]:
        """Changes whenever a register is (re)imported: its count and latest update."""
        ((n, latest),) = self._plain("SELECT count(*), max(updated_at) FROM registers")
        return int(n), (utc(latest) if latest is not None else None)

    def listings(self, keys: Iterable[tuple[PointKind, str]]) -> dict[tuple[PointKind, str], list[Listing]]:
        """Register listings of contact points, by value or by SHA-256 in hashed registers, in bulk.

        A register's own period bounds each entry's: an entry of the Bel-me-niet
        Register cannot outlive the register. Points on no register are absent.
        """
        # Every decision asks this: plain SQL (see `Connected._plain`).
        regs = self._plain("SELECT key, kind, hashed, valid_from, valid_until FROM registers")
        if not regs:
            return {}
        wanted = list(dict.fromkeys(keys))
        # Each point as a clear register lists it (blind) and as a hashed one does (SHA-256).
        by_entry: dict[str, list[tuple[tuple[PointKind, str], bool]]] = {}
        for kind, value in wanted:
            by_entry.setdefault(clear_entry(self.vault, kind, value), []).append(((kind, value), False))
            by_entry.setdefault(entry_hash(value), []).append(((kind, value), True))
        info = {
            key: (PointKind(kind), bool(hashed), day(start), day(end))
            for key, kind, hashed, start, end in regs
        }
        found: dict[tuple[PointKind, str], list[Listing]] = {}
        for chunk in chunks(list(by_entry)):
            where, params = self._in("entry", chunk)
            sql = f"SELECT register, entry, listed_from, listed_until FROM register_entries WHERE {where}"
            for register, entry, listed_from_raw, listed_until_raw in self._plain(sql, params):
                listed_from, listed_until = day(listed_from_raw), day(listed_until_raw)
                kind, hashed, valid_from, valid_until = info[register]
                start = max(d for d in (valid_from, listed_from, date.min) if d is not None)
                ends = [d for d in (valid_until, listed_until) if d is not None]
                for key, as_hash in by_entry[entry]:
                    if key[0] is kind and as_hash is hashed:
                        found.setdefault(key, []).append(
                            Listing(register, start, min(ends) if ends else None)
                        )
        return found

    def register_definitions(self) -> list[dict[str, Any]]:
        """Every register's definition (key, kind, hashed, period), without counting entries."""
        return [dict(row._mapping) for row in self.conn.execute(sa.select(t.registers))]

    def registers(self) -> list[dict[str, Any]]:
        """Every register with its number of entries."""
        r, e = t.registers.c, t.register_entries.c
        counts = sa.select(e.register, sa.func.count().label("n")).group_by(e.register).subquery()
        q = (
            sa.select(t.registers, sa.func.coalesce(counts.c.n, 0).label("entries"))
            .outerjoin(counts, counts.c.register == r.key)
            .order_by(r.key)
        )
        return [dict(row._mapping) for row in self.conn.execute(q)]


class RegisterWrites(Connected):
    """Defining registers and adding their entries (in a write transaction at `now`)."""

    now: datetime
    vault: Vault

    def put_register(
        self,
        key: str,
        name: str,
        kind: PointKind,
        hashed: bool,
        valid_from: date | None,
        valid_until: date | None,
    ) -> None:
        """Define or redefine a register (its entries stay)."""
        self.conn.execute(t.registers.delete().where(t.registers.c.key == key))
        self.conn.execute(
            t.registers.insert().values(
                key=key,
                name=name,
                kind=kind.value,
                hashed=hashed,
                valid_from=valid_from,
                valid_until=valid_until,
                updated_at=self.now,
            )
        )

    def put_register_entries(
        self, key: str, entries: Sequence[str], listed_from: date | None, listed_until: date | None
    ) -> int:
        """Add entries to a register; entries it already has get the new period. Returns how many were new.

        The entries are normalised; a clear register stores their blind indexes (`clear_entry`).
        """
        e = t.register_entries.c
        r = t.registers.c
        found = self.conn.execute(sa.select(r.kind, r.hashed).where(r.key == key)).first()
        if found is None:
            raise LookupError(f"register {key!r} is not defined: define it before adding entries")
        if not found.hashed:
            entries = [clear_entry(self.vault, found.kind, x) for x in entries]
        existing: set[str] = set()
        for chunk in chunks(entries):
            existing.update(
                self.conn.execute(sa.select(e.entry).where(e.register == key, e.entry.in_(chunk))).scalars()
            )
        for chunk in chunks(sorted(existing)):
            self.conn.execute(
                t.register_entries.update()
                .where(e.register == key, e.entry.in_(chunk))
                .values(listed_from=listed_from, listed_until=listed_until)
            )
        new = [
            {"register": key, "entry": x, "listed_from": listed_from, "listed_until": listed_until}
            for x in dict.fromkeys(entries)
            if x not in existing
        ]
        if new:
            self.conn.execute(t.register_entries.insert(), new)
        return len(new)
