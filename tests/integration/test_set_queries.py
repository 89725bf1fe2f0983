"""Look-ups over a whole set of values: one query on PostgreSQL, one per 500 on SQLite.

`find_points` (which registrations of an append or import are registered already) and
`DataKeyStore.wrapped` (the keys of a batch's contacts) ask for thousands of values at
once; each must find exactly what one look-up per value finds, across more than one
SQLite chunk of 500. Both stores.
"""

from __future__ import annotations

from consentry.adapters.sql.data_keys import DataKeyStore
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind
from consentry.services import ledger

POINTS = 1_201


def _registration(i: int) -> dict[str, object]:
    if i % 4 == 3:
        return {
            "type": "contact_point.registered",
            "kind": "phone",
            "value": f"06 2{i:07d}",
            "source": "import",
        }
    return {
        "type": "contact_point.registered",
        "kind": "email",
        "value": f"p{i}@example.nl",
        "source": "import",
    }


def test_find_points_and_wrapped_keys_find_what_one_lookup_each_finds(app: App) -> None:
    ledger.append_records(app, [(i + 1, _registration(i)) for i in range(POINTS)])
    emails = [(PointKind.EMAIL, f"p{i}@example.nl") for i in range(POINTS) if i % 4 != 3]
    phones = [(PointKind.PHONE, f"+3162{i:07d}") for i in range(POINTS) if i % 4 == 3]
    unknown = [(PointKind.EMAIL, f"nobody{i}@example.nl") for i in range(700)]
    with app.store.writer() as w:
        one_by_one = {key: w.point_id(*key) for key in [*emails, *phones, *unknown]}
        expected = {key: pid for key, pid in one_by_one.items() if pid is not None}
        assert len(expected) == POINTS
        assert w.find_points([*unknown, *phones, *emails]) == expected

        points = sorted(expected.values())
        refs = w.contact_refs(points)
        store = DataKeyStore(w.conn, w.vault.keys)
        wanted = [refs[p] for p in points] + [f"no-key-{i}" for i in range(600)]
        found = store.wrapped(wanted)
        assert sorted(k.contact_id for k in found) == sorted(refs[p] for p in points)
        for key in found[:: max(1, len(found) // 20)]:
            assert store.wrapped([key.contact_id]) == [key]
