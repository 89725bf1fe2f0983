"""NUL and other control characters get the same clear refusal on SQLite and PostgreSQL.

PostgreSQL cannot store NUL at all (before, it crashed with a traceback) and SQLite
stored it; now every way in refuses it by line and field, and writes nothing of the
row (or, for all-or-nothing inputs, of the file): `ledger append`, the API, register
and feedback files, and a Mailchimp export.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consentry.bootstrap import App
from consentry.entrypoints.cli import app as cli_app
from consentry.entrypoints.http import create_app
from consentry.services import apikeys, feedback_files, ledger, registers
from consentry.services.errors import FileRejected
from consentry.services.imports import mailchimp

NUL_NAME = "contains a control character (U+0000, NUL)"


def cli(url: str, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app, ["--database-url", url, *args], input=input)
    return result.exit_code, result.stdout, result.stderr


def event_count(app: App) -> int:
    with app.store.reader() as r:
        return r.counts()["events"]


def registration(value: str, **extra: object) -> dict[str, object]:
    return {
        "type": "contact_point.registered",
        "kind": "email",
        "value": value,
        "source": "web_form",
        **extra,
    }


def test_ledger_append_refuses_control_characters_in_any_field_naming_line_and_field(
    app: App, store_url: str
) -> None:
    lines = [
        registration("jan@example.nl", display_name="Jan\x00"),
        registration("piet@example.nl", attributes={"Klant": "K\x1b1"}),
        {"type": "tags.added", "contact": "cp_\x00", "tags": ["vip"]},
        registration("kees@example.nl", display_name="Kees"),
    ]
    code, _out, err = cli(store_url, "ledger", "append", "-", input="\n".join(json.dumps(x) for x in lines))
    assert code == 2 and "Traceback" not in err
    assert f"line 1: display_name: {NUL_NAME} at character 4, which cannot be stored" in err
    assert "line 2: attributes.Klant: contains a control character (U+001B, ESC)" in err
    assert f"line 3: contact: {NUL_NAME}" in err
    assert "line 4" not in err and event_count(app) == 0


def test_the_api_answers_422_for_a_control_character_in_an_event_and_writes_nothing(app: App) -> None:
    _, token = apikeys.create(app, "test", ["write"])
    with TestClient(create_app(app)) as client:

        def post(name: str) -> dict[str, object]:
            events = [registration("kees@example.nl"), registration("jan@example.nl", display_name=name)]
            answer = client.post(
                "/v1/events", json={"events": events}, headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 422
            (item,) = answer.json()["detail"]
            return dict(item)

        escape = post("J\x1ban")
        assert escape["loc"] == ["body", "events", 1, "display_name"]
        assert str(escape["msg"]).startswith("contains a control character (U+001B, ESC) at character 2")
        assert "NUL" in str(post("J\x00an")["msg"])  # refused with the body, before the ledger
    assert event_count(app) == 0


def test_a_register_file_refuses_a_line_with_a_control_character_by_line(app: App, tmp_path: Path) -> None:
    plain = tmp_path / "bmn.txt"
    plain.write_text("06 12345678\n\n06 1234\x005679\n06 87654321", encoding="utf-8")
    report = registers.import_file(app, plain, "bel-me-niet")
    assert [(p.line, p.field) for p in report.rejected] == [(3, "entry")]
    assert report.rejected[0].message.startswith(NUL_NAME)
    assert report.accounting() == (
        "entries: 3 = 2 new + 0 already listed + 1 rejected; lines: 4 = 3 entries + 1 blank"
    )


def test_a_register_csv_is_read_with_the_same_guarantees_as_an_import(app: App, tmp_path: Path) -> None:
    path = tmp_path / "tps.csv"
    path.write_text(
        'Naam;Telefoon\nA;06 12345678\nB;"06 11111111\nC;06 22222222\nD;06 3333\x003333\nE;\nF;06 12345678',
        encoding="utf-8",
    )
    report = registers.import_file(app, path, "tps", kind=None, column="Telefoon")
    assert [(p.line, p.field) for p in report.rejected] == [(3, "Telefoon"), (5, "Telefoon"), (6, "Telefoon")]
    assert "broken quote" in report.rejected[0].message and report.rejected[2].message == "empty"
    assert report.accounting() == (
        "entries: 6 = 2 new + 1 already listed + 3 rejected; lines: 7 = 1 header + 6 entries"
    )


@pytest.fixture
def known(app: App) -> Iterator[App]:
    ledger.append_records(app, [(1, registration("jan@example.nl")), (2, registration("piet@example.nl"))])
    yield app


def test_a_feedback_csv_with_a_nul_is_refused_whole_naming_the_line(known: App, tmp_path: Path) -> None:
    path = tmp_path / "bounces.csv"
    path.write_text(
        "address,kind,code,reason\n"
        "jan@example.nl,hard,5.1.1,user unknown\n"
        "piet@example.nl,hard,5.1.1,gone\x00\n",
        encoding="utf-8",
    )
    before = event_count(known)
    with pytest.raises(FileRejected) as caught:
        feedback_files.read_csv(known, path)
    assert [(p.line, p.field) for p in caught.value.problems] == [(3, "reason")]
    assert caught.value.problems[0].message.startswith(NUL_NAME)
    assert event_count(known) == before


def test_a_feedback_csv_prints_its_accounting_line(known: App, store_url: str, tmp_path: Path) -> None:
    path = tmp_path / "bounces.csv"
    path.write_text(
        "address,kind,code,message_id\r\njan@example.nl,soft,4.2.2,m1\r\n\r\npiet@example.nl,soft,4.2.2,m2",
        encoding="utf-8",
    )
    code, out, err = cli(store_url, "feedback", "import", str(path))
    assert code == 0, err
    assert (
        "rows: 2 = 2 recorded + 0 already recorded + 0 rejected; lines: 4 = 1 header + 2 rows + 1 blank"
        in out
    )


def test_a_mailchimp_member_with_a_control_character_is_rejected_and_the_rest_imported(
    app: App, tmp_path: Path
) -> None:
    path = tmp_path / "subscribed_members_export_1.csv"
    path.write_text(
        "Email Address,First Name,OPTIN_TIME\n"
        "jan@example.nl,Jan,2023-04-01 08:00:00\n"
        "piet@example.nl,Pi\x00et,2023-04-01 08:00:00\n"
        'kees@example.nl,"Kees,2023-04-01 08:00:00\n'
        "anna@example.nl,Anna,2023-04-01 08:00:00\n",
        encoding="utf-8",
    )
    (report,) = [f.report for f in mailchimp.run(app, path, "nieuwsbrief").files]
    assert [(p.line, p.field) for p in report.rejected] == [(3, "First Name"), (4, "First Name")]
    assert report.accounting() == "rows: 4 = 2 imported + 0 merged + 2 rejected; lines: 5 = 1 header + 4 rows"
