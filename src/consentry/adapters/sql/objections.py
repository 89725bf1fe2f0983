"""Objections that follow the person: a flag on every point of the contact, kept by the writer.

An objection (GDPR Art. 21) made on one contact point binds its person: every point of the
same contact (`point_facts.contact_id`) is judged as objecting, also one registered later.
`contact_objections` lists the objections of points that belong to a contact; from it the
writer keeps `point_facts.person_objected_dm` and `person_objected_profiling` on every point
of that contact (the point's own objection, or one of another point of its contact), so the
audience SQL tests a column of the row it scans instead of looking the contact up per row.

Whoever changes which points a contact has, or their objections, names the contacts that may
have changed (`objecting_contacts` before the old rows go, `contacts_with_objections` for the
new ones) and calls `spread` after writing: an objection or its withdrawal, a point linked to
another contact (`contact_point.updated`), an erasure, and a point registered to a contact
that objected earlier. A row is written with its own objections as the person's
(`factrows.facts_row`'s `objected_dm`, `objected_profiling`); `spread` adds the others'.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from consentry.adapters.sql.connected import Connected
from consentry.domain.vocabulary import ObjectionScope

#: Per objection scope, the column of `point_facts` with the point's own objection and the one
#: with its person's.
FLAGS = (
    (ObjectionScope.DIRECT_MARKETING.value, "objected_dm", "person_objected_dm"),
    (ObjectionScope.PROFILING.value, "objected_profiling", "person_objected_profiling"),
)
_SCOPES = ", ".join(f"'{scope}'" for scope, _, _ in FLAGS)


def objecting_contacts(c: Connected, point_ids: Sequence[str]) -> set[str]:
    """The contacts under which these points have objections (read before their rows go)."""
    sql = "SELECT DISTINCT contact_id FROM contact_objections WHERE contact_point_id {set}"
    return {row[0] for row in c._rows_of(sql, point_ids)}


def contacts_with_objections(c: Connected, contacts: Iterable[str]) -> set[str]:
    """Those of these contacts with an objection on any of their points."""
    sql = (
        f"SELECT DISTINCT contact_id FROM contact_objections WHERE scope IN ({_SCOPES}) "
        "AND contact_id {set}"
    )
    return {row[0] for row in c._rows_of(sql, sorted(set(contacts)))}


def spread(c: Connected, contacts: Iterable[str]) -> int:
    """Set the person's objection flags on every point of these contacts; how many rows changed.

    Each flag is the point's own objection or one of `contact_objections` under its contact.
    Only rows whose flags change are written.
    """
    wanted = sorted(set(contacts))
    if not wanted:
        return 0
    person = {
        column: (
            f"({own} OR EXISTS (SELECT 1 FROM contact_objections o "
            f"WHERE o.scope = '{scope}' AND o.contact_id = point_facts.contact_id))"
        )
        for scope, own, column in FLAGS
    }
    sets = ", ".join(f"{column} = {sql}" for column, sql in person.items())
    changed = " OR ".join(f"{column} <> {sql}" for column, sql in person.items())
    return c._each(f"UPDATE point_facts SET {sets} WHERE contact_id {{set}} AND ({changed})", wanted)
