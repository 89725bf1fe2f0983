"""Who numbers an appended event: the writer, whatever number the event was made with.

The ledger service makes a file's events with the numbers the writer will give them
(`Writer.next_seq`), so the writer need not copy each one to number it; an event made
with any other number is numbered by the writer all the same. Both stores.
"""

from __future__ import annotations

from datetime import UTC, datetime

from consentry.bootstrap import App
from consentry.domain.events import SCHEMA_VERSION, Event
from consentry.domain.fold import fold
from consentry.domain.vocabulary import PointKind
from consentry.services import integrity, ledger

AT = datetime(2025, 1, 2, 10, 0, tzinfo=UTC)
REGISTER = {
    "type": "contact_point.registered",
    "kind": "email",
    "value": "a@example.nl",
    "source": "web_form",
    "occurred_at": "2025-01-01T10:00:00+00:00",
}
CONSENT = {"purpose": "nieuwsbrief", "channels": ["email"], "method": "single_opt_in"}


def _point(app: App) -> str:
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, "a@example.nl")
    assert pid is not None
    return pid


def test_an_event_made_with_a_wrong_number_is_stored_and_folded_with_the_writers(app: App) -> None:
    ledger.append_records(app, [(1, REGISTER)])
    pid = _point(app)
    with app.store.writer() as w:
        assert w.next_seq() == 2
        guessed = Event("ev_wrong_guess", "consent.given", pid, AT, AT, CONSENT, SCHEMA_VERSION, 7)
        unnumbered = Event("ev_no_number", "consent.given", pid, AT, AT, CONSENT)
        assert list(w.append([guessed, unnumbered])) == [2, 3]
        assert w.next_seq() == 4
    with app.store.reader() as r:
        events = r.events_for(pid)
        assert [(e.id, e.seq) for e in events] == [
            (events[0].id, 1),
            ("ev_wrong_guess", 2),
            ("ev_no_number", 3),
        ]
        assert r.state(pid) == fold(pid, events).to_json()
    assert integrity.verify_ledger(app).ok


def test_a_file_appended_after_other_events_is_numbered_on_from_the_head(app: App) -> None:
    ledger.append_records(app, [(1, REGISTER)])
    at = "2025-01-02T10:00:00+00:00"
    records = [
        (n, {"type": "consent.given", "contact": "a@example.nl", "occurred_at": at, **CONSENT})
        for n in (1, 2, 3)
    ]
    report = ledger.append_records(app, records)
    assert (report.first_seq, report.last_seq) == (2, 4)
    pid = _point(app)
    with app.store.reader() as r:
        assert [e.seq for e in r.events_for(pid)] == [1, 2, 3, 4]
        assert r.state(pid) == fold(pid, r.events_for(pid)).to_json()
    assert integrity.verify_ledger(app).ok
