"""Importing CSV files as people really have them, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import power_cut
from consentry.bootstrap import App
from consentry.domain.vocabulary import ConsentMethod, PartyKind, PointKind, Source
from consentry.services import imports
from consentry.services.decide import decide
from consentry.services.errors import InputError
from consentry.services.imports import runner

HEADER = "E-mailadres;Naam;Aangemeld op;IP;Klant;Tags"
ROWS = [
    "jan@gmail.com;Jan de Vries;2024-03-01 10:00;203.0.113.1;K1;vip,koffie",
    "INFO@bakkerij.nl;Bakkerij;2024-03-02 11:00;;K2;",
    "fout-adres;X;;;K3;",
    '"piet@example.nl";"Piet ""de Bakker""";2024-03-03T09:00:00+01:00;;"K4\nmet regel";',
]


def write(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "lijst.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def consent_spec(**overrides: object) -> imports.CsvSpec:
    fields: dict[str, object] = {
        "source": Source.WEB_FORM,
        "basis": "consent",
        "purpose": "nieuwsbrief",
        "columns": {
            "email": "E-mailadres",
            "name": "Naam",
            "consent_at": "Aangemeld op",
            "consent_ip": "IP",
            "tags": "Tags",
        },
    }
    fields.update(overrides)
    return imports.CsvSpec(**fields)  # type: ignore[arg-type]


def run(app: App, path: Path, spec: imports.CsvSpec | None = None, **kw: object) -> imports.ImportReport:
    return imports.run(app, path, imports.CsvMapper(app, spec or consent_spec()), **kw)  # type: ignore[arg-type]


def events(app: App) -> int:
    with app.store.reader() as r:
        return r.counts()["events"]


@pytest.mark.parametrize(
    ("encoding", "bom", "newline"),
    [
        ("utf-8", "", "\n"),
        ("utf-8", "\ufeff", "\r\n"),
        ("cp1252", "", "\r\n"),
        ("utf-16-le", "\ufeff", "\r\n"),  # Excel's "Unicode text"
        ("utf-16-be", "\ufeff", "\r\n"),
    ],
    ids=["utf8", "utf8-bom-crlf", "windows-1252", "utf16-le-bom", "utf16-be-bom"],
)
def test_a_dutch_excel_file_is_read_whatever_its_encoding(
    app: App, tmp_path: Path, encoding: str, bom: str, newline: str
) -> None:
    text = bom + newline.join([HEADER, "josé@example.nl;José Müller;2024-03-01;;K9;", ""])
    report = run(app, write(tmp_path, text, encoding))
    assert report.format is not None and report.format.delimiter == ";"
    assert (report.accepted, report.rejected) == (1, [])
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, "josé@example.nl")
        assert pid is not None
        state = r.state(pid)
    assert state is not None and state["attributes"] == {"Klant": "K9"}


def test_each_problem_is_reported_with_its_line_and_the_valid_rows_are_committed(
    app: App, tmp_path: Path
) -> None:
    text = "\n".join([HEADER, ROWS[0], "", ROWS[2], ROWS[3], ROWS[0]]) + "\n"
    report = run(app, write(tmp_path, text))
    assert [(p.line, p.field) for p in report.rejected] == [(4, "E-mailadres")]
    assert "not a valid e-mail address" in report.rejected[0].message
    assert report.rows == 4 and report.accepted == 3 and report.committed
    assert any(n.line == 7 and "same contact as line 2" in n.message for n in report.notes)
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, "piet@example.nl")
        assert pid is not None
        state = r.state(pid)
    assert state is not None and state["attributes"]["Klant"] == "K4\nmet regel"
    assert decide(app, "jan@gmail.com", "email", "nieuwsbrief").rule == "EU-GDPR-02"


def test_strict_mode_commits_nothing_when_any_row_is_bad(app: App, tmp_path: Path) -> None:
    report = run(app, write(tmp_path, "\n".join([HEADER, ROWS[0], ROWS[2]])), strict=True)
    assert report.rejected and not report.committed
    assert events(app) == 0


def test_a_dry_run_reports_exactly_what_a_real_run_then_does(app: App, tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join([HEADER, *ROWS]))
    dry = run(app, path, dry_run=True)
    assert events(app) == 0 and not dry.committed
    real = run(app, path)
    assert (dry.accepted, dry.new_points, dry.events, len(dry.rejected)) == (
        real.accepted,
        real.new_points,
        real.events,
        len(real.rejected),
    )


def test_importing_the_same_file_again_adds_nothing(app: App, tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join([HEADER, *ROWS]))
    first = run(app, path)
    before = events(app)
    again = run(app, path)
    assert first.events > 0 and events(app) == before
    assert (again.new_points, again.events, again.existing_points) == (0, 0, 3)
    assert again.already_imported == first.events


def test_an_import_that_crashed_half_way_can_be_run_again(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [f"p{i}@example.nl;P{i};2024-01-01;;K{i};" for i in range(25)]
    path = write(tmp_path, "\n".join([HEADER, *rows]))
    monkeypatch.setattr(runner, "BLOCK_ROWS", 10)
    with power_cut(runner, "_write_block", on_call=3):
        run(app, path)
    assert events(app) == 20 * 2  # two whole blocks of rows: registration (with attributes), consent
    rerun = run(app, path)
    assert (rerun.new_points, rerun.existing_points) == (5, 20)
    assert events(app) == 25 * 2


def test_suggestions_never_override_the_stated_party(app: App, tmp_path: Path) -> None:
    spec = consent_spec(basis="legitimate_interest", purpose=None, party=PartyKind.LEGAL_PERSON)
    report = run(app, write(tmp_path, "\n".join([HEADER, ROWS[0], ROWS[1]])), spec)
    assert report.suggestions == {"consumer": 1, "legal_person": 1}
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, "jan@gmail.com")
        assert pid is not None
        events_ = r.events_for(pid)
    reg = events_[0].payload
    assert reg["party"] == "legal_person" and reg["suggested_party"] == "consumer"
    assert reg["stated_basis"] == "legitimate_interest" and "free-mail" in reg["suggestion_reason"]


def test_a_file_without_an_opt_in_time_says_what_proof_is_missing(app: App, tmp_path: Path) -> None:
    spec = consent_spec(columns={"email": "E-mailadres"}, consent_method=ConsentMethod.SINGLE_OPT_IN)
    report = run(app, write(tmp_path, "\n".join([HEADER, ROWS[0]])), spec)
    assert any("no opt-in time column" in n for n in report.file_notes)
    assert any("no opt-in IP column" in n for n in report.file_notes)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (consent_spec(columns={"email": "Bestaat niet"}), "map"),
        (consent_spec(columns={"naam": "Naam"}), "map"),
        (consent_spec(purpose="onbekend"), "purpose"),
        (consent_spec(basis="gevoel"), "basis"),
    ],
)
def test_a_mapping_that_does_not_fit_the_file_is_refused_before_anything_is_read(
    app: App, tmp_path: Path, spec: imports.CsvSpec, field: str
) -> None:
    path = write(tmp_path, "\n".join([HEADER, ROWS[0]]))
    with pytest.raises(InputError) as caught:
        run(app, path, spec)
    assert caught.value.field == field
    assert events(app) == 0


def test_a_contact_repeated_in_a_later_block_is_registered_once(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "BLOCK_ROWS", 2)
    rows = ["a@example.nl;A;;;K1;", "b@example.nl;B;;;K2;", "c@example.nl;C;;;K3;", "a@example.nl;A;;;K1b;"]
    report = run(
        app, write(tmp_path, "\n".join([HEADER, *rows])), consent_spec(purpose=None, basis="contract")
    )
    assert (report.accepted, report.new_points, report.existing_points) == (4, 3, 1)
    with app.store.reader() as r:
        assert r.counts()["contact_points"] == 3
        pid = r.point_id(PointKind.EMAIL, "a@example.nl")
        assert pid is not None
        state = r.state(pid)
    assert state is not None and state["attributes"]["Klant"] == "K1b"
