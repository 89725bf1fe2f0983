"""`consentry erase` as a user runs it on a SQLite file: Dutch first, English on request, idempotent."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from consentry.entrypoints.cli import app

runner = CliRunner()


def cli(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--database-url", db, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def demo_db(sqlite_url: str) -> str:
    code, _out, err = cli(sqlite_url, "demo")
    assert code == 0, err
    return sqlite_url


def test_erase_says_what_it_did_and_a_second_run_says_nothing_changed(demo_db: str) -> None:
    code, out, err = cli(demo_db, "erase", "sanne.visser@example.nl")
    assert code == 0, err
    assert out.startswith("gewist: cp_") and "blokkeringsregistratie" in out
    assert "sanne.visser" not in out
    code, out, _ = cli(demo_db, "erase", "sanne.visser@example.nl", "--lang", "en")
    assert code == 0 and "this address was erased on" in out and "nothing changed" in out
    code, out, _ = cli(demo_db, "decide", "--contact", "sanne.visser@example.nl", "--channel", "email",
                       "--purpose", "koffie-aanbiedingen")  # fmt: skip
    assert code == 2


def test_erase_json_and_refusals(demo_db: str) -> None:
    code, out, err = cli(
        demo_db, "erase", "pieter.bos@example.com", "--reason", "retention:leads-2y", "--json"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert (
        doc["changed"] and doc["reason"] == "retention:leads-2y" and doc["erased"][0]["id"].startswith("cp_")
    )
    code, _, err = cli(demo_db, "erase", "sanne.visser@example.nl", "--reason", "she phoned")
    assert code == 2 and "reason" in err
    code, _, err = cli(demo_db, "erase", "niemand@example.nl")
    assert code == 2 and "no contact point" in err
