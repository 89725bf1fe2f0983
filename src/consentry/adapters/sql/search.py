"""Finding contact points in the projection by what they are searched by: blind-indexed terms
(name words, tags; `point_terms`), and a point's person (`point_facts.contact_id`); and the
overview's count of Art. 14 notices owed.

Every query here is an index look-up: a term is found through `ix_point_terms_term`, further
terms through the table's key (point number, term), the point's id by its number (the key of
`point_facts`), facts by their id (its unique index), a person's points through
`ix_point_facts_contact` (tests/integration/test_contact_search.py reads the plans).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from consentry.adapters.sql.projection import ProjectionReads
from consentry.adapters.sql.stored import chunks, utc
from consentry.domain.vocabulary import PointKind
from consentry.services.ports import FoundPoint

_FACTS = "contact_point_id, kind, source, last_event_at, contact_id, value_ct, name_ct"
#: A point's person: the points sharing its contact (`ix_point_facts_contact`).
PERSON_SQL = (
    "SELECT contact_point_id FROM point_facts WHERE contact_id = "
    "(SELECT contact_id FROM point_facts WHERE contact_point_id = ?) "
    "ORDER BY contact_point_id LIMIT ?"
)


class SearchReads(ProjectionReads):
    """The admin app's search: terms, opened facts, a person's points."""

    def terms_sql(self, terms: Sequence[str], limit: int) -> tuple[str, list[Any]]:
        """The query `points_with_terms` runs, with its parameters (its plan is tested)."""
        if not terms:
            raise ValueError("at least one term")
        blind = [self.vault.blind.term(x) for x in dict.fromkeys(terms)]
        joins = "".join(
            f" JOIN point_terms t{i} ON t{i}.point_no = t0.point_no AND t{i}.term = ?"
            for i in range(1, len(blind))
        )
        # No ORDER BY: PostgreSQL's index is on the term alone, and sorting every point with
        # a common word or tag would cost more than the page may; the caller sorts what it got.
        sql = (
            f"SELECT f.contact_point_id FROM point_terms t0{joins} "
            "JOIN point_facts f ON f.point_no = t0.point_no WHERE t0.term = ? LIMIT ?"
        )
        return sql, [*blind[1:], blind[0], limit]

    def points_with_terms(self, terms: Sequence[str], limit: int) -> list[str]:
        """Ids of up to `limit` projected points having every one of `terms`, in id order."""
        sql, params = self.terms_sql(terms, limit)
        return sorted(str(row[0]) for row in self._plain(sql, params))

    def found_points(self, point_ids: Sequence[str]) -> list[FoundPoint]:
        """The projected points among `point_ids`, in that order, their value and name opened."""
        rows: dict[str, Any] = {}
        for chunk in chunks(list(dict.fromkeys(point_ids))):
            where, params = self._in("contact_point_id", chunk)
            for row in self._plain(f"SELECT {_FACTS} FROM point_facts WHERE {where}", params):
                rows[row[0]] = row
        ordered = [rows[pid] for pid in point_ids if pid in rows]
        opened = self.open_facts([(r[4], r[5], r[6]) for r in ordered])
        return [
            FoundPoint(
                id=r[0],
                kind=PointKind(r[1]),
                value=value,
                name=name,
                source=r[2],
                last_event_at=utc(r[3]) if r[3] is not None else None,
            )
            for r, (value, name) in zip(ordered, opened, strict=True)
        ]

    def person_point_ids(self, point_id: str, limit: int) -> list[str]:
        """Ids of up to `limit` projected points of the same contact as `point_id`, in id order."""
        return [str(row[0]) for row in self._plain(PERSON_SQL, [point_id, limit])]

    def notices_owed(self, sources: Sequence[str], cap: int) -> int:
        """How many points (at most `cap`) from these sources, not erased, have had no Art. 14 notice."""
        wanted = list(sources)
        if not wanted:
            return 0
        false = "0" if self._sqlite else "false"
        marks = ", ".join("?" * len(wanted))
        sql = (
            f"SELECT count(*) FROM (SELECT 1 FROM point_facts WHERE source IN ({marks}) "
            f"AND notice14 = {false} AND erased = {false} LIMIT ?) owed"
        )
        ((n,),) = self._plain(sql, [*wanted, cap])
        return int(n)
