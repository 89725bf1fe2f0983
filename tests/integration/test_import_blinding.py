"""An import blinds each imported value once, also where suppression records exist (both stores)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from test_mailchimp import COMMON, csv_text, member

from consentry.adapters.crypto.blind import BlindIndex
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind
from consentry.services import erasure
from consentry.services.imports import mailchimp
from consentry.services.ledger import register_point

ERASED = "weg@example.nl"


def test_a_suppressed_value_is_found_by_the_index_its_import_made(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An erased point leaves a suppression record: the projection then looks every folded point's
    # value up in `suppressions`, by the blind index the import made when it looked the value up.
    point = register_point(app, {"kind": "email", "value": ERASED, "source": "import"})
    erasure.erase_points(app, [point], reason="request")
    values = [ERASED, *(f"lid{i}@example.nl" for i in range(12))]
    path = tmp_path / "subscribed_members_export.csv"
    path.write_text(csv_text(COMMON, [member(v, LEID=str(i)) for i, v in enumerate(values)]))
    made: Counter[tuple[str, str]] = Counter()
    plain = BlindIndex.index

    def counted(self: BlindIndex, kind: str, normalised: str) -> bytes:
        made[(kind, normalised)] += 1
        return plain(self, kind, normalised)

    monkeypatch.setattr(BlindIndex, "index", counted)
    report = mailchimp.run(app, path, "nieuwsbrief", status="subscribed").files[0].report
    assert report.imported == len(values)
    assert {key: n for key, n in made.items() if key[0] == "email"} == {("email", v): 1 for v in values}
    # ... and the new point with the erased address carries its suppression record.
    with app.store.reader() as r:
        rows: Any = r._plain(
            "SELECT f.contact_point_id FROM point_facts f WHERE f.suppressed_since IS NOT NULL", []
        )
        assert [row[0] for row in rows] == [r.point_id(PointKind.EMAIL, ERASED)]


def test_a_rebuild_keeps_no_blind_index_past_its_chunk(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    # The projection's suppression look-ups fill the transaction's cache of blind indexes, with the
    # clear values they are kept by; a rebuild over the whole ledger in one transaction drops it
    # after each chunk (`drop_caches`), so a value is blinded again in the next transaction's use.
    point = register_point(app, {"kind": "email", "value": ERASED, "source": "import"})
    erasure.erase_points(app, [point], reason="request")
    register_point(app, {"kind": "email", "value": "blijft@example.nl", "source": "import"})
    made: Counter[str] = Counter()
    plain = BlindIndex.index

    def counted(self: BlindIndex, kind: str, normalised: str) -> bytes:
        made[normalised] += 1
        return plain(self, kind, normalised)

    monkeypatch.setattr(BlindIndex, "index", counted)
    with app.store.writer() as w:
        assert w.lookup("email", "blijft@example.nl") == w.lookup("email", "blijft@example.nl")
        assert made["blijft@example.nl"] == 1  # kept for the transaction
        w.drop_caches()
        w.lookup("email", "blijft@example.nl")
        assert made["blijft@example.nl"] == 2  # ... and forgotten with the other caches
