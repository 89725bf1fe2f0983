"""Data-subject requests on the in-memory store: deadlines, bad input, handling through fake hooks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from fakes import FakeMailer, FakeStore

from consentry.adapters.mime import Mail
from consentry.adapters.ratelimit import RateLimiter
from consentry.adapters.tokens import TokenSigner
from consentry.domain.clock import FixedClock
from consentry.domain.dsr import DsrRequest, IdentityStatus, RequestState
from consentry.domain.events import Event
from consentry.domain.ids import counting_ids
from consentry.policy.nl import PACK
from consentry.services import dsr, dsr_handling, erasure, ledger, purposes
from consentry.services.app import App
from consentry.services.contacts import UnknownContact
from consentry.services.decide import decide
from consentry.services.dsr import RequestClosed, UnknownRequest
from consentry.services.dsr_handling import HandlerMissing, Hooks
from consentry.services.errors import FileRejected, InputError, MailError
from consentry.services.ports import Writing
from consentry.settings import Settings

NOW = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
OFFICER = "privacy@deboon.nl"


def make_app() -> App:
    clock = FixedClock(NOW)
    app = App(
        settings=Settings(database_url="sqlite:///nowhere.db", secret_key="test-secret-key-0123456789"),
        store=FakeStore(clock.now),
        clock=clock,
        ids=counting_ids(),
        pack=PACK,
        mailer=FakeMailer(),
        limiter=RateLimiter("memory://"),
        signer_with=TokenSigner,
    )
    purposes.define(app, "nieuwsbrief", "Nieuwsbrief", "Newsletter", categories=["koffie"])
    lines = [
        {"type": "contact_point.registered", "kind": "email", "value": "jan@example.nl",
         "source": "web_form", "contact_id": "klant-7", "attributes": {"language": "en"},
         "occurred_at": "2026-01-05"},
        {"type": "contact_point.registered", "kind": "phone", "value": "+31612345678",
         "source": "web_form", "contact_id": "klant-7", "occurred_at": "2026-01-05"},
        {"type": "contact_point.registered", "kind": "email", "value": "els@example.nl",
         "source": "web_form", "occurred_at": "2026-01-05"},
        {"type": "consent.given", "contact": "jan@example.nl", "purpose": "nieuwsbrief",
         "channels": ["email"], "method": "double_opt_in", "occurred_at": "2026-01-05"},
        {"type": "consent.confirmed", "contact": "jan@example.nl", "purpose": "nieuwsbrief",
         "occurred_at": "2026-01-05"},
    ]  # fmt: skip
    ledger.append_lines(app, [json.dumps(x) for x in lines])
    return app


@pytest.fixture
def app() -> App:
    return make_app()


def mails(app: App) -> list[Mail]:
    assert isinstance(app.mailer, FakeMailer)
    return app.mailer.sent


def events(app: App) -> int:
    with app.store.reader() as r:
        return r.counts()["events"]


def verified(app: App, kind: str, contact: str = "jan@example.nl") -> DsrRequest:
    q = dsr.open_request(app, contact, kind, via="email")
    return dsr.verify_identity(app, q.id, "email_reply", "anna@deboon.nl")


def test_a_request_is_recorded_with_its_due_date_and_a_ledger_event_naming_it(app: App) -> None:
    q = dsr.open_request(app, "jan@example.nl", "access", via="letter", note="Wat weten jullie van mij?")
    assert (q.state, q.identity, q.language) == (RequestState.OPEN, IdentityStatus.UNVERIFIED, "en")
    assert q.deadline_day.isoformat() == "2027-02-15" and q.contact_ref == "klant-7"
    shown = dsr.show(app, q.id)
    (received,) = shown.events
    assert received.type == "request.received" and received.id == q.received_event
    assert received.payload["note"] == "Wat weten jullie van mij?" and received.payload["request_id"] == q.id
    assert dsr.list_requests(app) == [q]


@pytest.mark.parametrize(
    ("call", "field", "says"),
    [
        (lambda a: dsr.open_request(a, "nobody@example.nl", "access"), "contact", "no contact point"),
        (lambda a: dsr.open_request(a, "jan@example.nl", "lunch"), "kind", "is not one of"),
        (lambda a: dsr.open_request(a, "jan@example.nl", "access", via="pigeon"), "via", "is not one of"),
        (lambda a: dsr.open_request(a, "jan@example.nl", "access", language="de"), "language", "nl or en"),
        (
            lambda a: dsr.open_request(a, "jan@example.nl", "access", received_at="2026-12-01"),
            "received_at",
            "was due by the end of 2027-01-01, which is past",
        ),
        (
            lambda a: dsr.open_request(a, "jan@example.nl", "access", received_at="2027-02-01"),
            "received_at",
            "is in the future",
        ),
        (lambda a: dsr.show(a, "dsr_nope"), "request", "no request with id"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_recorded(
    app: App, call: object, field: str, says: str
) -> None:
    before = events(app)
    with pytest.raises(InputError) as caught:
        call(app)  # type: ignore[operator]
    assert caught.value.field == field and says in caught.value.message
    assert events(app) == before and dsr.list_requests(app, include_closed=True) == []
    if field == "contact":
        assert isinstance(caught.value, UnknownContact)
    if field == "request":
        assert isinstance(caught.value, UnknownRequest)


def test_a_request_whose_month_has_passed_can_be_recorded_as_overdue_when_said_so(app: App) -> None:
    q = dsr.open_request(app, "jan@example.nl", "erasure", received_at="2026-12-01", already_overdue=True)
    assert q.overdue(NOW) and dsr.list_requests(app, overdue=True) == [q]


def test_the_deadline_is_extended_once_within_the_first_month_and_the_person_is_told_why(app: App) -> None:
    q = dsr.open_request(app, "jan@example.nl", "access")
    extended = dsr.extend(app, q.id, "Many archives to search", "anna@deboon.nl")
    assert extended.deadline_day.isoformat() == "2027-04-15" and extended.extension_notified_at == NOW
    (mail,) = mails(app)
    assert mail.to == "jan@example.nl" and mail.lang == "en"
    assert "by 15 April 2027" in mail.text and "Many archives to search" in mail.text
    reason = next(e for e in dsr.show(app, q.id).events if e.type == "request.extended")
    assert reason.id == extended.extension_event and reason.payload["reason"] == "Many archives to search"
    before = events(app)
    with pytest.raises(InputError, match="only once"):
        dsr.extend(app, q.id, "Again", "anna@deboon.nl")
    assert events(app) == before and len(mails(app)) == 1


def test_an_extension_after_the_first_month_is_refused_and_nothing_is_mailed(app: App) -> None:
    q = dsr.open_request(app, "jan@example.nl", "access")
    assert isinstance(app.clock, FixedClock)
    app.clock.moment = NOW + timedelta(days=32)
    with pytest.raises(InputError, match=r"first month of request .* ended on 2027-02-15"):
        dsr.extend(app, q.id, "Too late", "anna@deboon.nl")
    assert mails(app) == [] and dsr.show(app, q.id).request.extended_until is None


def test_an_extension_needs_reasons_and_a_way_the_person_was_told(app: App) -> None:
    q = dsr.open_request(app, "+31612345678", "access")
    with pytest.raises(InputError, match="give the reasons"):
        dsr.extend(app, q.id, "  ", "anna@deboon.nl")
    # the phone number's person also has an e-mail address: that is where it goes
    dsr.extend(app, q.id, "Busy", "anna@deboon.nl")
    assert [m.to for m in mails(app)] == ["jan@example.nl"]
    els = dsr.open_request(app, "els@example.nl", "access")
    by_letter = dsr.extend(app, els.id, "Busy", "anna@deboon.nl", told_via="letter")
    assert by_letter.extended_until is not None and len(mails(app)) == 1


def test_a_closed_request_cannot_change_and_says_so(app: App) -> None:
    q = dsr.open_request(app, "jan@example.nl", "access")
    dsr_handling.close(app, q.id, "withdrawn", "anna@deboon.nl", None)
    before = events(app)
    for change in (
        lambda: dsr.extend(app, q.id, "x", "anna@deboon.nl"),
        lambda: dsr.start(app, q.id, "anna@deboon.nl"),
        lambda: dsr_handling.handle(app, q.id, "anna@deboon.nl", "done", Hooks()),
        lambda: dsr_handling.close(app, q.id, "refused", "anna@deboon.nl", "no"),
    ):
        with pytest.raises(RequestClosed, match="is already withdrawn"):
            change()
    assert events(app) == before and mails(app) == []


def test_handling_needs_a_verified_identity_except_for_an_objection(app: App) -> None:
    q = dsr.open_request(app, "jan@example.nl", "access")
    with pytest.raises(InputError, match="identity is unverified: verify it first"):
        dsr_handling.handle(app, q.id, "anna@deboon.nl", "Sent", Hooks())
    objection = dsr.open_request(app, "jan@example.nl", "objection")
    done = dsr_handling.handle(app, objection.id, "anna@deboon.nl", "No more marketing", Hooks())
    assert done.request.state is RequestState.DONE and done.told
    assert decide(app, "+31612345678", "sms", "nieuwsbrief").rule == "EU-GDPR-04"  # the whole person


class FakeErasure:
    """Stands in for the erasure service: appends `contact_point.erased` in the caller's transaction."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str]] = []

    def __call__(self, app: App, w: Writing, point_ids: Sequence[str], reason: str) -> None:
        self.calls.append((list(point_ids), reason))
        now = app.clock.now()
        w.append(
            [Event(app.ids("ev"), "contact_point.erased", p, now, now, {"reason": reason}) for p in point_ids]
        )


def test_an_erasure_calls_the_erasure_service_for_every_point_of_the_person(app: App) -> None:
    q = verified(app, "erasure")
    with pytest.raises(HandlerMissing, match="no erasure service is wired"):
        dsr_handling.handle(app, q.id, "anna@deboon.nl", "Erased", Hooks())
    assert dsr.show(app, q.id).request.state is RequestState.OPEN
    erase, scrubbed = FakeErasure(), []
    hooks = Hooks(erase=erase, scrub=scrubbed.append)
    done = dsr_handling.handle(app, q.id, "anna@deboon.nl", "Erased", hooks)
    assert erase.calls == [(["cp_000001", "cp_000002"], "request")] and scrubbed == [app]
    handled = next(e for e in dsr.show(app, q.id).events if e.type == "request.handled")
    assert "note" not in handled.payload and handled.payload["handler"] == "anna@deboon.nl"
    assert done.told and mails(app)[-1].to == "jan@example.nl"  # read before the erasure
    assert "erasure of your data" in mails(app)[-1].text
    with app.store.reader() as r:
        order = [e.type for e in r.events_for("cp_000001")][-4:]
    # nothing is recorded on an erased point afterwards: the request's events come first
    assert order == ["request.identity_checked", "request.handled", "request.told", "contact_point.erased"]
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-09"


def test_an_erasure_whose_mail_fails_erases_and_records_nothing(app: App) -> None:
    q = verified(app, "erasure")
    app.mailer = FailingMailer()
    before = events(app)
    with pytest.raises(InputError, match="nothing was erased or recorded"):
        dsr_handling.handle(app, q.id, "anna@deboon.nl", "Erased", Hooks(erase=FakeErasure()))
    assert events(app) == before and dsr.show(app, q.id).request.state is RequestState.OPEN


def test_an_access_request_calls_the_export_and_records_what_it_made(app: App) -> None:
    q = verified(app, "access")

    def export(app: App, request: DsrRequest, point_ids: Sequence[str]) -> str:
        assert request.id == q.id
        return f"export of {len(point_ids)} points, sha256:ab12"

    done = dsr_handling.handle(app, q.id, "anna@deboon.nl", "Mailed the copy", Hooks(export=export))
    handled = next(e for e in dsr.show(app, q.id).events if e.type == "request.handled")
    assert handled.payload["note"] == "Mailed the copy\ncopy: export of 2 points, sha256:ab12"
    assert done.exported == "export of 2 points, sha256:ab12"
    assert "We handled your request for access to your data" in mails(app)[-1].text


def test_a_rectification_is_recorded_as_ledger_events_on_the_point(app: App) -> None:
    q = verified(app, "rectification")
    with pytest.raises(InputError, match="say what to correct"):
        dsr_handling.handle(app, q.id, "anna@deboon.nl", "Corrected", Hooks())
    dsr_handling.handle(
        app, q.id, "anna@deboon.nl", "Corrected", Hooks(), attributes={"city": "Utrecht"},
        details={"display_name": "Jan de Vries"},
    )  # fmt: skip
    with app.store.reader() as r:
        state = r.state("cp_000001")
    assert state is not None and state["attributes"]["city"] == "Utrecht"


def test_a_restriction_stops_marketing_to_the_whole_person_until_lifted_after_telling_them(app: App) -> None:
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-02"
    q = verified(app, "restriction")
    dsr_handling.handle(app, q.id, "anna@deboon.nl", "Restricted", Hooks())
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-18"
    assert decide(app, "+31612345678", "sms", "nieuwsbrief").rule == "EU-GDPR-18"
    assert decide(app, "els@example.nl", "email", "nieuwsbrief").rule != "EU-GDPR-18"
    lifted = dsr_handling.lift_restriction(app, q.id, "anna@deboon.nl")
    assert len(lifted.events) == 2 and "lifting that restriction" in mails(app)[-1].text
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").rule == "EU-GDPR-02"
    with pytest.raises(InputError, match="lifted already"):
        dsr_handling.lift_restriction(app, q.id, "anna@deboon.nl")


def test_a_refusal_tells_the_person_why_and_where_to_complain(app: App) -> None:
    q = dsr.open_request(app, "els@example.nl", "erasure")
    with pytest.raises(InputError, match="give the reasons for refusing"):
        dsr_handling.close(app, q.id, "refused", "anna@deboon.nl", None)
    dsr_handling.close(app, q.id, "refused", "anna@deboon.nl", "We moeten de factuur 7 jaar bewaren.")
    mail = mails(app)[-1]
    assert mail.lang == "nl" and mail.subject == "Je verzoek is niet ingewilligd"
    assert "We moeten de factuur 7 jaar bewaren." in mail.text and "Autoriteit Persoonsgegevens" in mail.text


class FailingMailer(FakeMailer):
    def send(self, msg: Mail) -> None:
        raise MailError("connection refused")


def test_a_failed_outcome_mail_leaves_the_request_handled_and_untold_until_told_again(app: App) -> None:
    q = verified(app, "objection", "els@example.nl")
    good = app.mailer
    app.mailer = FailingMailer()
    done = dsr_handling.handle(app, q.id, "anna@deboon.nl", "Recorded", Hooks())
    assert done.request.state is RequestState.DONE and not done.told and "dsr tell" in (done.problem or "")
    assert dsr.show(app, q.id).request.person_told_at is None
    app.mailer = good
    told = dsr_handling.tell(app, q.id)
    assert told.request.person_told_at == NOW and "Recorded" in mails(app)[-1].text
    with pytest.raises(InputError, match="was told on"):
        dsr_handling.tell(app, q.id)


def test_the_request_lifecycle_cannot_be_appended_to_the_ledger_from_outside(app: App) -> None:
    q = dsr.open_request(app, "jan@example.nl", "access")
    forged = {"type": "request.handled", "contact": "jan@example.nl", "request_id": q.id,
              "request": "access", "outcome": "done", "handler": "mallory"}  # fmt: skip
    tracked = {"type": "request.received", "contact": "jan@example.nl", "request": "access",
               "request_id": "dsr_x"}  # fmt: skip
    for record in (forged, tracked):
        with pytest.raises(FileRejected) as caught:
            ledger.append_lines(app, [json.dumps(record)])
        assert "recorded by `consentry dsr`" in caught.value.problems[0].message
    untracked = {"type": "request.received", "contact": "jan@example.nl", "request": "restriction"}
    ledger.append_lines(app, [json.dumps(untracked)])


def test_an_erasure_cannot_be_appended_to_the_ledger_from_outside(app: App) -> None:
    erased = {"type": "contact_point.erased", "contact": "jan@example.nl", "reason": "request"}
    with pytest.raises(FileRejected) as caught:
        ledger.append_lines(app, [json.dumps(erased)])
    (problem,) = caught.value.problems
    assert problem.field == "type" and "`consentry erase`" in problem.message
    assert "POST /v1/erasures" in problem.message
    assert decide(app, "jan@example.nl", "email", "nieuwsbrief").verdict.value == "allow"  # nothing written


def test_the_list_shows_what_is_overdue_and_what_falls_due_soon(app: App) -> None:
    late = dsr.open_request(app, "jan@example.nl", "access", received_at="2026-12-10", already_overdue=True)
    soon = dsr.open_request(app, "els@example.nl", "erasure", received_at="2026-12-20")
    later = dsr.open_request(app, "jan@example.nl", "portability")
    assert [q.id for q in dsr.list_requests(app)] == [late.id, soon.id, later.id]
    assert [q.id for q in dsr.list_requests(app, overdue=True)] == [late.id]
    assert [q.id for q in dsr.list_requests(app, due_within=7)] == [late.id, soon.id]
    assert [q.id for q in dsr.list_requests(app, due_within=5)] == [late.id, soon.id]  # its last day
    assert [q.id for q in dsr.list_requests(app, due_within=4)] == [late.id]
    with pytest.raises(InputError, match="number of days"):
        dsr.list_requests(app, due_within=-1)


def erase_raw(app: App, *contacts: str) -> None:
    """Erase points outside the request (by the erasure service: the ledger refuses the event)."""
    for c in contacts:
        assert erasure.erase(app, c).changed


def test_a_change_is_recorded_on_a_point_of_the_person_that_is_not_erased(app: App) -> None:
    q = dsr.open_request(app, "jan@example.nl", "access")
    erase_raw(app, "jan@example.nl")  # the phone number of the same person remains
    dsr.start(app, q.id, "anna@deboon.nl")
    started = next(e for e in dsr.show(app, q.id).events if e.type == "request.started")
    assert started.contact_point_id == "cp_000002"


def test_a_request_of_an_erased_person_can_only_be_closed_and_the_row_alone_says_so(app: App) -> None:
    q = dsr.open_request(app, "els@example.nl", "access")
    erase_raw(app, "els@example.nl")
    before = events(app)
    for change in (
        lambda: dsr.start(app, q.id, "anna@deboon.nl"),
        lambda: dsr.extend(app, q.id, "Busy", "anna@deboon.nl", told_via="letter"),
        lambda: dsr_handling.handle(app, q.id, "anna@deboon.nl", "x", Hooks()),
    ):
        with pytest.raises(InputError, match="is erased: nothing more can be recorded"):
            change()
    closed = dsr_handling.close(app, q.id, "withdrawn", "anna@deboon.nl", None)
    assert closed.request.state is RequestState.WITHDRAWN and closed.request.outcome_event is None
    assert "row alone" in (closed.problem or "") and events(app) == before
