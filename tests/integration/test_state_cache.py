"""The per-process state cache never answers differently from a fresh fold."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from consentry.bootstrap import App
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
