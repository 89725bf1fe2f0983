"""A file's lines and the same records appended store the same events; the caller's records are
left as they were.

`ledger append FILE` reads each line into a record that is the append's own, so the envelope
fields are popped from it; records a caller passes are popped from a copy. Both ways give
the same events, numbers and refusals. Both stores.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import _reset_pg, define_purposes, make_app
from consentry.bootstrap import App
from consentry.services import ledger
from consentry.services.errors import FileRejected


def _records() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(40):
        email = f"Klant.{i:03d}@Example.nl"
        out.append(
            {
                "type": "contact_point.registered",
                "kind": "email",
                "value": email,
                "source": "web_form",
                "display_name": f"Klant {i} ",
                "occurred_at": f"2024-02-{1 + i % 28:02d}T10:00:00+01:00",
            }
        )
        ref = email.lower()
        given = {
            "type": "consent.given",
            "contact": ref,
            "purpose": "nieuwsbrief",
            "channels": ["email"],
            "method": "double_opt_in",
            "ip": f"198.51.100.{i}",
            "occurred_at": f"2024-03-{1 + i % 28:02d}T11:00:00Z",
        }
        if i % 3 == 0:
            given["id"] = f"imp-{i}"
        out.append(given)
        out.append({"type": "consent.confirmed", "contact": ref, "purpose": "nieuwsbrief"})
        if i % 4 == 1:
            out.append({"type": "unsubscribed", "contact": ref, "purpose": "nieuwsbrief", "via": "link"})
    out.append(
        {"type": "contact_point.registered", "kind": "phone", "value": "06 12345678", "source": "purchase"}
    )
    out.append({"type": "notice.given", "contact": "+31612345678", "article": "13", "method": "sms"})
    return out


def _stored(app: App) -> tuple[list[Any], dict[str, Any]]:
    """Every event as chained (clear payloads, in order) and every point's events opened."""
    with app.store.reader() as r:
        chained = [(row.seq, row.event) for row in r.chain()]
        opened = {pid: r.events_for(pid) for pid in r.point_ids()}
    return chained, opened


def _second_url(store_url: str, tmp_path: Path) -> str:
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'lines.db'}"
    _reset_pg(store_url)
    return store_url


def _appended(url: str, how: str, records: list[dict[str, Any]]) -> tuple[Any, Any]:
    app = make_app(url)
    try:
        define_purposes(app)
        try:
            if how == "records":
                report: Any = ledger.append_records(app, enumerate(records, 1))
            else:
                lines = [json.dumps(r, ensure_ascii=False) + "\n" for r in records]
                report = ledger.append_lines(app, lines)
        except FileRejected as exc:
            report = (exc.problems, exc.truncated)
        return report, _stored(app)
    finally:
        app.store.engine.dispose()


def test_lines_store_what_the_same_records_store_and_the_records_are_left_as_they_were(
    store_url: str, tmp_path: Path
) -> None:
    records = _records()
    given = copy.deepcopy(records)
    from_records = _appended(store_url, "records", records)
    assert records == given  # the envelope popped from a copy, not from the caller's dicts
    from_lines = _appended(_second_url(store_url, tmp_path), "lines", records)
    assert from_lines == from_records
    report, (chained, opened) = from_lines
    assert report.appended == len(records) == len(chained)
    assert sum(len(evs) for evs in opened.values()) == len(records)


@pytest.mark.parametrize(
    "bad",
    [
        {"type": "contact_point.registered", "contact": "x@example.nl", "kind": "email", "value": "y@x.nl"},
        {"contact": "klant.001@example.nl", "purpose": "nieuwsbrief"},
        {"type": ["consent.given"], "contact": "klant.001@example.nl"},
        {"type": "consent.given", "purpose": "nieuwsbrief", "channels": ["email"], "method": "x"},
        {"type": "consent.confirmed", "contact": "nobody@example.nl", "purpose": "nieuwsbrief"},
        {"type": "consent.confirmed", "contact": None, "purpose": "nieuwsbrief"},
        {"type": "consent.confirmed", "contact": "klant.001@example.nl", "purpose": "x", "id": "a b"},
        {"type": "consent.confirmed", "contact": "klant.001@example.nl", "purpose": "x", "occurred_at": 5},
        {"type": "contact_point.erased", "contact": "klant.001@example.nl"},
    ],
)
def test_a_bad_record_is_refused_alike_from_a_line_and_as_a_record(
    store_url: str, tmp_path: Path, bad: dict[str, Any]
) -> None:
    records = [*_records()[:9], bad, *_records()[9:12]]
    given = copy.deepcopy(records)
    from_records = _appended(store_url, "records", records)
    assert records == given
    from_lines = _appended(_second_url(store_url, tmp_path), "lines", records)
    assert from_lines == from_records
    (problems, _truncated), _ = from_lines
    assert [p.line for p in problems] == [10]
