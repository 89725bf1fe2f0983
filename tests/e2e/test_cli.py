"""The command line, as a user runs it, on a SQLite file."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from consentry.entrypoints.cli import app

runner = CliRunner()


def cli(db: str, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--database-url", db, *args], input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def demo_db(sqlite_url: str) -> str:
    code, out, err = cli(sqlite_url, "demo")
    assert code == 0, err
    assert "demo loaded: 17 contact points" in out
    return sqlite_url


def test_demo_loads_and_shows_a_verdict_per_story(demo_db: str) -> None:
    code, _out, err = cli(demo_db, "demo")
    assert code == 2 and "already loaded" in err


def test_decide_json_prints_one_object_with_verdict_basis_reasons_and_obligations(demo_db: str) -> None:
    code, out, _ = cli(
        demo_db,
        "decide",
        "--contact",
        "sanne.visser@example.nl",
        "--channel",
        "email",
        "--purpose",
        "koffie-aanbiedingen",
        "--json",
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["verdict"] == "allow" and doc["basis"] == "customer_exception"
    assert doc["reasons"][0]["rule"] == "NL-EM-02" and doc["reasons"][0]["citation"]
    assert doc["reasons"][0]["explanation"].startswith("Klantuitzondering")
    assert "opt-out-in-every-message" in doc["obligations"]
    assert set(doc) >= {"verdict", "basis", "reasons", "obligations", "at"}


def test_a_call_to_the_same_ex_customer_gets_three_answers_over_the_years(demo_db: str) -> None:
    answers = []
    for at in ("2019-05-01", "2025-05-01", "2026-08-01"):
        code, out, _ = cli(
            demo_db,
            "decide",
            "--contact",
            "06 12345678",
            "--channel",
            "phone",
            "--purpose",
            "koffie-aanbiedingen",
            "--at",
            at,
            "--json",
        )
        assert code == 0
        answers.append((json.loads(out)["verdict"], json.loads(out)["rule"]))
    assert answers == [("allow", "NL-TM-00"), ("allow", "NL-TM-02"), ("deny", "NL-TM-02b")]


def test_explain_answers_in_english_when_asked(demo_db: str) -> None:
    code, out, _ = cli(
        demo_db,
        "explain",
        "--contact",
        "m.jansen@example.nl",
        "--channel",
        "email",
        "--purpose",
        "nieuwsbrief",
        "--lang",
        "en",
    )
    assert code == 0
    assert out.startswith("NOT ALLOWED") and "[EU-GDPR-04]" in out and "objected" in out


def test_decide_rejects_a_date_in_the_wrong_format(demo_db: str) -> None:
    code, _, err = cli(
        demo_db,
        "decide",
        "--contact",
        "jan.devries@example.nl",
        "--channel",
        "email",
        "--purpose",
        "nieuwsbrief",
        "--at",
        "1-5-2025",
    )
    assert code == 2 and "not a date or time" in err


def test_ledger_append_is_all_or_nothing_and_names_line_and_field(demo_db: str, tmp_path: Path) -> None:
    f = tmp_path / "events.jsonl"
    f.write_text(
        '{"type":"contact_point.registered","kind":"email","value":"nieuw@example.nl","source":"web_form"}\n'
        '{"type":"unsubscribed","contact":"nieuw@example.nl"}\n'
        '{"type":"contact_point.registered","kind":"phone","value":"12","source":"web_form"}\n',
        encoding="utf-8",
    )
    code, _, err = cli(demo_db, "ledger", "append", str(f))
    assert code == 2
    assert "line 3: value:" in err and "nothing was appended" in err
    code, out, _ = cli(demo_db, "ledger", "verify")
    assert code == 0 and "34 events" in out


def test_ledger_append_reads_standard_input(demo_db: str) -> None:
    lines = '{"type":"objection.recorded","contact":"jan.devries@example.nl","scope":"direct_marketing"}\n'
    code, out, _ = cli(demo_db, "ledger", "append", "-", input=lines)
    assert code == 0 and "appended 1 events" in out
    code, out, _ = cli(
        demo_db,
        "decide",
        "--contact",
        "jan.devries@example.nl",
        "--channel",
        "email",
        "--purpose",
        "nieuwsbrief",
    )
    assert out.startswith("deny (EU-GDPR-04)")


def test_ledger_verify_reports_a_hand_edited_row(demo_db: str) -> None:
    path = demo_db.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE events SET payload = json_set(payload, '$.method', 'single_opt_in') WHERE seq = 2"
        )
    code, _, err = cli(demo_db, "ledger", "verify")
    assert code == 1
    assert "seq 2" in err and "edited" in err and "NOT intact" in err


def test_purposes_can_be_defined_and_listed(sqlite_url: str) -> None:
    assert cli(sqlite_url, "init")[0] == 0
    code, out, _ = cli(
        sqlite_url,
        "purposes",
        "add",
        "webinars",
        "--name-nl",
        "Webinars",
        "--name-en",
        "Webinars",
        "--category",
        "training",
    )
    assert code == 0 and "webinars defined" in out
    code, _, err = cli(sqlite_url, "purposes", "add", "webinars", "--name-nl", "W", "--name-en", "W")
    assert code == 2 and "--replace" in err
    code, out, _ = cli(sqlite_url, "purposes", "list", "--json")
    assert json.loads(out)[0]["categories"] == ["training"]


def test_commands_on_an_uninitialised_database_say_to_run_init(sqlite_url: str) -> None:
    code, _, err = cli(sqlite_url, "ledger", "verify")
    assert code == 2 and "consentry init" in err


def test_the_installed_command_runs_the_demo_in_a_fresh_directory(tmp_path: Path) -> None:
    exe = shutil.which("consentry")
    assert exe, "the consentry command is not installed (pip install -e .)"
    done = subprocess.run([exe, "demo"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "consentry.db").exists()
    assert "NL-TM-02b" in done.stdout


def test_a_file_that_is_not_utf8_is_refused_clearly(demo_db: str, tmp_path: Path) -> None:
    f = tmp_path / "events.jsonl"
    f.write_bytes(
        '{"type":"objection.recorded","contact":"jan.devries@example.nl","scope":"profiling","note":"é"}\n'.encode(
            "cp1252"
        )
    )
    code, _, err = cli(demo_db, "ledger", "append", str(f))
    assert code == 2 and "not UTF-8" in err


def test_api_keys_are_created_listed_and_revoked(sqlite_url: str) -> None:
    assert cli(sqlite_url, "init")[0] == 0
    code, out, _ = cli(sqlite_url, "apikey", "create", "webshop", "--scope", "read", "--scope", "write")
    assert code == 0
    key_id, token = out.split()[1], out.strip().splitlines()[-1]
    assert token.startswith(f"cs_{key_id}_")
    code, out, _ = cli(sqlite_url, "apikey", "list")
    assert key_id in out and "read,write" in out and token not in out
    assert cli(sqlite_url, "apikey", "revoke", key_id)[0] == 0
    assert "revoked" in cli(sqlite_url, "apikey", "list")[1]
    code, _, err = cli(sqlite_url, "apikey", "create", "x", "--scope", "root")
    assert code == 2 and "scopes are read, write and admin" in err


def test_forms_are_saved_as_versions_and_can_be_embedded(demo_db: str, tmp_path: Path) -> None:
    form = {
        "key": "footer",
        "title_nl": "Nieuwsbrief",
        "title_en": "Newsletter",
        "items": [{"purpose": "nieuwsbrief", "text_nl": "Ja, graag.", "text_en": "Yes, please."}],
    }
    f = tmp_path / "form.json"
    f.write_text(json.dumps(form), encoding="utf-8")
    assert "version 1" in cli(demo_db, "forms", "save", str(f))[1]
    assert "version 1" in cli(demo_db, "forms", "save", str(f))[1]  # unchanged: same version
    form["items"][0]["text_nl"] = "Ja, stuur mij de nieuwsbrief."
    f.write_text(json.dumps(form), encoding="utf-8")
    assert "version 2" in cli(demo_db, "forms", "save", str(f))[1]
    code, out, _ = cli(demo_db, "forms", "embed", "footer")
    assert code == 0 and "<iframe" in out and "/f/footer" in out
    form["items"][0]["purpose"] = "bestaat-niet"
    f.write_text(json.dumps(form), encoding="utf-8")
    code, _, err = cli(demo_db, "forms", "save", str(f))
    assert code == 2 and "items[0].purpose" in err


def test_serve_refuses_to_start_in_production_without_a_secret_key(
    demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONSENTRY_ENV", "production")
    monkeypatch.delenv("CONSENTRY_SECRET_KEY", raising=False)
    code, _, err = cli(demo_db, "serve")
    assert code == 2 and "CONSENTRY_SECRET_KEY" in err


def test_serve_turns_uvicorns_access_log_off_and_prints_consentrys_own(
    demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # uvicorn's access line carries the client's address and the path with its query.
    import uvicorn

    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append({"app": app, **kw}))
    code, out, err = cli(demo_db, "serve", "--port", "8123")
    assert code == 0, err
    assert "serving on http://127.0.0.1:8123" in out
    (kw,) = started
    assert kw["app"] == "consentry.entrypoints.http:asgi" and kw["factory"] is True
    assert kw["access_log"] is False
    ours = kw["log_config"]["loggers"]["consentry.access"]
    assert ours["level"] == "INFO" and ours["handlers"] == ["default"]
    assert "default" in kw["log_config"]["handlers"]


def test_export_writes_only_the_reachable_contacts_and_counts_the_rest_by_rule(
    demo_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "bereikbaar.csv"
    code, _, err = cli(
        demo_db, "export", "--channel", "email", "--purpose", "koffie-aanbiedingen", "--output", str(out)
    )
    assert code == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig"), delimiter=";"))
    assert sorted(r["address"] for r in rows) == ["offertes@bakkerij-voorbeeld.nl", "sanne.visser@example.nl"]
    sanne = next(r for r in rows if r["address"].startswith("sanne"))
    assert sanne["rule"] == "NL-EM-02" and "opt-out-in-every-message" in sanne["obligations"]
    assert "/u/" in sanne["unsubscribe_url"] and "/p/" in sanne["preferences_url"]
    assert "2 of 11 may be reached" in err and "EU-GDPR-04" in err


def test_notices_lists_the_art_14_notices_owed(demo_db: str) -> None:
    _, out, _ = cli(demo_db, "notices", "--json")
    owed = {n["value"]: n["due"][:10] for n in json.loads(out)}
    assert owed["k.bakker@adviesbureau-voorbeeld.nl"] == "2026-10-24"
    assert "jan.devries@example.nl" not in owed
    lines = '{"type":"notice.given","contact":"k.bakker@adviesbureau-voorbeeld.nl","article":"14"}\n'
    assert cli(demo_db, "ledger", "append", "-", input=lines)[0] == 0
    _, out, _ = cli(demo_db, "notices", "--json")
    assert "k.bakker@adviesbureau-voorbeeld.nl" not in {n["value"] for n in json.loads(out)}


def test_contacts_show_prints_the_state_and_the_timeline(demo_db: str) -> None:
    code, out, _ = cli(demo_db, "contacts", "show", "pieter.bos@example.com", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [e["type"] for e in doc["events"]] == [
        "contact_point.registered",
        "consent.given",
        "consent.confirmed",
        "unsubscribed",
    ]
    assert doc["state"]["consents"][0]["withdrawn_at"] is not None


def test_import_csv_and_register_from_the_command_line(demo_db: str, tmp_path: Path) -> None:
    f = tmp_path / "beurs.csv"
    f.write_text("Naam;E-mail\nKees;kees@bedrijf.nl\nFout;geen-adres\n", encoding="utf-8")
    args = ["import", "csv", str(f), "--source", "business_card", "--basis", "legitimate_interest"]
    code, out, err = cli(demo_db, *args, "--map", "email=E-mail", "--map", "name=Naam", "--dry-run")
    assert code == 0 and "would import 1 of 2 rows" in out and "line 3" in err
    code, out, _ = cli(demo_db, *args, "--map", "email=E-mail", "--map", "name=Naam")
    assert "imported 1 of 2 rows: 1 new contact points" in out
    code, _, _ = cli(demo_db, *args, "--map", "email=E-mail", "--strict")
    assert code == 1
    reg = tmp_path / "bmn.txt"
    reg.write_text("06 12345678\n", encoding="utf-8")
    code, out, _ = cli(demo_db, "import", "register", str(reg), "--register", "bel-me-niet")
    assert code == 0 and "1 new" in out
    assert "Bel-me-niet Register" in cli(demo_db, "registers")[1]


def test_init_stores_the_postal_sector_and_an_empty_one_clears_it(sqlite_url: str) -> None:
    from consentry.bootstrap import bootstrap
    from consentry.services.setup import controller
    from consentry.settings import Settings

    def stored() -> str | None:
        app = bootstrap(Settings(database_url=sqlite_url))
        try:
            with app.store.reader() as r:
                return controller(r).postal_sector
        finally:
            app.store.engine.dispose()

    assert cli(sqlite_url, "init", "--postal-sector", "goede-doelen")[0] == 0
    assert stored() == "goede-doelen"
    assert cli(sqlite_url, "init", "--name", "Koffie BV")[0] == 0
    assert stored() == "goede-doelen"
    assert cli(sqlite_url, "init", "--postal-sector", "")[0] == 0
    assert stored() is None
