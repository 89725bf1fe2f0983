"""No row of a CSV lost without a word, on SQLite and PostgreSQL (issue 18, part 1).

Every import accounts for every row (rows = imported + merged + rejected) and every
physical line (lines = header + rows + lines inside quoted fields + blank), whatever
the file does: a quote that is never closed, extra or missing fields, NUL and other
control characters, blank lines, a BOM, CRLF, no newline at the end, only a header,
the same row twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consentry.adapters.csvfile import MAX_ROW_LINES
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind, Source
from consentry.entrypoints.cli import app as cli_app
from consentry.services import imports

HEADER = "E-mailadres;Naam;Klant;Tags"
COLUMNS = {"email": "E-mailadres", "name": "Naam", "tags": "Tags"}


def spec() -> imports.CsvSpec:
    return imports.CsvSpec(source=Source.WEB_FORM, basis="contract", columns=COLUMNS)


def run(app: App, path: Path, **kw: bool) -> imports.ImportReport:
    return imports.run(app, path, imports.CsvMapper(app, spec()), **kw)


def write(tmp_path: Path, text: str, name: str = "lijst.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def points(app: App) -> int:
    with app.store.reader() as r:
        return r.counts()["contact_points"]


def state(app: App, email: str) -> dict[str, object] | None:
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, email)
        return None if pid is None else r.state(pid)


def name(app: App, email: str) -> object:
    """The display name the point was registered with."""
    with app.store.reader() as r:
        pid = r.point_id(PointKind.EMAIL, email)
        assert pid is not None, email
        return r.events_for(pid)[0].payload.get("display_name")


def assert_accounted(report: imports.ImportReport) -> None:
    """The two sums the accounting line prints hold."""
    assert report.rows == report.imported + report.merged + report.rejected_rows
    assert report.accepted == report.imported + report.merged
    assert report.lines == report.header_lines + report.rows + report.quoted_lines + report.blank_lines
    assert report.quoted_lines >= 0


def test_an_unclosed_quote_is_one_rejected_row_and_the_rows_after_it_are_imported(
    app: App, tmp_path: Path
) -> None:
    # The issue's file: before, "imported 2 of 2 rows" and a3 and a4 in a2's name.
    text = 'email;name\na1@example.nl;A\na2@example.nl;"B\na3@example.nl;C\na4@example.nl;D\n'
    report = imports.run(
        app,
        write(tmp_path, text),
        imports.CsvMapper(
            app, imports.CsvSpec(Source.WEB_FORM, "contract", {"email": "email", "name": "name"})
        ),
    )
    assert (report.rows, report.imported, report.merged, report.rejected_rows) == (4, 3, 0, 1)
    (problem,) = report.rejected
    assert (problem.line, problem.field) == (3, "name")
    assert problem.message.startswith(
        "broken quote: the quoted value that opens on this line would take in line 4"
    )
    assert state(app, "a2@example.nl") is None
    assert [name(app, f"a{i}@example.nl") for i in (1, 3, 4)] == ["A", "C", "D"]
    assert report.accounting() == "rows: 4 = 3 imported + 0 merged + 1 rejected; lines: 5 = 1 header + 4 rows"


def test_a_quote_left_open_at_the_end_of_the_file_is_a_rejected_row(app: App, tmp_path: Path) -> None:
    report = run(app, write(tmp_path, f'{HEADER}\na@example.nl;A;K1;\nb@example.nl;"B;K2;'))
    assert [(p.line, p.field) for p in report.rejected] == [(3, "Naam")]
    assert "is not closed before the end of the file" in report.rejected[0].message
    assert (report.imported, report.lines) == (1, 3)
    assert_accounted(report)


def test_a_quote_that_would_run_past_the_line_limit_is_broken_even_in_one_column(
    app: App, tmp_path: Path
) -> None:
    # One column: no line looks like a row of its own, so only the length gives it away.
    emails = [f"p{i}@example.nl" for i in range(MAX_ROW_LINES + 5)]
    text = "E-mailadres\n" + '"' + "\n".join(emails) + "\n"
    report = imports.run(
        app,
        write(tmp_path, text),
        imports.CsvMapper(app, imports.CsvSpec(Source.WEB_FORM, "contract", {"email": "E-mailadres"})),
    )
    assert [p.line for p in report.rejected] == [2]
    assert f"would run past {MAX_ROW_LINES} lines" in report.rejected[0].message
    assert (report.rows, report.imported) == (len(emails), len(emails) - 1)
    assert_accounted(report)


def test_a_value_over_several_lines_in_quotes_is_one_row_and_its_lines_are_counted(
    app: App, tmp_path: Path
) -> None:
    text = f'{HEADER}\na@example.nl;"Bakkerij\nde Vries";K1;\nb@example.nl;B;K2;\n'
    report = run(app, write(tmp_path, text))
    assert (report.rows, report.imported, report.rejected) == (2, 2, [])
    assert name(app, "a@example.nl") == "Bakkerij\nde Vries"
    assert report.accounting() == (
        "rows: 2 = 2 imported + 0 merged + 0 rejected; lines: 4 = 1 header + 2 rows + 1 more in quoted fields"
    )


def test_a_row_refused_over_several_lines_says_to_check_its_quotes(app: App, tmp_path: Path) -> None:
    text = f'{HEADER}\n"a@example.nl\nb@example.nl";A;K1;\n'  # a plausible field, not an address
    report = run(app, write(tmp_path, text))
    (problem,) = report.rejected
    assert problem.line == 2 and "this row runs over lines 2-3 in quotes: check its quotes" in problem.message


def test_a_value_in_a_field_beyond_the_header_rejects_the_row_and_empty_ones_are_ignored(
    app: App, tmp_path: Path
) -> None:
    text = f"{HEADER}\na@example.nl;Bakker; Jan;K1;vip\nb@example.nl;B;K2;vip;;\n"
    report = run(app, write(tmp_path, text))
    assert [(p.line, p.field) for p in report.rejected] == [(2, "field 5")]
    assert "this row has 5 fields, the header 4" in report.rejected[0].message
    assert state(app, "a@example.nl") is None and state(app, "b@example.nl") is not None
    assert_accounted(report)


def test_a_row_with_too_few_fields_is_imported_with_a_note_naming_the_missing_columns(
    app: App, tmp_path: Path
) -> None:
    report = run(app, write(tmp_path, f"{HEADER}\na@example.nl;A\n"))
    assert (report.imported, report.rejected) == (1, [])
    assert [(n.line, n.field, n.message) for n in report.notes] == [
        (2, "Klant", "the row ends early: Klant, Tags read as empty")
    ]


@pytest.mark.parametrize(
    ("char", "name"), [("\x00", "U+0000, NUL"), ("\x1b", "U+001B, ESC"), ("\x85", "U+0085")]
)
def test_nul_and_other_control_characters_reject_the_row_naming_the_column(
    app: App, tmp_path: Path, char: str, name: str
) -> None:
    text = f"{HEADER}\na@example.nl;Jan{char}s;K1;\nb@example.nl;B;K2;\n"
    report = run(app, write(tmp_path, text))
    (problem,) = report.rejected
    assert (problem.line, problem.field) == (2, "Naam")
    assert f"contains a control character ({name}" in problem.message and "at character 4" in problem.message
    assert state(app, "a@example.nl") is None and report.imported == 1 and report.committed


def test_blank_lines_a_bom_crlf_and_no_newline_at_the_end_are_all_accounted_for(
    app: App, tmp_path: Path
) -> None:
    text = "\ufeff" + "\r\n".join([HEADER, "a@example.nl;A;K1;", "", ";;;", "  ", "b@example.nl;B;K2;"])
    report = run(app, write(tmp_path, text))
    assert report.format is not None and report.format.header[0] == "E-mailadres"
    assert (report.rows, report.imported, report.blank_lines, report.lines) == (2, 2, 3, 6)
    assert (
        report.accounting()
        == "rows: 2 = 2 imported + 0 merged + 0 rejected; lines: 6 = 1 header + 2 rows + 3 blank"
    )


def test_a_file_with_only_a_header_imports_nothing_and_says_so(app: App, tmp_path: Path) -> None:
    report = run(app, write(tmp_path, HEADER + "\r\n"))
    assert (report.rows, report.lines, report.committed) == (0, 1, True)
    assert report.accounting() == "rows: 0 = 0 imported + 0 merged + 0 rejected; lines: 1 = 1 header + 0 rows"


def test_a_repeated_row_is_merged_and_a_second_import_merges_every_row(app: App, tmp_path: Path) -> None:
    path = write(tmp_path, f"{HEADER}\na@example.nl;A;K1;\nb@example.nl;B;K2;\na@example.nl;A;K1;\n")
    first = run(app, path)
    assert (first.imported, first.merged) == (2, 1)
    assert [(n.line, n.message) for n in first.notes] == [(4, "same contact as line 2; merged")]
    again = run(app, path)
    assert (again.imported, again.merged, again.events) == (0, 3, 0)
    assert_accounted(first)
    assert_accounted(again)


def test_strict_writes_nothing_for_a_broken_quote_and_still_accounts_for_every_row(
    app: App, tmp_path: Path
) -> None:
    text = f'{HEADER}\na@example.nl;A;K1;\nb@example.nl;"B;K2;\nc@example.nl;C;K3;\n'
    report = run(app, write(tmp_path, text), strict=True)
    assert not report.committed and points(app) == 0
    assert report.accounting().startswith("rows: 3 = 2 would be imported + 0 merged + 1 rejected")


# -- a hundred rows, a third of them with a fault ---------------------------------------------


@dataclass
class Planted:
    """A file written with faults at known lines, and what a correct import makes of it."""

    lines: list[str] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)  # line -> the column named
    noted: set[int] = field(default_factory=set)
    imported: list[str] = field(default_factory=list)
    merged: int = 0
    quoted: int = 0
    blank: int = 0

    def add(self, *physical: str) -> int:
        """Add a row (perhaps over several lines); the line it starts on."""
        start = len(self.lines) + 1
        self.lines.extend(physical)
        return start


KINDS = (
    "broken_quote",
    "extra_value",
    "nul",
    "escape",
    "bad_address",
    "duplicate",
    "too_few",
    "empty_extra",
    "multiline",
    "blank_before",
    "delimiters_before",
)


def planted_file() -> Planted:
    """100 rows; every third (33) has one of KINDS, and the last leaves its quote open."""
    p = Planted()
    p.add(HEADER)
    for i in range(100):
        email = f"p{i}@example.nl"
        normal = f"{email};Naam {i};K{i};vip"
        kind = KINDS[(i // 3) % len(KINDS)] if i % 3 == 1 else "last" if i == 99 else None
        if kind == "broken_quote":
            p.rejected[p.add(f'{email};"Naam {i};K{i};vip')] = "Naam"
        elif kind == "extra_value":
            p.rejected[p.add(f"{email};Bakker; Jan;K{i};vip")] = "field 5"
        elif kind == "nul":
            p.rejected[p.add(f"{email};Naam\x00{i};K{i};vip")] = "Naam"
        elif kind == "escape":
            p.rejected[p.add(f"{email};Naam {i};K\x1b[31m{i};vip")] = "Klant"
        elif kind == "bad_address":
            p.rejected[p.add(f"fout-adres-{i};Naam {i};K{i};vip")] = "E-mailadres"
        elif kind == "duplicate":
            p.add(p.lines[-1])  # the row before, again
            p.merged += 1
            p.noted.add(len(p.lines))
        elif kind == "last":
            p.rejected[p.add(f'{email};"Naam {i};K{i};vip')] = "Naam"  # no closing quote, no newline
        else:
            if kind == "too_few":
                p.noted.add(p.add(f"{email};Naam {i}"))
            elif kind == "empty_extra":
                p.add(normal + ";;")
            elif kind == "multiline":
                p.add(f'{email};"Naam', f'{i}";K{i};vip')
                p.quoted += 1
            else:
                if kind in ("blank_before", "delimiters_before"):
                    p.add("" if kind == "blank_before" else ";;;")
                    p.blank += 1
                p.add(normal)
            p.imported.append(email)
    return p


def test_a_hundred_rows_with_a_third_of_them_faulty_are_every_one_accounted_for(
    app: App, tmp_path: Path
) -> None:
    p = planted_file()
    assert len(p.rejected) + p.merged + len(p.imported) == 100 and len(p.rejected) + p.merged >= 16
    report = run(app, write(tmp_path, "\r\n".join(p.lines)))
    assert_accounted(report)
    assert (report.rows, report.imported, report.merged, report.rejected_rows) == (
        100,
        len(p.imported),
        p.merged,
        len(p.rejected),
    )
    assert {x.line: x.field for x in report.rejected} == p.rejected
    assert {n.line for n in report.notes} == p.noted
    assert (report.lines, report.quoted_lines, report.blank_lines) == (len(p.lines), p.quoted, p.blank)
    # What is in the ledger is exactly the imported rows, each with its own name.
    assert points(app) == len(p.imported)
    for email in p.imported:
        assert " ".join(str(name(app, email)).split()) == f"Naam {email[1:].split('@')[0]}"


# -- the command line prints the accounting, on both stores ------------------------------------


def test_the_cli_prints_the_accounting_line_of_an_import(app: App, store_url: str, tmp_path: Path) -> None:
    path = write(tmp_path, f'{HEADER}\na@example.nl;A;K1;\nb@example.nl;"B;K2;\nc@example.nl;C;K3;\n\n')
    args = ["import", "csv", str(path), "--source", "web_form", "--basis", "contract"]
    result = CliRunner().invoke(
        cli_app, ["--database-url", store_url, *args, "--map", "email=E-mailadres", "--map", "name=Naam"]
    )
    assert result.exit_code == 0, result.stderr
    assert (
        "rows: 3 = 2 imported + 0 merged + 1 rejected; lines: 5 = 1 header + 3 rows + 1 blank"
        in result.stdout
    )
    assert "rejected: line 3: Naam: broken quote" in result.stderr
    result = CliRunner().invoke(
        cli_app, ["--database-url", store_url, *args, "--map", "email=E-mailadres", "--json"]
    )
    doc = json.loads(result.stdout)
    assert (doc["rows"], doc["imported"], doc["merged"], doc["rejected_rows"]) == (3, 0, 2, 1)
    assert doc["lines"] == {"total": 5, "header": 1, "rows": 3, "in_quoted_fields": 0, "blank": 1}
