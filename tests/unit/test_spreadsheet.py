"""CSV as Dutch Excel opens it: a byte order mark, `;` between fields, no formulas."""

from __future__ import annotations

import csv
import io

from consentry.adapters import spreadsheet


def test_a_csv_starts_with_a_byte_order_mark_and_separates_fields_with_semicolons() -> None:
    out = io.StringIO()
    w = spreadsheet.writer(out, ("naam", "adres"))
    w.writerow(("Zoë de Vries", "Dorpsstraat 1; 1234 AB Ergens"))
    text = out.getvalue()
    assert text.startswith("\ufeffnaam;adres\r\n")
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))
    assert rows == [["naam", "adres"], ["Zoë de Vries", "Dorpsstraat 1; 1234 AB Ergens"]]


def test_a_cell_that_looks_like_a_formula_stays_text_and_a_phone_number_stays_as_it_is() -> None:
    assert spreadsheet.cell('=HYPERLINK("https://evil.example")') == '\'=HYPERLINK("https://evil.example")'
    assert spreadsheet.cell("@SUM(A1)") == "'@SUM(A1)"
    assert spreadsheet.cell("+cmd|' /C calc'!A0") == "'+cmd|' /C calc'!A0"
    assert spreadsheet.cell("-2+3") == "'-2+3" and spreadsheet.cell("-12.5") == "-12.5"
    assert spreadsheet.cell("+31 6 12345678") == "+31 6 12345678"
    assert spreadsheet.cell(None) == "" and spreadsheet.cell(12) == "12"
