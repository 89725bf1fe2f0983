"""`consentry export-person | proof | receipts | report processing`, as a privacy officer runs them on
the demo ledger, on SQLite and on PostgreSQL; the proof's command is run and its proof checked."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consentry.entrypoints.cli import app as cli_app

runner = CliRunner()


class Officer:
    """Runs `consentry` against one database, with a checkpoint key and file beside it."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url = url
        self.env = {
            "CONSENTRY_CHECKPOINT_KEY_FILE": str(tmp / "checkpoint.pem"),
            "CONSENTRY_CHECKPOINT_FILE": str(tmp / "checkpoints.jsonl"),
        }

    def __call__(self, *args: str) -> tuple[int, str, str]:
        result = runner.invoke(cli_app, ["--database-url", self.url, *args], env=self.env)
        return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def run(store_url: str, tmp_path: Path) -> Iterator[Officer]:
    op = Officer(store_url, tmp_path)
    for command in (("demo",), ("ledger", "keygen"), ("ledger", "checkpoint")):
        code, _, err = op(*command)
        assert code == 0, err
    yield op


def test_the_command_in_the_proof_report_proves_the_consent_it_names(run: Officer, tmp_path: Path) -> None:
    code, out, err = run("proof", "jan.devries@example.nl", "--format", "json")
    assert code == 0, err
    (consent,) = json.loads(out)["consents"]
    assert consent["confirmation"]["ip"] == "203.0.113.17" and consent["text_version"] == "nieuwsbrief-v3"
    command = shlex.split(consent["prove"])
    assert command[:3] == ["consentry", "ledger", "prove"]
    code, out, err = run(*command[1:])
    assert code == 0, err
    proof = json.loads(out)
    assert (proof["seq"], proof["hash"], proof["prev_hash"]) == (
        consent["chain"]["seq"],
        consent["chain"]["hash"],
        consent["chain"]["prev_hash"],
    )
    (tmp_path / "proof.json").write_text(out)
    code, key, _ = run("ledger", "public-key")
    result = runner.invoke(
        cli_app, ["ledger", "check-proof", str(tmp_path / "proof.json"), "--public-key", key.strip()], env={}
    )
    assert result.exit_code == 0 and f"event {consent['event_id']}" in result.stdout
    code, out, _ = run("proof", "jan.devries@example.nl", "--lang", "en")
    assert code == 0 and "Proof of consent" in out and consent["chain"]["hash"] in out


def test_the_export_of_a_person_with_four_points_is_written_to_a_file(run: Officer, tmp_path: Path) -> None:
    target = tmp_path / "eva.html"
    code, _, err = run("export-person", "06 23456789", "--format", "html", "-o", str(target))
    assert code == 0 and f"wrote {target}" in err
    html = target.read_text(encoding="utf-8")
    assert "Overzicht van uw gegevens" in html and "Koffiebeurs Utrecht 2022" in html
    assert "Lindelaan 8" in html and "jan.devries@example.nl" not in html
    code, out, _ = run("export-person", "06 23456789")
    doc = json.loads(out)
    assert {p["kind"] for p in doc["contact_points"]} == {"email", "phone", "postal"}
    assert doc["subject"]["contact_id"] == "klant-0042"


def test_receipts_of_a_purpose_are_json(run: Officer) -> None:
    code, out, err = run("receipts", "--purpose", "nieuwsbrief")
    assert code == 0, err
    found = json.loads(out)
    assert found and all(r["schema_version"].startswith("ISO/IEC TS 27560") for r in found)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export-person", "nobody@example.nl"), "error: contact: no contact point 'nobody@example.nl'"),
        (("proof", "cp_unknown"), "error: contact: no contact point with id 'cp_unknown'"),
        (("receipts",), "error: purpose: give either --purpose KEY or --event ID"),
        (("receipts", "--purpose", "geen"), "error: purpose: unknown purpose 'geen'"),
        (("report", "processing", "--from", "2026-02-01", "--to", "2026-01-01"), "ends (2026-01-01) before"),
        (("report", "processing", "--from", "1 jan", "--to", "2026-01-01"), "'1 jan' is not a date"),
        (("export-person", "jan.devries@example.nl", "--lang", "de"), "unknown language 'de'"),
    ],
)
def test_bad_input_gets_a_clear_message_and_exit_2(run: Officer, args: tuple[str, ...], message: str) -> None:
    code, _, err = run(*args)
    assert code == 2 and message in err and "Traceback" not in err


def test_a_period_with_nothing_in_it_says_so(run: Officer) -> None:
    code, out, err = run("report", "processing", "--from", "2010-01-01", "--to", "2010-12-31")
    assert code == 0 and "nothing was recorded from 2010-01-01 to 2010-12-31" in err
    assert json.loads(out)["empty"] is True


def test_an_erased_address_is_said_to_be_erased_by_export_and_proof(run: Officer) -> None:
    code, _, err = run("erase", "jan.devries@example.nl")
    assert code == 0, err
    for command in ("export-person", "proof"):
        code, out, err = run(command, "jan.devries@example.nl")
        assert code == 2 and out == ""
        assert "alleen een onderdrukkingsregel blijft" in err and "only a suppression record remains" in err
        assert "gewist op " in err and "unknown" not in err and "no contact point" not in err
