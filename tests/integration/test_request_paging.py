"""The requests list a page at a time, on both stores: the pages are the whole list in order, the
count is the list's length, and the filters (overdue, due within days) are exact in the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from conftest import NOW, make_app
from consentry.bootstrap import App
from consentry.domain.clock import FixedClock
from consentry.services import dsr, dsr_handling, ledger
from consentry.services.errors import InputError


@pytest.fixture
def requests_app(store_url: str) -> Iterator[App]:
    app = make_app(store_url)
    ledger.append_lines(
        app,
        (
            f'{{"type": "contact_point.registered", "kind": "email", "value": "p{i}@example.nl", '
            '"source": "import", "occurred_at": "2025-01-05"}'
            for i in range(9)
        ),
    )
    for i in range(9):  # received over the last 45 days: some overdue, some due within the week
        received = NOW - timedelta(days=45 - 5 * i, hours=i)
        dsr.open_request(app, f"p{i}@example.nl", "access", received_at=received, already_overdue=True)
    yield app
    app.store.engine.dispose()


@pytest.mark.parametrize(
    "filters", [{}, {"overdue": True}, {"due_within": 7}, {"due_within": 0}, {"include_closed": True}]
)
def test_the_pages_of_the_requests_list_are_the_whole_list_in_order_with_its_length(
    requests_app: App, filters: dict[str, object]
) -> None:
    whole = dsr.list_requests(requests_app, **filters)  # type: ignore[arg-type]
    pages = [dsr.page_of_requests(requests_app, start=s, size=4, **filters) for s in (0, 4, 8, 12)]  # type: ignore[arg-type]
    assert [q for p in pages for q in p.requests] == whole
    assert {p.total for p in pages} == {len(whole)}
    assert pages[-1].requests == []


def test_the_overdue_and_due_soon_filters_are_exact_in_the_store(requests_app: App) -> None:
    now = requests_app.clock.now()
    every = dsr.list_requests(requests_app)
    assert [q for q in every if q.overdue(now)] == dsr.list_requests(requests_app, overdue=True) != []
    for days in (0, 3, 7, 20):
        due = [q for q in every if q.days_left(now) <= days]
        assert dsr.list_requests(requests_app, due_within=days) == due
    # a request whose deadline is this very moment is overdue
    clock = requests_app.clock
    assert isinstance(clock, FixedClock)
    first = every[0]
    clock.moment = first.deadline
    assert first.id in [q.id for q in dsr.list_requests(requests_app, overdue=True)]


def test_a_closed_request_leaves_the_open_list_but_stays_in_all(requests_app: App) -> None:
    first = dsr.list_requests(requests_app)[0]
    dsr_handling.close(requests_app, first.id, "withdrawn", "po@example.nl", None)
    assert dsr.page_of_requests(requests_app).total == 8
    assert dsr.page_of_requests(requests_app, include_closed=True).total == 9


def test_a_page_out_of_range_is_refused(requests_app: App) -> None:
    with pytest.raises(InputError):
        dsr.page_of_requests(requests_app, start=-1)
    with pytest.raises(InputError):
        dsr.page_of_requests(requests_app, size=0)
