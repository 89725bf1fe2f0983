"""Retention on both stores: the set-wise facts agree with a fold of each point, and the run erases
in batches, resumably, through the erasure port."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from consentry.bootstrap import App
from consentry.domain.clock import LOCAL_TZ
from consentry.domain.dsr import CLOSED, RequestKind, RequestState
from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.retention import RetentionFacts, facts_of, select
from consentry.domain.vocabulary import PointKind
from consentry.entrypoints.cli import app as cli
from consentry.policy.factrows import Numbering
from consentry.services import dsr, dsr_handling, erasure, ledger, retention
from consentry.services.retention import Erased
from consentry.services.retention_policies import load

POLICIES = load(None).policies
PURPOSES = ("nieuwsbrief", "aanbiedingen")


def _moment(rnd: random.Random) -> str:
    start = datetime(2021, 1, 1, tzinfo=UTC)
    return (start + timedelta(minutes=rnd.randrange(0, 5 * 365 * 24 * 60))).isoformat()


def _event(rnd: random.Random) -> dict[str, Any]:
    kind = rnd.choice(
        ["consent", "consent", "confirm", "unsubscribe", "withdraw", "object", "lift", "purchase",
         "ended", "request", "tag"]
    )  # fmt: skip
    purpose = rnd.choice(PURPOSES)
    if kind == "consent":
        ev: dict[str, Any] = {"type": "consent.given", "purpose": purpose, "channels": ["email"],
                              "method": rnd.choice(["single_opt_in", "double_opt_in", "import"])}  # fmt: skip
        if rnd.random() < 0.3:
            ev["valid_for_months"] = rnd.choice([6, 12, 24])
        return ev
    if kind == "confirm":
        return {"type": "consent.confirmed", "purpose": purpose}
    if kind in ("unsubscribe", "withdraw"):
        ev = {"type": "unsubscribed" if kind == "unsubscribe" else "consent.withdrawn"}
        if rnd.random() < 0.5:
            ev["purpose"] = purpose
        return ev
    if kind in ("object", "lift"):
        scope = rnd.choice(["direct_marketing", "direct_marketing", "profiling"])
        return {"type": "objection.recorded" if kind == "object" else "objection.withdrawn", "scope": scope}
    if kind == "purchase":
        return {"type": "purchase.recorded", "categories": ["koffie"], "opt_out_offered": True,
                "contract": rnd.random() < 0.3}  # fmt: skip
    if kind == "ended":
        return {"type": "customer_relationship.ended"}
    if kind == "request":
        return {"type": "request.received", "request": rnd.choice(["access", "erasure"])}
    return {"type": "tags.added", "tags": ["beurs"]}


def _population(app: App, n: int, seed: int = 17) -> list[str]:
    """n e-mail addresses with random histories; their contact point ids."""
    rnd = random.Random(seed)
    records: list[dict[str, Any]] = []
    values, erased = [], []
    for i in range(n):
        value = f"persoon{i}@voorbeeld.nl"
        values.append(value)
        moments = sorted(_moment(rnd) for _ in range(rnd.randrange(1, 7)))
        source = rnd.choice(["web_form", "purchase", "import"])
        registered = {"type": "contact_point.registered", "kind": "email", "value": value,
                      "source": source, "occurred_at": moments[0]}  # fmt: skip
        if rnd.random() < 0.2:  # some people have several addresses: a request covers them all
            registered["contact_id"] = f"klant-{rnd.randrange(8)}"
        records.append(registered)
        for at in moments[1:]:
            records.append({**_event(rnd), "contact": value, "occurred_at": at})
        if rnd.random() < 0.05:
            erased.append(value)
    ledger.append_records(app, enumerate(records, 1))
    with app.store.reader() as r:
        erased_ids = [r.point_id(PointKind.EMAIL, value) or "" for value in erased]
    erasure.erase_points(app, erased_ids, reason="request")  # as a request erased them earlier
    # Some people had processing restricted (GDPR Art. 18; only the request service records it).
    with app.store.writer() as w:
        restricted = [
            w.point_id(PointKind.EMAIL, v) for v in values if v not in erased and rnd.random() < 0.1
        ]
        now = app.clock.now()
        w.append(
            [Event(app.ids("ev"), "processing.restricted", pid, now, now, {}) for pid in restricted if pid]
        )
    _requests(app, rnd, [v for v in values if v not in erased])
    with app.store.reader() as r:
        return sorted(r.point_ids())


def _requests(app: App, rnd: random.Random, values: Sequence[str]) -> None:
    """Tracked data-subject requests on some live addresses: left open, taken on, or closed
    (refused or withdrawn); a `request.received` in the ledger alone is history (`_event`)."""
    for value in values:
        if rnd.random() >= 0.2:
            continue
        q = dsr.open_request(app, value, rnd.choice([k.value for k in RequestKind]), via="email")
        fate = rnd.choice(["open", "started", "withdrawn", "refused"])
        if fate == "started":
            dsr.start(app, q.id, by="test")
        elif fate == "withdrawn":
            dsr_handling.close(app, q.id, "withdrawn", by="test", reason=None)
        elif fate == "refused":
            dsr_handling.close(app, q.id, "refused", by="test", reason="Kennelijk ongegrond")


def _all_facts(app: App, batch: int) -> list[RetentionFacts]:
    found: list[RetentionFacts] = []
    after = None
    while True:
        with app.store.reader() as r:
            got, last = r.retention_facts(after, batch)
        if last is None:
            return found
        assert len(got) <= batch and [f.point_id for f in got] == sorted(f.point_id for f in got)
        assert all(after is None or after < f.point_id <= last for f in got)
        found.extend(got)
        after = last


def _folded_facts(app: App, ids: Sequence[str]) -> dict[str, RetentionFacts]:
    out = {}
    with app.store.reader() as r:
        held = r.open_requests_of(ids)
        for pid in ids:
            f = facts_of(fold(pid, r.events_for(pid)), held.get(pid, ()))
            if f is not None:
                out[pid] = f
    return out


def test_the_stores_facts_are_what_a_fold_of_each_point_says(app: App) -> None:
    ids = _population(app, 160)
    folded = _folded_facts(app, ids)
    stored = {f.point_id: f for f in _all_facts(app, batch=7)}
    # The store skips what no policy can erase: an open consent, a running contract.
    skipped = {pid for pid, f in folded.items() if f.consent_open or (f.customer and f.ended_day is None)}
    assert skipped and set(stored) == set(folded) - skipped
    assert all(stored[pid] == folded[pid] for pid in stored)
    # Open requests keep points, closed ones do not; a request covers the person's other points.
    with app.store.reader() as r:
        requests = r.dsr_requests()
    assert {q.state for q in requests} == {
        RequestState.OPEN,
        RequestState.IN_PROGRESS,
        *CLOSED - {RequestState.DONE},
    }
    held = {pid for pid, f in stored.items() if f.open_requests}
    open_on = {q.contact_point_id for q in requests if q.state not in CLOSED}
    assert held - open_on, "no point held by a request made on another point of its contact"
    only_closed = {q.contact_point_id for q in requests if q.state in CLOSED} - open_on
    assert any(pid in stored and not stored[pid].open_requests for pid in only_closed)
    for day in (date(2022, 6, 1), date(2024, 1, 1), date(2026, 3, 29), date(2029, 12, 31)):
        assert dict(select(POLICIES, stored.values(), day)) == dict(select(POLICIES, folded.values(), day))
    assert {p.id for _, p in select(POLICIES, stored.values(), date(2026, 12, 1))} == {p.id for p in POLICIES}


def test_the_stores_facts_agree_with_the_fold_when_tokens_overflow_the_masks(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With masks of one bit, every token but the first of each column is kept in `more`: a valid
    consent or an opt-out found there is read as one found in the mask."""
    monkeypatch.setattr(Numbering, "BITS", 1)
    ids = _population(app, 60, seed=29)
    with app.store.reader() as r:
        more = r._plain("SELECT more FROM point_facts")
    assert any("|c_valid." in m for (m,) in more) and any("|opt_outs." in m for (m,) in more)
    folded = _folded_facts(app, ids)
    stored = {f.point_id: f for f in _all_facts(app, batch=5)}
    skipped = {pid for pid, f in folded.items() if f.consent_open or (f.customer and f.ended_day is None)}
    assert skipped and set(stored) == set(folded) - skipped
    assert all(stored[pid] == folded[pid] for pid in stored)


class LedgerEraser:
    """A test double of the erasure service: appends `contact_point.erased` with the reason, one
    transaction a call; `fail_on` makes that call fail before anything is written."""

    def __init__(self, app: App, fail_on: int | None = None) -> None:
        self.app = app
        self.calls: list[tuple[list[str], str]] = []
        self.fail_on = fail_on

    def __call__(self, point_ids: Sequence[str], reason: str, now: datetime) -> Erased:
        self.calls.append((list(point_ids), reason))
        if len(self.calls) == self.fail_on:
            raise RuntimeError("power cut")
        with self.app.store.writer() as w:
            w.append(
                [
                    Event(self.app.ids("ev"), "contact_point.erased", pid, now, now, {"reason": reason})
                    for pid in point_ids
                ]
            )
        return Erased(len(point_ids))


def _erased_reasons(app: App) -> dict[str, str]:
    with app.store.reader() as r:
        return {
            e.contact_point_id: e.payload["reason"]
            for pid in r.point_ids()
            for e in r.events_for(pid)
            if e.type == "contact_point.erased" and e.payload.get("reason", "").startswith("retention:")
        }


def test_a_run_erases_in_batches_and_a_stopped_run_carries_on_where_it_stopped(app: App) -> None:
    ids = _population(app, 120, seed=5)
    at = app.clock.now()
    dry = retention.run(app, POLICIES, None, dry_run=True, batch=10, keep_ids=True)
    due = {pid: pid_policy for pid_policy, c in dry.counts.items() for pid in c.point_ids}
    assert dry.selected == len(due) > 10 and _erased_reasons(app) == {}

    broken = LedgerEraser(app, fail_on=3)
    with pytest.raises(RuntimeError, match="power cut"):
        retention.run(app, POLICIES, broken, batch=10)
    done_before = _erased_reasons(app)
    assert 0 < len(done_before) < len(due)  # the batches before the failing one stayed erased

    eraser = LedgerEraser(app)
    report = retention.run(app, POLICIES, eraser, batch=10)
    assert report.erased == len(due) - len(done_before)
    assert all(len(batch) <= 10 for batch, _ in eraser.calls)
    assert _erased_reasons(app) == {pid: f"retention:{p}" for pid, p in due.items()}
    assert retention.last_run(app) == report.summary()
    again = retention.run(app, POLICIES, LedgerEraser(app), at=at)
    assert again.selected == again.erased == 0
    assert not set(due) & set(_folded_facts(app, ids))  # every point due is erased now


def test_the_cli_dry_run_lists_ids_and_counts_per_policy_without_erasing(app: App) -> None:
    _population(app, 40, seed=9)
    url = app.settings.database_url
    runner = CliRunner()
    out = runner.invoke(cli, ["--database-url", url, "retention", "run", "--dry-run", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["dry_run"] is True and [p["id"] for p in doc["policies"]] == [p.id for p in POLICIES]
    listed = [pid for p in doc["policies"] for pid in p["contact_points"]]
    assert len(listed) == sum(p["selected"] for p in doc["policies"]) > 0
    assert all("@" not in pid for pid in listed)  # ids only, never an address
    assert _erased_reasons(app) == {}

    text = runner.invoke(cli, ["--database-url", url, "retention", "run", "--dry-run", "--at", "2031-01-01"])
    assert text.exit_code == 0 and "dry run for 2031-01-01" in text.stdout
    refused = runner.invoke(cli, ["--database-url", url, "retention", "run", "--at", "2031-01-01"])
    assert refused.exit_code == 2 and "--at: a real run erases as of now" in refused.stderr

    real = runner.invoke(cli, ["--database-url", url, "retention", "run", "--json", "--batch", "7"])
    assert real.exit_code == 0, real.output
    done = json.loads(real.stdout)
    assert [p["erased"] for p in done["policies"]] == [p["selected"] for p in doc["policies"]]
    assert set(_erased_reasons(app)) == set(listed)
    summary = runner.invoke(cli, ["--database-url", url, "retention", "run"])
    assert summary.exit_code == 0 and "0 contact point(s) erased" in summary.stdout


def test_the_cli_refuses_a_bad_policy_file_with_its_line(app: App, tmp_path: Any) -> None:
    bad = tmp_path / "bewaar.toml"
    bad.write_text(
        '[[policy]]\nid = "kort"\nname_nl = "Kort"\nname_en = "Short"\ncondition = "unsubscribed"\n'
        'after = "twee weken"\nrule = "EU-GDPR-09"\ncitation = "AVG art. 17"\n'
    )
    out = CliRunner().invoke(
        cli,
        [
            "--database-url",
            app.settings.database_url,
            "retention",
            "run",
            "--dry-run",
            "--policies",
            str(bad),
        ],
    )
    assert out.exit_code == 2
    assert f"error: {bad}: line 6: policy 1 (kort): after: 'twee weken' is not a period" in out.stderr
    listed = CliRunner().invoke(cli, ["--database-url", app.settings.database_url, "retention", "policies"])
    assert listed.exit_code == 0 and "afgemeld-geen-grondslag" in listed.stdout


def test_a_run_as_of_a_dutch_midnight_selects_by_the_dutch_day(app: App) -> None:
    ledger.append_records(
        app,
        enumerate(
            [
                {"type": "contact_point.registered", "kind": "email", "value": "laat@voorbeeld.nl",
                 "source": "web_form", "occurred_at": "2026-01-01T10:00:00+00:00"},
                {"type": "unsubscribed", "contact": "laat@voorbeeld.nl",
                 "occurred_at": "2026-01-01T23:30:00+00:00"},
            ],
            1,
        ),
    )  # fmt: skip
    before = datetime(2026, 2, 1, 23, 59, tzinfo=LOCAL_TZ)
    assert retention.run(app, POLICIES, None, at=before, dry_run=True).selected == 0
    assert retention.run(app, POLICIES, None, at=before + timedelta(minutes=1), dry_run=True).selected == 1


def test_of_two_servers_claiming_the_same_day_at_once_exactly_one_wins(app: App) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from conftest import make_app
    from consentry.services.retention_schedule import claim

    other = make_app(app.settings.database_url)
    at = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)
    try:
        with ThreadPoolExecutor(4) as pool:
            won = list(pool.map(lambda i: claim(app if i % 2 else other, at, f"server-{i}"), range(8)))
    finally:
        other.store.engine.dispose()
    assert won.count(True) == 1


def test_a_real_run_erases_through_the_erasure_service_and_keeps_suppression_records(app: App) -> None:
    from consentry.domain.vocabulary import PointKind
    from consentry.services.retention_erasure import eraser_for

    ids = _population(app, 60, seed=23)
    dry = retention.run(app, POLICIES, None, dry_run=True, keep_ids=True)
    due = {pid: p for p, c in dry.counts.items() for pid in c.point_ids}
    values = {f"persoon{i}@voorbeeld.nl" for i in range(60)}
    with app.store.reader() as r:
        value_of = {pid: v for v in values if (pid := r.point_id(PointKind.EMAIL, v))}
    earlier = set(ids) - set(value_of)  # erased by a request before: no lookup, not selected again
    assert earlier and not earlier & set(due)
    report = retention.run(app, POLICIES, eraser_for(app), batch=8)
    assert report.erased == len(due) > 0
    assert _erased_reasons(app) == {pid: f"retention:{p}" for pid, p in due.items()}
    with app.store.reader() as r:
        for pid, policy in due.items():
            record = r.suppression_of(PointKind.EMAIL, value_of[pid])
            assert record is not None and record.reason == f"retention:{policy}"
        kept = [
            pid for pid in set(ids) - earlier - set(due) if r.point_id(PointKind.EMAIL, value_of[pid]) == pid
        ]
    assert kept  # what a basis keeps is still found by its address
    again = retention.run(app, POLICIES, eraser_for(app))
    assert again.selected == 0


def test_serve_runs_the_daily_job_only_when_scheduled_and_refuses_a_bad_policy_file(
    store_url: str, tmp_path: Any
) -> None:
    import asyncio

    from fastapi import FastAPI

    from conftest import make_app
    from consentry.entrypoints.http import _serving
    from consentry.services.retention_policies import PolicyFileError

    bad = tmp_path / "bewaar.toml"
    bad.write_text("[[policy]]\n")
    refused = make_app(store_url, retention_schedule="03:30", retention_policies_file=str(bad))
    with pytest.raises(PolicyFileError, match="line 1: policy 1: id: missing"):
        _serving(refused)
    refused.store.engine.dispose()

    scheduled = make_app(store_url, retention_schedule="03:30")  # the fixed clock: 13:00 in Amsterdam

    async def serve_briefly() -> None:
        async with _serving(scheduled)(FastAPI()):
            for _ in range(200):
                with scheduled.store.reader() as r:
                    if r.setting(retention.LAST_RUN):
                        return
                await asyncio.sleep(0.05)

    asyncio.run(serve_briefly())
    assert retention.last_run(scheduled) is not None  # the day's run happened in the background
    scheduled.store.engine.dispose()
