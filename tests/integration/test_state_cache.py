"""The per-process state cache never answers differently from a fresh fold."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind
from consentry.services import ledger, registers, states
from consentry.services.decide import decide


def line(**fields: object) -> str:
    return json.dumps(fields)


def fresh(app: App, point: str, at: datetime | None = None) -> dict[str, object]:
    with app.store.reader() as r:
        return states.load(r, point, as_of=at).to_json()


def cached(app: App, point: str, at: datetime | None = None) -> dict[str, object]:
    with app.store.reader() as r:
        return app.states.load_many(r, [point], as_of=at)[point].to_json()


def test_a_cached_state_is_replaced_as_soon_as_the_ledger_or_a_register_changes(
    app: App, tmp_path: Path
) -> None:
    ledger.append_lines(
        app,
        [
            line(type="contact_point.registered", kind="phone", value="0612345678", source="purchase",
                 occurred_at="2019-01-01"),
            line(type="purchase.recorded", contact="0612345678", categories=["koffie"], opt_out_offered=True,
                 occurred_at="2019-01-02"),
        ],
    )  # fmt: skip
    with app.store.reader() as r:
        (pid,) = r.point_ids()
    assert cached(app, pid) == fresh(app, pid)
    hits = app.states.hits
    assert cached(app, pid) == fresh(app, pid) and app.states.hits == hits + 1

    # an event appended later, and one back-filled into the past
    ledger.append_lines(app, [line(type="objection.recorded", contact=pid, scope="profiling")])
    assert cached(app, pid) == fresh(app, pid) and "profiling" in cached(app, pid)["objections"]
    ledger.append_lines(
        app, [line(type="customer_relationship.ended", contact=pid, occurred_at="2020-01-01")]
    )
    assert cached(app, pid) == fresh(app, pid) and cached(app, pid)["relationship_ended_at"]

    # a register imported afterwards
    f = tmp_path / "bmn.txt"
    f.write_text("0612345678\n")
    registers.import_file(app, f, "bel-me-niet")
    assert cached(app, pid) == fresh(app, pid) and cached(app, pid)["listings"]
    # listed, but a customer until 2020: the three-year exception of the old regime applies
    call = decide(app, pid, "phone", "aanbiedingen", at=datetime(2021, 1, 5, 12, tzinfo=UTC))
    assert call.rule == "NL-TM-00"

    # a moment before the last event is folded afresh, not served from the cache
    past = datetime(2019, 6, 1, tzinfo=UTC)
    assert cached(app, pid, past) == fresh(app, pid, past)
    assert cached(app, pid, past)["relationship_ended_at"] is None


def test_many_points_are_served_from_memory_only_while_the_ledger_head_stands(app: App) -> None:
    n = states.MANY + 8
    ledger.append_lines(
        app,
        [
            line(type="contact_point.registered", kind="email", value=f"klant{i}@example.nl",
                 source="web_form", occurred_at="2020-01-01")
            for i in range(n)
        ],
    )  # fmt: skip
    with app.store.reader() as r:
        points = r.point_ids()
        keys = [(PointKind.EMAIL, f"klant{i}@example.nl") for i in range(n)]
        assert app.states.find_points(r, keys) == r.find_points(keys)
        app.states.load_many(r, points)
    hits = app.states.hits
    with app.store.reader() as r:
        again = app.states.load_many(r, points)
    assert app.states.hits == hits + n
    assert {pid: s.to_json() for pid, s in again.items()} == {pid: fresh(app, pid) for pid in points}

    # one of them changes: the head moves, and that point alone is folded afresh
    ledger.append_lines(app, [line(type="objection.recorded", contact=points[3], scope="profiling")])
    misses = app.states.misses
    with app.store.reader() as r:
        after = app.states.load_many(r, points)
    assert app.states.misses == misses + 1
    assert "profiling" in after[points[3]].objections
    assert {pid: s.to_json() for pid, s in after.items()} == {pid: fresh(app, pid) for pid in points}


def test_a_point_registered_after_a_lookup_is_found_by_the_next_one(app: App) -> None:
    keys = [(PointKind.EMAIL, f"later{i}@example.nl") for i in range(states.MANY)]
    with app.store.reader() as r:
        assert app.states.find_points(r, keys) == {}
    ledger.append_lines(
        app, [line(type="contact_point.registered", kind="email", value=keys[0][1], source="web_form")]
    )
    with app.store.reader() as r:
        assert app.states.find_points(r, keys) == r.find_points(keys) != {}
