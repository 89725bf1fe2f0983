"""Bounces and complaints fed back through the service, the CLI and the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import define_purposes, make_app
from consentry.bootstrap import App
from consentry.domain.clock import parse_moment
from consentry.domain.fold import fold
from consentry.domain.vocabulary import Verdict
from consentry.entrypoints.cli import app as cli_app
from consentry.entrypoints.http import create_app
from consentry.services import apikeys, feedback, feedback_files, ledger
from consentry.services.contacts import point_key
from consentry.services.decide import decide
from consentry.services.errors import FileRejected, InputError

JAN = "jan@example.nl"
PIET = "piet@example.nl"
PHONE = "+31612345678"
ALLOWED = (Verdict.ALLOW, "EU-GDPR-02")  # a valid consent
SUPPRESSED = (Verdict.DENY, "OPS-SUPP-01")
runner = CliRunner()


def register(app: App, *values: str) -> None:
    """Register each address or number with a newsletter consent over every channel it has."""
    records: list[dict[str, Any]] = []
    for value in values:
        is_phone = value.startswith("+")
        records.append(
            {
                "type": "contact_point.registered",
                "kind": "phone" if is_phone else "email",
                "value": value,
                "source": "web_form",
                "occurred_at": "2025-01-10",
            }
        )
        records.append(
            {
                "type": "consent.given",
                "contact": value,
                "purpose": "nieuwsbrief",
                "channels": ["sms"] if is_phone else ["email"],
                "method": "single_opt_in",
                "occurred_at": "2025-01-10",
            }
        )
    ledger.append_records(app, list(enumerate(records, 1)))


def verdict(app: App, contact: str = JAN, channel: str = "email") -> tuple[Verdict, str]:
    d = decide(app, contact, channel, "nieuwsbrief")
    return d.verdict, d.rule


def bounce_events(app: App, contact: str = JAN) -> list[dict[str, Any]]:
    with app.store.reader() as r:
        point = r.point_id(*_key(contact))
        assert point is not None
        return [dict(e.payload) for e in r.events_for(point) if e.type == "bounce.recorded"]


def _key(contact: str) -> tuple[Any, str]:
    key = point_key(contact)
    assert not isinstance(key, str)
    return key


def event_count(app: App) -> int:
    with app.store.reader() as r:
        return r.counts()["events"]


@pytest.fixture
def people(app: App) -> App:
    register(app, JAN, PIET, PHONE)
    return app


# -- the service -------------------------------------------------------------------------------


def test_a_hard_bounce_makes_later_decisions_deny_by_the_suppression_rule(people: App) -> None:
    assert verdict(people) == ALLOWED
    report = feedback.record_one(people, feedback.Bounce(JAN, "hard", "5.1.1", "550 5.1.1 user unknown"))
    assert report.recorded == 1 and report.suppressed == [report.outcomes[0].contact_point]
    assert verdict(people) == SUPPRESSED
    assert verdict(people, PIET) == ALLOWED


def test_a_spam_complaint_suppresses_the_point_with_its_evidence(people: App) -> None:
    item = feedback.Complaint(PHONE, source="sms STOP reply", campaign="voorjaar", message_id="<m1@x>")
    feedback.record_one(people, item)
    assert verdict(people, PHONE, "sms") == SUPPRESSED
    with people.store.reader() as r:
        point = r.point_id(*_key(PHONE))
        assert point is not None
        (event,) = [e for e in r.events_for(point) if e.type == "complaint.recorded"]
    assert dict(event.payload) == {
        "feedback_type": "abuse",
        "feedback_source": "sms STOP reply",
        "campaign": "voorjaar",
        "message_id": "m1@x",
    }


def test_a_bounce_keeps_its_code_reason_campaign_and_message_id_as_evidence(people: App) -> None:
    item = feedback.Bounce(JAN, code="5.1.1", reason="user unknown", campaign="c1", message_id=" <a@b> ")
    feedback.record_one(people, item)
    assert bounce_events(people) == [
        {
            "bounce_kind": "hard",
            "status": "5.1.1",
            "diagnostic": "user unknown",
            "campaign": "c1",
            "message_id": "a@b",
        }
    ]


def test_the_same_feedback_twice_is_one_event_by_message_id_or_by_the_callers_id(people: App) -> None:
    first = feedback.record(
        people,
        [
            (0, feedback.Bounce(JAN, "soft", "4.2.2", message_id="<m1@x>")),
            (1, feedback.Bounce(JAN, "soft", "4.2.2", message_id="m1@x")),  # the same, in one batch
            (2, feedback.Complaint(PIET, id="fbl-123")),
        ],
    )
    again = feedback.record(
        people,
        [(0, feedback.Bounce(JAN, "soft", message_id="m1@x")), (1, feedback.Complaint(PIET, id="fbl-123"))],
    )
    assert (first.recorded, first.duplicates) == (2, 1)
    assert (again.recorded, again.duplicates) == (0, 2)
    assert [o.event_id for o in again.outcomes] == [first.outcomes[0].event_id, first.outcomes[2].event_id]
    assert len(bounce_events(people)) == 1


def test_a_hard_bounce_of_a_message_that_soft_bounced_before_is_recorded_too(people: App) -> None:
    feedback.record_one(people, feedback.Bounce(JAN, "soft", message_id="m1"))
    feedback.record_one(people, feedback.Bounce(JAN, "hard", message_id="m1"))
    assert [e["bounce_kind"] for e in bounce_events(people)] == ["soft", "hard"]


def test_a_batch_with_one_bad_item_writes_nothing_and_names_each_item_and_field(people: App) -> None:
    before = event_count(people)
    with pytest.raises(FileRejected) as caught:
        feedback.record(
            people,
            [
                (0, feedback.Bounce(JAN, "hard")),
                (1, feedback.Bounce("onbekend@example.nl", "hard")),
                (2, feedback.Bounce(JAN)),
                (3, feedback.Bounce(JAN, code="2.0.0")),
                (4, feedback.Bounce(JAN, code="x5.1")),
                (5, feedback.Complaint(JAN, feedback_type="not-spam")),
                (6, feedback.Bounce(JAN, "hard", occurred_at="gisteren")),
            ],
        )
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (1, "contact"),
        (2, "kind"),
        (3, "code"),
        (4, "code"),
        (5, "feedback_type"),
        (6, "occurred_at"),
    ]
    assert "not a registered contact point" in caught.value.problems[0].message
    assert "onbekend" not in caught.value.problems[0].message  # inputs are not echoed
    assert event_count(people) == before
    assert verdict(people) == ALLOWED


def test_feedback_about_an_unknown_address_registers_nothing(people: App) -> None:
    with pytest.raises(InputError) as caught:
        feedback.record_one(people, feedback.Complaint("nieuw@example.nl"))
    assert caught.value.field == "contact"
    with people.store.reader() as r:
        assert r.point_id(*_key("nieuw@example.nl")) is None


def test_the_code_tells_the_kind_and_an_explicit_kind_wins(people: App) -> None:
    feedback.record(
        people,
        [
            (0, feedback.Bounce(JAN, code="550")),
            (1, feedback.Bounce(PIET, code="4.4.7")),
            (2, feedback.Bounce(PIET, "soft", code="5.2.2")),  # mailbox full: treated as temporary
        ],
    )
    assert [e["bounce_kind"] for e in bounce_events(people)] == ["hard"]
    assert [e["bounce_kind"] for e in bounce_events(people, PIET)] == ["soft", "soft"]
    assert verdict(people, PIET) == ALLOWED


def test_a_postal_address_takes_no_bounces(people: App) -> None:
    ledger.register_point(
        people, {"kind": "postal", "value": "Dorpsstraat 1; 1234 AB Dorp", "source": "import"}
    )
    with pytest.raises(InputError) as caught:
        feedback.record_one(people, feedback.Bounce("postal:Dorpsstraat 1; 1234 AB Dorp", "hard"))
    assert caught.value.field == "contact"


# -- soft bounces ------------------------------------------------------------------------------


def soft(app: App, *days: str, contact: str = JAN) -> feedback.FeedbackReport:
    items = [
        (n, feedback.Bounce(contact, "soft", "4.2.2", message_id=f"m-{d}", occurred_at=d))
        for n, d in enumerate(days)
    ]
    return feedback.record(app, items)


def test_one_or_two_soft_bounces_are_counted_but_do_not_suppress(people: App) -> None:
    soft(people, "2026-11-01", "2026-11-02")
    assert verdict(people) == ALLOWED
    with people.store.reader() as r:
        point = r.point_id(*_key(JAN))
        assert point is not None
        assert fold(point, r.events_for(point)).soft_bounces == 2


def test_three_soft_bounces_within_thirty_days_suppress_through_a_derived_hard_bounce(people: App) -> None:
    first = soft(people, "2026-10-01", "2026-10-20")
    report = soft(people, "2026-10-30")
    assert first.suppressed == [] and len(report.suppressed) == 1
    assert report.recorded == 2  # the soft bounce and the hard one derived from it
    events = bounce_events(people)
    derived = events[-1]
    assert derived["bounce_kind"] == "hard" and len(derived["derived_from"]) == 3
    assert "3 soft bounces within 30 days" in derived["diagnostic"]
    assert verdict(people) == SUPPRESSED
    # As of a moment before the third soft bounce, the address was not suppressed yet.
    before = decide(people, JAN, "email", "nieuwsbrief", at=parse_moment("2026-10-25"))
    assert before.verdict is Verdict.ALLOW
    soft(people, "2026-10-31")
    assert [e["bounce_kind"] for e in bounce_events(people)].count("hard") == 1


def test_soft_bounces_spread_over_more_than_the_period_do_not_suppress(people: App) -> None:
    soft(people, "2026-06-01", "2026-07-15", "2026-09-01", "2026-10-20")
    assert verdict(people) == ALLOWED


def test_retries_of_one_message_count_as_one_soft_bounce(people: App) -> None:
    for _ in range(4):
        feedback.record_one(people, feedback.Bounce(JAN, "soft", message_id="same@x"))
    assert verdict(people) == ALLOWED


def test_the_soft_bounce_limit_can_be_turned_off(store_url: str) -> None:
    app = make_app(store_url, soft_bounce_limit=0)
    try:
        define_purposes(app)
        register(app, JAN)
        soft(app, "2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04")
        assert verdict(app) == ALLOWED
    finally:
        app.store.engine.dispose()


# -- the command line --------------------------------------------------------------------------


#: The CLI runs on the system clock, the fixture's decisions at the fixed NOW: record before it.
BEFORE_NOW = ("--at", "2026-11-20")


def cli(url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli_app, ["--database-url", url, *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_cli_records_a_hard_bounce_and_says_the_address_is_suppressed(
    people: App, store_url: str
) -> None:
    code, out, err = cli(
        store_url,
        "feedback",
        "bounce",
        JAN,
        "--kind",
        "hard",
        "--code",
        "5.1.1",
        "--reason",
        "no such user",
        *BEFORE_NOW,
    )
    assert code == 0, err
    assert "is now suppressed (rule OPS-SUPP-01)" in out
    assert verdict(people) == SUPPRESSED
    assert bounce_events(people)[0]["status"] == "5.1.1"


def test_the_cli_records_a_complaint_once_per_message_id(people: App, store_url: str) -> None:
    args = ("feedback", "complaint", PIET, "--source", "fbl.example", "--message-id", "<x@y>", *BEFORE_NOW)
    assert cli(store_url, *args)[0] == 0
    code, out, _ = cli(store_url, *args)
    assert code == 0 and out.startswith("already recorded")
    assert verdict(people, PIET) == SUPPRESSED


def test_the_cli_refuses_an_unknown_address_with_a_clear_error(people: App, store_url: str) -> None:
    code, _out, err = cli(store_url, "feedback", "bounce", "wie@example.nl", "--kind", "hard")
    assert code == 2 and "error: contact: is not a registered contact point" in err


def test_a_feedback_csv_is_recorded_whole_and_again_adds_nothing(
    people: App, store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "bounces.csv"
    path.write_text(
        "address,kind,code,reason,message_id,occurred_at\n"
        f"{JAN},hard,5.1.1,user unknown,m1@x,2026-11-20\n"
        f"{PIET},soft,4.2.2,mailbox full,,2026-11-20\n"
        f"{PHONE},complaint,,,,2026-11-20\n",
        encoding="utf-8",
    )
    code, out, err = cli(store_url, "feedback", "import", str(path))
    assert code == 0, err
    assert "3 recorded, 0 already recorded" in out
    code, out, _ = cli(store_url, "feedback", "import", str(path))
    assert code == 0 and "0 recorded, 3 already recorded" in out
    assert verdict(people) == SUPPRESSED
    assert verdict(people, PIET) == ALLOWED
    assert verdict(people, PHONE, "sms") == SUPPRESSED


def test_a_feedback_csv_with_problems_writes_nothing_and_names_the_lines(
    people: App, store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "bounces.csv"
    path.write_text(
        "address,kind,code,reason,message_id\n"
        f"{JAN},hard,5.1.1,,\n"
        "onbekend@example.nl,hard,,,\n"
        f"{PIET},sometimes,,,\n"
        f"{PHONE},complaint,5.7.1,,\n",
        encoding="utf-8",
    )
    before = event_count(people)
    code, _out, err = cli(store_url, "feedback", "import", str(path))
    assert code == 2
    assert "line 3: contact:" in err and "line 4: kind:" in err and "line 5: code:" in err
    assert "nothing was appended" in err
    assert event_count(people) == before


def test_a_feedback_csv_with_an_unknown_column_is_refused(
    people: App, store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "bounces.csv"
    path.write_text("address,kind,mesage_id\njan@example.nl,hard,x\n", encoding="utf-8")
    code, _out, err = cli(store_url, "feedback", "import", str(path))
    assert code == 2 and "unknown column(s) mesage_id" in err


# -- the API -----------------------------------------------------------------------------------


@pytest.fixture
def client(people: App) -> Iterator[TestClient]:
    with TestClient(create_app(people)) as c:
        yield c


def headers(app: App, *scopes: str) -> dict[str, str]:
    _, token = apikeys.create(app, "test", list(scopes))
    return {"Authorization": f"Bearer {token}"}


def test_the_api_records_bounces_and_a_replay_is_reported_as_duplicates(
    people: App, client: TestClient
) -> None:
    body = {
        "bounces": [
            {"contact": JAN, "code": "5.1.1", "reason": "user unknown", "message_id": "m1@x"},
            {"contact": PIET, "kind": "soft", "message_id": "m2@x"},
        ]
    }
    write = headers(people, "write")
    first = client.post("/v1/bounces", json=body, headers=write)
    assert first.status_code == 201, first.text
    doc = first.json()
    assert (doc["recorded"], doc["duplicates"], len(doc["suppressed"])) == (2, 0, 1)
    replay = client.post("/v1/bounces", json=body, headers=write).json()
    assert (replay["recorded"], replay["duplicates"], replay["suppressed"]) == (0, 2, [])
    assert [i["event_id"] for i in replay["items"]] == [i["event_id"] for i in doc["items"]]
    assert verdict(people) == SUPPRESSED


def test_the_api_records_complaints(people: App, client: TestClient) -> None:
    body = {
        "complaints": [{"contact": PHONE, "source": "sms STOP"}, {"contact": PIET, "feedback_type": "fraud"}]
    }
    answer = client.post("/v1/complaints", json=body, headers=headers(people, "write"))
    assert answer.status_code == 201 and answer.json()["recorded"] == 2
    assert verdict(people, PHONE, "sms") == SUPPRESSED
    assert verdict(people, PIET) == SUPPRESSED


def test_the_api_refuses_a_batch_with_a_bad_item_naming_the_item_and_field(
    people: App, client: TestClient
) -> None:
    body = {"bounces": [{"contact": JAN, "kind": "hard"}, {"contact": "wie@example.nl", "kind": "hard"}]}
    before = event_count(people)
    answer = client.post("/v1/bounces", json=body, headers=headers(people, "write"))
    assert answer.status_code == 422
    assert [p["loc"] for p in answer.json()["detail"]] == [["body", "bounces", 1, "contact"]]
    bad_kind = client.post(
        "/v1/bounces", json={"bounces": [{"contact": JAN, "kind": "mild"}]}, headers=headers(people, "write")
    )
    assert bad_kind.status_code == 422 and bad_kind.json()["detail"][0]["loc"] == [
        "body",
        "bounces",
        0,
        "kind",
    ]
    assert event_count(people) == before
    assert verdict(people) == ALLOWED


def test_feedback_needs_the_write_scope(people: App, client: TestClient) -> None:
    body = {"complaints": [{"contact": JAN}]}
    assert client.post("/v1/complaints", json=body).status_code == 401
    assert client.post("/v1/complaints", json=body, headers=headers(people, "read")).status_code == 403


# -- reports in raw messages -------------------------------------------------------------------


def report(report_type: str, status_part: str, returned: str) -> bytes:
    """A minimal multipart/report with the given machine-readable part and returned headers."""
    kind = "delivery-status" if report_type == "delivery-status" else "feedback-report"
    head = f'MIME-Version: 1.0\nContent-Type: multipart/report; report-type={report_type}; boundary="g"\n\n'
    parts = (
        "--g\nContent-Type: text/plain\n\nRapport.\n\n",
        f"--g\nContent-Type: message/{kind}\n\n{status_part}\n",
        f"--g\nContent-Type: text/rfc822-headers\n\n{returned}\n--g--\n",
    )
    return (head + "".join(parts)).encode()


def dsn(action: str, status: str, to: str = JAN) -> bytes:
    status_part = (
        "Reporting-MTA: dns; mx.example.nl\n\n"
        f"Final-Recipient: rfc822; {to}\nAction: {action}\nStatus: {status}\n"
        f"Diagnostic-Code: smtp; {status} mailbox says no\n"
        "Last-Attempt-Date: Fri, 20 Nov 2026 10:00:00 +0100\n"
    )
    return report("delivery-status", status_part, "Message-ID: <n1@winkel.example>\n")


def arf(feedback_type: str = "abuse", to: str = PIET) -> bytes:
    fields = (
        f"Feedback-Type: {feedback_type}\nVersion: 1\nUser-Agent: FBL/1\nOriginal-Rcpt-To: {to}\n"
        "Arrival-Date: Sat, 21 Nov 2026 08:00:00 +0000\n"
    )
    return report("feedback-report", fields, "Message-ID: <n2@winkel.example>\n")


def test_a_dsn_of_a_failed_delivery_records_a_hard_bounce_with_its_evidence(people: App) -> None:
    result = feedback_files.read_dsn(people, dsn("failed", "5.1.1"))
    assert result.recorded == 1 and len(result.suppressed) == 1
    assert bounce_events(people) == [
        {
            "bounce_kind": "hard",
            "status": "5.1.1",
            "diagnostic": "5.1.1 mailbox says no",
            "message_id": "n1@winkel.example",
        }
    ]
    assert verdict(people) == SUPPRESSED
    assert feedback_files.read_dsn(people, dsn("failed", "5.1.1")).duplicates == 1


def test_a_delay_is_a_soft_bounce_and_a_delivery_is_no_bounce(people: App) -> None:
    assert feedback_files.read_dsn(people, dsn("delivered", "2.0.0")).outcomes == []
    feedback_files.read_dsn(people, dsn("delayed", "4.4.1"))
    assert [e["bounce_kind"] for e in bounce_events(people)] == ["soft"]
    assert verdict(people) == ALLOWED


def test_a_dsn_about_an_unknown_recipient_says_which_recipient(people: App) -> None:
    with pytest.raises(InputError, match=r"recipient 1 of the report"):
        feedback_files.read_dsn(people, dsn("failed", "5.1.1", to="wie@example.nl"))


def test_an_arf_report_records_a_complaint_that_suppresses(people: App) -> None:
    result = feedback_files.read_arf(people, arf())
    assert result.recorded == 1
    assert verdict(people, PIET) == SUPPRESSED
    with pytest.raises(InputError, match="not a spam complaint"):
        feedback_files.read_arf(people, arf("not-spam", to=JAN))
    with pytest.raises(InputError, match="not a multipart/report; report-type=feedback-report"):
        feedback_files.read_arf(people, dsn("failed", "5.1.1"))


def test_the_cli_reads_a_dsn_file_and_an_arf_report_from_stdin(
    people: App, store_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "bounce.eml"
    path.write_bytes(dsn("failed", "5.1.1"))
    code, out, err = cli(store_url, "feedback", "dsn", str(path))
    assert code == 0, err
    assert "is now suppressed" in out
    result = runner.invoke(cli_app, ["--database-url", store_url, "feedback", "arf", "-"], input=arf())
    assert result.exit_code == 0, result.stderr
    assert verdict(people) == SUPPRESSED and verdict(people, PIET) == SUPPRESSED
    code, out, _ = cli(store_url, "feedback", "dsn", str(tmp_path / "missing.eml"))
    assert code == 2


def test_text_that_is_not_valid_unicode_is_refused_not_crashed_on(people: App, client: TestClient) -> None:
    # A lone surrogate, escaped as JSON allows (a client library would refuse to encode it).
    raw = b'{"bounces": [{"contact": "jan@example.nl", "kind": "hard", "message_id": "m\\ud800"}]}'
    write = {**headers(people, "write"), "Content-Type": "application/json"}
    answer = client.post("/v1/bounces", content=raw, headers=write)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "bounces", 0, "message_id"]
