"""The reads one decision makes besides the point's state, in one statement.

A decision needs the point (by blind index or id), its projection head (to validate a
cached state), the registers' version, the purpose asked about and the controller
profile. Read one by one that is five statements: on PostgreSQL five round trips, on
SQLite five times the driver's and Python's per-statement cost. Joined, it is one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from consentry.adapters.sql.ledger import LedgerReads
from consentry.adapters.sql.stored import utc
from consentry.domain.purposes import Purpose
from consentry.domain.vocabulary import PointKind, PurposeKind
from consentry.services.ports import DecisionBasis, PointRef

_BASIS = (
    "SELECT p.id, p.kind, f.last_seq, f.last_event_at, "
    "(SELECT count(*) FROM registers), (SELECT max(updated_at) FROM registers), "
    "u.key, u.name_nl, u.name_en, u.kind, CAST(u.categories AS TEXT), u.third_party, "
    "(SELECT CAST(value AS TEXT) FROM settings WHERE key = 'controller') "
    "FROM contact_points p "
    "LEFT JOIN point_facts f ON f.contact_point_id = p.id "
    "LEFT JOIN purposes u ON u.key = ? "
)
#: The statement by blind index (parameters: purpose key, point kind, lookup) and by point id
#: (purpose key, point id); `benchmarks/decide.py` runs them alone as its reference.
BY_LOOKUP = _BASIS + "WHERE p.kind = ? AND p.lookup = ?"
#: By either of two blind indexes (`lookups_for`: purpose key, point kind, both, the first again):
#: the point indexed by the compared form first.
BY_LOOKUPS = (
    _BASIS + "WHERE p.kind = ? AND p.lookup IN (?, ?) ORDER BY CASE WHEN p.lookup = ? THEN 0 ELSE 1 END"
)
BY_ID = _BASIS + "WHERE p.id = ?"


class DecisionReads(LedgerReads):
    """`services.ports.Deciding` on SQL."""

    def decision_basis(self, point: PointRef, purpose_key: str) -> DecisionBasis | None:
        """The point, its head, the registers' version, the purpose and the controller (None: no point)."""
        if isinstance(point, str):
            rows = self._plain(BY_ID, [purpose_key, point])
        else:
            kind, value = point
            wanted = self.lookups_for(kind, value)
            if len(wanted) == 1:
                rows = self._plain(BY_LOOKUP, [purpose_key, kind.value, wanted[0]])
            else:
                rows = self._plain(BY_LOOKUPS, [purpose_key, kind.value, *wanted, wanted[0]])
        if not rows:
            return None
        pid, kind_, seq, at, n_regs, regs_at, key, nl, en, pkind, cats, third, ctl = rows[0]
        purpose = None if key is None else _purpose(key, nl, en, pkind, cats, bool(third))
        head = None if seq is None else (int(seq), None if at is None else utc(at))
        registers = (int(n_regs), None if regs_at is None else utc(regs_at))
        return DecisionBasis(pid, PointKind(kind_), head, registers, purpose, _json(ctl))


@lru_cache(maxsize=256)
def _purpose(key: str, nl: str, en: str, kind: str, categories: str | None, third_party: bool) -> Purpose:
    """The purpose a basis row's columns describe, made (and checked) once for the same columns: it
    cost ~5-10 µs of a decision's client CPU. A purpose redefined is read with other columns."""
    return Purpose(key, nl, en, PurposeKind(kind), frozenset(_json(categories) or ()), third_party)


def _json(text: str | None) -> Any:
    """A JSON column the statement reads as text on both stores (`CAST(.. AS TEXT)`): orjson decodes
    it in ~1 µs, where psycopg's own JSON loader (the standard library's) took ~6 µs a column."""
    return None if text is None else orjson.loads(text)
