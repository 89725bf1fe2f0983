"""The retention run and its daily schedule on the in-memory store (no database)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time

import pytest
from fakes import FakeMailer, FakeStore

from consentry.adapters.ratelimit import RateLimiter
from consentry.adapters.tokens import TokenSigner
from consentry.domain.clock import FixedClock
from consentry.domain.ids import counting_ids
from consentry.policy.nl import PACK
from consentry.services import ledger, purposes, retention
from consentry.services.app import App
from consentry.services.errors import InputError
from consentry.services.retention import Erased
from consentry.services.retention_policies import load
from consentry.services.retention_schedule import CLAIM, DailyRetention, claim, parse_time
from consentry.settings import Settings

POLICIES = load(None)
#: 03:29 in Amsterdam (winter time).
BEFORE = datetime(2026, 12, 6, 2, 29, tzinfo=UTC)


def make_app(store: FakeStore | None = None, at: datetime = BEFORE) -> App:
    clock = FixedClock(at)
    return App(
        settings=Settings(database_url="sqlite:///nowhere.db", retention_schedule="03:30"),
        store=store or FakeStore(clock.now),
        clock=clock,
        ids=counting_ids(),
        pack=PACK,
        mailer=FakeMailer(),
        limiter=RateLimiter("memory://"),
        signer_with=TokenSigner,
    )


class Recording:
    """An erasure port that records what it was asked to erase."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str]] = []

    def __call__(self, point_ids: Sequence[str], reason: str, now: datetime) -> Erased:
        self.calls.append((list(point_ids), reason))
        return Erased(len(point_ids))


def _people(app: App) -> None:
    records = [
        {"type": "contact_point.registered", "kind": "email", "value": f"p{i}@voorbeeld.nl",
         "source": "import", "occurred_at": "2024-03-01T10:00:00+00:00"}
        for i in range(5)
    ]  # fmt: skip
    records.append(
        {"type": "unsubscribed", "contact": "p0@voorbeeld.nl", "occurred_at": "2026-11-01T10:00:00Z"}
    )
    consent = {"type": "consent.given", "contact": "p1@voorbeeld.nl", "purpose": "nieuwsbrief",
               "channels": ["email"], "method": "single_opt_in"}  # fmt: skip
    records.append({**consent, "occurred_at": "2024-03-02T10:00:00Z"})
    ledger.append_records(app, enumerate(records, 1))


@pytest.fixture
def app() -> App:
    a = make_app()
    purposes.define(a, "nieuwsbrief", "Nieuwsbrief", "Newsletter", categories=["koffie"])
    _people(a)
    return a


def test_a_real_run_hands_each_policy_its_own_batches_with_its_reason(app: App) -> None:
    eraser = Recording()
    report = retention.run(app, POLICIES.policies, eraser, batch=2)
    reasons = [reason for _, reason in eraser.calls]
    assert set(reasons) == {"retention:afgemeld-geen-grondslag", "retention:prospect-stil"}
    assert sum(len(ids) for ids, _ in eraser.calls) == report.erased == 4  # p1 keeps its consent
    assert all(len(ids) <= 2 for ids, _ in eraser.calls)
    assert report.counts["afgemeld-geen-grondslag"].selected == 1
    assert report.counts["prospect-stil"].selected == 3 and report.counts["oud-klant"].selected == 0
    assert retention.last_run(app) == report.summary()


def test_a_dry_run_erases_nothing_and_keeps_no_summary(app: App) -> None:
    report = retention.run(app, POLICIES.policies, None, dry_run=True, keep_ids=True)
    assert report.selected == 4 and retention.last_run(app) is None
    assert all(pid.startswith("cp") for c in report.counts.values() for pid in c.point_ids)


def test_a_run_without_an_eraser_or_policies_or_with_a_bad_batch_is_refused(app: App) -> None:
    with pytest.raises(InputError, match="no erasure service"):
        retention.run(app, POLICIES.policies, None)
    with pytest.raises(InputError, match="no retention policies"):
        retention.run(app, (), Recording())
    with pytest.raises(InputError, match="batch: 0 is not a batch size"):
        retention.run(app, POLICIES.policies, Recording(), batch=0)


def test_the_schedule_runs_once_a_dutch_day_from_its_time_on(app: App) -> None:
    eraser = Recording()
    daily = DailyRetention(app, POLICIES, eraser, parse_time("03:30"), by="server-a")
    assert daily.tick() is None and not eraser.calls  # 03:29 in Amsterdam
    app.clock.moment = datetime(2026, 12, 6, 2, 30, tzinfo=UTC)  # type: ignore[attr-defined]
    report = daily.tick()
    assert report is not None and report.erased == 4
    with app.store.reader() as r:
        assert r.setting(CLAIM)["day"] == "2026-12-06" and r.setting(CLAIM)["by"] == "server-a"
    app.clock.moment = datetime(2026, 12, 6, 22, 59, tzinfo=UTC)  # type: ignore[attr-defined]
    assert daily.tick() is None  # 23:59 the same Dutch day
    app.clock.moment = datetime(2026, 12, 7, 2, 29, tzinfo=UTC)  # type: ignore[attr-defined]
    assert daily.tick() is None  # 03:29 the next day
    app.clock.moment = datetime(2026, 12, 7, 2, 30, tzinfo=UTC)  # type: ignore[attr-defined]
    assert daily.tick() is not None and len(eraser.calls) > 1


def test_two_servers_on_one_database_run_the_day_once(app: App) -> None:
    assert isinstance(app.store, FakeStore)
    other = make_app(app.store, at=datetime(2026, 12, 6, 3, 0, tzinfo=UTC))
    app.clock.moment = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    a, b = Recording(), Recording()
    assert DailyRetention(app, POLICIES, a, time(3, 30), by="a").tick() is not None
    assert DailyRetention(other, POLICIES, b, time(3, 30), by="b").tick() is None
    assert a.calls and not b.calls
    assert not claim(other, other.clock.now(), "b")
