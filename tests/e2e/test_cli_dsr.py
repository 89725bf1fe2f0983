"""`consentry dsr` as a privacy officer runs it, on a SQLite file, with a real SMTP server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import Inbox, body_text
from consentry.entrypoints.cli import app

runner = CliRunner()
PEOPLE = [
    {"type": "contact_point.registered", "kind": "email", "value": "jan@example.nl", "source": "web_form",
     "attributes": {"language": "nl"}},
    {"type": "contact_point.registered", "kind": "email", "value": "els@example.nl", "source": "web_form"},
]  # fmt: skip


def cli(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--database-url", db, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(sqlite_url: str, tmp_path: Path, smtp: tuple[Inbox, int], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CONSENTRY_SMTP_PORT", str(smtp[1]))
    monkeypatch.setenv("CONSENTRY_PRIVACY_OFFICER_EMAIL", "privacy@deboon.nl")
    monkeypatch.setenv("CONSENTRY_SECRET_KEY", "test-secret-key-0123456789")
    assert cli(sqlite_url, "init")[0] == 0
    people = tmp_path / "people.jsonl"
    people.write_text("\n".join(json.dumps(p) for p in PEOPLE) + "\n", encoding="utf-8")
    code, _, err = cli(sqlite_url, "ledger", "append", str(people))
    assert code == 0, err
    return sqlite_url


def opened(db: str, contact: str, kind: str, *more: str) -> dict[str, object]:
    code, out, err = cli(db, "dsr", "open", contact, "--kind", kind, "--via", "letter", "--json", *more)
    assert code == 0, err
    doc: dict[str, object] = json.loads(out)
    return doc


def test_a_request_is_opened_listed_verified_extended_and_handled_from_the_command_line(
    db: str, smtp: tuple[Inbox, int]
) -> None:
    inbox, _ = smtp
    q = opened(db, "jan@example.nl", "rectification", "--note", "Mijn naam is fout gespeld")
    rid = str(q["id"])
    assert q["state"] == "open" and q["identity"] == "unverified" and q["days_left"] in range(28, 32)
    code, out, _ = cli(db, "dsr", "list", "--json")
    assert code == 0 and [x["id"] for x in json.loads(out)] == [rid]
    code, out, _ = cli(db, "dsr", "list", "--overdue")
    assert code == 0 and out == ""

    code, _, err = cli(db, "dsr", "handle", rid, "--outcome", "Aangepast", "--by", "anna@deboon.nl")
    assert code == 2 and "verify it first" in err
    code, out, err = cli(
        db, "dsr", "verify-identity", rid, "--method", "email_reply", "--by", "anna@deboon.nl"
    )
    assert code == 0 and "identity verified" in out, err
    code, out, err = cli(db, "dsr", "extend", rid, "--reason", "Drie systemen", "--by", "anna@deboon.nl")
    assert code == 0 and "(extended)" in out, err
    assert "Drie systemen" in body_text(inbox.wait_for(1)[0])
    code, _, err = cli(db, "dsr", "extend", rid, "--reason", "Nog eens", "--by", "anna@deboon.nl")
    assert code == 2 and "only once" in err

    code, out, err = cli(
        db, "dsr", "handle", rid, "--outcome", "Naam verbeterd", "--by", "anna@deboon.nl",
        "--display-name", "Jan de Vries", "--attribute", "plaats=Utrecht",
    )  # fmt: skip
    assert code == 0 and " done " in out and "told by e-mail" in out, err
    mail = inbox.wait_for(2)[1]
    assert mail["Subject"] == "Je verzoek is afgehandeld" and "Naam verbeterd" in body_text(mail)
    code, out, _ = cli(db, "dsr", "show", rid, "--json")
    doc = json.loads(out)
    assert [e["type"] for e in doc["events"]] == [
        "request.received",
        "request.identity_checked",
        "request.extended",
        "request.handled",
        "request.told",
    ]
    assert doc["events"][0]["note"] == "Mijn naam is fout gespeld" and doc["handler"] == "anna@deboon.nl"
    code, out, _ = cli(db, "contacts", "show", "jan@example.nl", "--json")
    assert json.loads(out)["state"]["attributes"]["plaats"] == "Utrecht"
    code, _, err = cli(db, "dsr", "close", rid, "--withdrawn", "--by", "anna@deboon.nl")
    assert code == 2 and "is already done" in err


def test_bad_input_on_the_command_line_is_one_clear_line_and_exit_code_2(db: str) -> None:
    for args, says in (
        (("dsr", "open", "nobody@example.nl", "--kind", "access"), "no contact point"),
        (("dsr", "open", "jan@example.nl", "--kind", "lunch"), "is not one of"),
        (
            ("dsr", "open", "jan@example.nl", "--kind", "access", "--received", "2020-01-01"),
            "--already-overdue",
        ),
        (("dsr", "show", "dsr_nope"), "no request with id"),
        (("dsr", "list", "--due-within", "-3"), "number of days"),
        (("dsr", "close", "dsr_nope", "--by", "anna"), "say --refused or --withdrawn"),
    ):
        code, out, err = cli(db, *args)
        assert code == 2 and says in err and "Traceback" not in err + out, (args, err)
    assert cli(db, "dsr", "list", "--all", "--json")[1].strip() == "[]"


def test_an_erasure_request_is_carried_out_and_an_access_request_needs_a_copy_folder(db: str) -> None:
    rid = str(opened(db, "els@example.nl", "erasure")["id"])
    cli(db, "dsr", "verify-identity", rid, "--method", "in_person", "--by", "anna@deboon.nl")
    code, _, err = cli(db, "dsr", "handle", rid, "--outcome", "Gewist", "--by", "anna@deboon.nl")
    assert code == 0, err
    assert json.loads(cli(db, "dsr", "show", rid, "--json")[1])["state"] == "done"
    code, out, err = cli(
        db, "decide", "--contact", "els@example.nl", "--channel", "email", "--purpose", "nieuwsbrief"
    )
    assert code != 0 and "Traceback" not in err + out  # erased: no longer a contact point
    asked = str(opened(db, "jan@example.nl", "access")["id"])
    cli(db, "dsr", "verify-identity", asked, "--method", "in_person", "--by", "anna@deboon.nl")
    code, _, err = cli(db, "dsr", "handle", asked, "--outcome", "Kopie", "--by", "anna@deboon.nl")
    assert code == 2 and "no export is wired" in err  # CONSENTRY_ACCESS_EXPORT_DIR is not set
    assert json.loads(cli(db, "dsr", "show", asked, "--json")[1])["state"] == "open"


def test_the_reminder_mails_the_privacy_officer_once_a_day(db: str, smtp: tuple[Inbox, int]) -> None:
    inbox, _ = smtp
    late = str(opened(db, "els@example.nl", "access", "--received", "2020-01-01", "--already-overdue")["id"])
    soon = str(opened(db, "jan@example.nl", "access")["id"])  # due in a month: not yet
    code, out, err = cli(db, "dsr", "remind")
    assert code == 0 and "reminded privacy@deboon.nl of 1 request(s)" in out, err
    msg = inbox.wait_for(1)[0]
    assert msg["To"] == "privacy@deboon.nl" and late in body_text(msg) and "te laat" in body_text(msg)
    assert "reminded privacy@deboon.nl of 0 request(s)" in cli(db, "dsr", "remind")[1]
    # with a wider window the other is due too; the late one was already mailed about today
    assert "of 1 request(s)" in cli(db, "dsr", "remind", "--within", "40")[1]
    second = body_text(inbox.wait_for(2)[1])
    assert soon in second and late not in second
