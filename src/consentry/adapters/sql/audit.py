"""What an audit of the ledger reads: chain hashes alone, one stored event, projection rows.

Kept apart from the store's write path: nothing here writes, and nothing here knows
what an event contains beyond what the store's own row reader gives. `AuditReads`
offers these reads as methods of a read transaction (`services.ports.LedgerAudit`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.objections import FLAGS
from consentry.adapters.sql.projection import STORED_COLUMNS, fact_bits, selected_by
from consentry.adapters.sql.sealing import contact_ref
from consentry.adapters.sql.stored import chain_hex, row_to_event
from consentry.domain.audit_chain import AuditRow
from consentry.domain.chain import ChainedRow, ChainEpoch
from consentry.domain.state import ContactState
from consentry.policy.factrows import COLUMNS as FACT_COLUMNS
from consentry.policy.factrows import facts_row, selection_terms

if TYPE_CHECKING:
    from consentry.adapters.sql.reader import Reader

#: point_facts' columns as compared: the clear facts, then what the store adds (the sealed ones
#: opened, so named without their `_ct`).
_COMPARED = (*FACT_COLUMNS, *(c.removesuffix("_ct") for c in STORED_COLUMNS))


def chain_hashes(
    r: Reader, upto: int | None = None, after: int = 0, batch: int = 20_000
) -> Iterator[tuple[int, str]]:
    """(seq, stored chain hash) of the events after seq `after`, in order, up to seq `upto` when given."""
    c = t.events.c
    q = sa.select(c.seq, c.hash).where(c.seq > after).order_by(c.seq)
    if upto is not None:
        q = q.where(c.seq <= upto)
    for seq, h in r.conn.execution_options(yield_per=batch).execute(q):
        yield int(seq), chain_hex(h)


def event_by_id(r: Reader, event_id: str) -> ChainedRow | None:
    """One stored event with its position, its hash and the hash it is chained to, or None."""
    row = r.conn.execute(sa.select(t.events).where(t.events.c.id == event_id)).first()
    if row is None:
        return None
    sealed = None if row.sealed is None else bytes(row.sealed)
    # Chained to the hash of the row before it, as `LedgerReads.chain` reads the link (seq - 1
    # alone would name the genesis where a row is missing); the first row to the chain's genesis.
    c = t.events.c
    before = r.conn.execute(
        sa.select(c.hash).where(c.seq < row.seq).order_by(c.seq.desc()).limit(1)
    ).scalar_one_or_none()
    prev = r.chain_genesis() if before is None else chain_hex(before)
    return ChainedRow(row.seq, row_to_event(row), prev, chain_hex(row.hash), sealed)


def projected_ids(r: Reader) -> set[str]:
    """Every contact point id with a row in point_facts or point_terms."""
    found = set(r.conn.execute(sa.select(t.point_facts.c.contact_point_id)).scalars())
    facts, terms, points = t.point_facts.c, t.point_terms.c, t.contact_points.c
    # Terms are named by the point's number: those of a point without facts are left over.
    orphans = sa.select(terms.point_no).distinct().where(terms.point_no.not_in(sa.select(facts.point_no)))
    for no in r.conn.execute(orphans).scalars():
        pid = r.conn.execute(sa.select(points.id).where(points.registered_seq == no)).scalar()
        found.add(str(pid) if pid is not None else f"#{no}")
    return found


def _norm(value: Any) -> Any:
    """A stored or computed value in one form for comparing (each database keeps its own)."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")  # as SQLite keeps it
    if isinstance(value, date):
        return value.isoformat()
    return value


def _stored(r: Reader, table: str, columns: Sequence[str], ids: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    quoted = ", ".join(columns)
    marks = ", ".join(f":p{i}" for i in range(len(ids)))
    # Table and column names are ours; the ids are bound parameters.
    rows = r.conn.execute(
        sa.text(f"SELECT {quoted} FROM {table} WHERE contact_point_id IN ({marks})"),
        {f"p{i}": v for i, v in enumerate(ids)},
    )
    return {row[0]: tuple(row) for row in rows}


def projection_differences(r: Reader, states: Sequence[ContactState]) -> list[tuple[str, str, str, Any, Any]]:
    """Where the stored projection of these folded states differs: (point, table, column, stored, folded).

    Every column of `point_facts` is compared: the clear facts as `facts_row` gives them, the
    sealed value and name once opened, and the rest as the store makes them; the
    person's objections as the state carries them (its own and `person_objections`: give states
    `services.states.with_person` made). A point whose contact has no data key (erased) must
    have no row.
    """
    if not states:
        return []
    ids = [s.id for s in states]
    stored_facts = _stored(r, "point_facts", (*FACT_COLUMNS, *STORED_COLUMNS), ids)
    refs, ciphers = r.point_ciphers(ids)
    lookups = {s.id: r.vault.blind.index(s.kind.value, s.value) for s in states}
    # A token the stored numbering lacks gets a new bit here (not stored): its row differs.
    bits = fact_bits(r)
    out: list[tuple[str, str, str, Any, Any]] = []
    for s in states:
        stored = stored_facts.get(s.id)
        cipher = ciphers.get(refs.get(s.id, ""))
        if cipher is None or s.erased_at is not None:
            if stored is not None:
                out.append((s.id, "point_facts", "*", "a row", "none: the point was erased"))
            continue
        if stored is None:
            out.append((s.id, "point_facts", "*", None, "a row"))
            continue
        n = len(FACT_COLUMNS)
        value_ct, name_ct = stored[n + 2 : n + 4]
        have = (
            *stored[: n + 2],
            cipher.decrypt("value", bytes(value_ct)),
            None if name_ct is None else cipher.decrypt("name", bytes(name_ct)),
            *stored[n + 4 :],
        )
        want = (
            *facts_row(s, bits),
            contact_ref(r.vault, s.id, s.contact_id),
            lookups[s.id],
            s.value,
            s.display_name or None,
            s.event_count,
            s.last_seq,
            s.last_event_at,
            s.prior_suppression.since if s.prior_suppression is not None else None,
            s.registered_seq,
            selected_by(r.vault.blind.term(x) for x in selection_terms(s)),
            *(scope in s.objections or scope in s.person_objections for scope, _, _ in FLAGS),
        )
        for name, a, b in zip(_COMPARED, have, want, strict=True):
            if a == b and type(a) is type(b):
                continue
            if _norm(a) != _norm(b):
                out.append((s.id, "point_facts", name, a, b))
    return out


def head_row(r: Reader) -> tuple[int, str] | None:
    """The ledger head as stored, or None when its row is gone (not `Reader.head`'s genesis)."""
    row = r.conn.execute(sa.select(t.ledger_head.c.seq, t.ledger_head.c.hash)).first()
    return None if row is None else (int(row.seq), str(row.hash))


def chain_epoch(r: Reader) -> ChainEpoch | None:
    """The latest chain epoch recorded (`chain_epochs`), or None when the chain never restarted."""
    c = t.chain_epochs.c
    row = r.conn.execute(sa.select(t.chain_epochs).order_by(c.epoch.desc()).limit(1)).first()
    if row is None:
        return None
    return ChainEpoch(
        int(row.epoch),
        int(row.first_seq),
        int(row.previous_head_seq),
        str(row.previous_head_hash),
        row.started_at,
    )


def last_event(r: Reader) -> tuple[int, str] | None:
    """(seq, chain hash) of the stored event with the highest seq, or None without events."""
    c = t.events.c
    row = r.conn.execute(sa.select(c.seq, c.hash).order_by(c.seq.desc()).limit(1)).first()
    return None if row is None else (int(row.seq), chain_hex(row.hash))


def hash_at(r: Reader, seq: int) -> str | None:
    """The stored chain hash of the event at `seq`, if there is one."""
    found = r.conn.execute(sa.select(t.events.c.hash).where(t.events.c.seq == seq)).scalar_one_or_none()
    return None if found is None else chain_hex(found)


def any_point(r: Reader) -> bool:
    """True when at least one contact point is registered."""
    return r.conn.execute(sa.select(t.contact_points.c.id).limit(1)).first() is not None


def audit_log_rows(r: Reader, batch: int = 5000) -> Iterator[AuditRow]:
    """Every entry of the admin audit log as the chain sees it, by `seq`."""
    a = t.admin_audit.c
    q = sa.select(a.seq, a.id, a.at, a.actor, a.action, a.subject, a.detail, a.prev_hash, a.hash)
    for row in r.conn.execution_options(yield_per=batch).execute(q.order_by(a.seq)):
        yield AuditRow(
            int(row.seq),
            int(row.id),
            row.at,
            row.actor,
            row.action,
            row.subject,
            row.detail,
            row.prev_hash,
            row.hash,
        )


def audit_log_head(r: Reader) -> tuple[int, str] | None:
    """The audit log's head as stored (last entry's seq and hash), or None when its row is gone."""
    h = t.admin_audit_head.c
    row = r.conn.execute(sa.select(h.seq, h.hash).where(h.id == 1)).first()
    return None if row is None else (int(row.seq), str(row.hash))


def audit_log_hash_at(r: Reader, seq: int) -> str | None:
    """The stored hash of the audit entry at `seq`, if there is one."""
    a = t.admin_audit.c
    return r.conn.execute(sa.select(a.hash).where(a.seq == seq)).scalar_one_or_none()


class AuditReads(Connected):
    """The audit's reads as methods of a read transaction (see the functions above)."""

    def chain_hashes(
        self, upto: int | None = None, after: int = 0, batch: int = 20_000
    ) -> Iterator[tuple[int, str]]:
        """(seq, stored chain hash) of the events after `after`, up to `upto` when given."""
        return chain_hashes(self._reader(), upto, after, batch)

    def event_by_id(self, event_id: str) -> ChainedRow | None:
        """One stored event with its links."""
        return event_by_id(self._reader(), event_id)

    def projected_ids(self) -> set[str]:
        """The ids of every projected contact point."""
        return projected_ids(self._reader())

    def projection_differences(self, states: Sequence[ContactState]) -> list[tuple[str, str, str, Any, Any]]:
        """Where the stored projection differs from these folded states."""
        return projection_differences(self._reader(), states)

    def head_row(self) -> tuple[int, str] | None:
        """The ledger head as stored, or None when its row is gone."""
        return head_row(self._reader())

    def last_event(self) -> tuple[int, str] | None:
        """(seq, chain hash) of the last stored event."""
        return last_event(self._reader())

    def chain_epoch(self) -> ChainEpoch | None:
        """The latest epoch the chain was started anew in, if any."""
        return chain_epoch(self._reader())

    def hash_at(self, seq: int) -> str | None:
        """The stored chain hash at `seq`."""
        return hash_at(self._reader(), seq)

    def any_point(self) -> bool:
        """Whether a contact point is registered."""
        return any_point(self._reader())

    def audit_log_rows(self) -> Iterator[AuditRow]:
        """Every entry of the admin audit log, by `seq`, with its hashes."""
        return audit_log_rows(self._reader())

    def audit_log_head(self) -> tuple[int, str] | None:
        """The audit log's head as stored, or None when its row is gone."""
        return audit_log_head(self._reader())

    def audit_log_hash_at(self, seq: int) -> str | None:
        """The stored hash of the audit entry at `seq`."""
        return audit_log_hash_at(self._reader(), seq)

    def _reader(self) -> Reader:
        # Only a Reader (or Writer) mixes this in: the functions take one.
        return self  # type: ignore[return-value]
