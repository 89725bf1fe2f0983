"""The encoding a file is read in: named by its byte order mark, else UTF-8 or Windows-1252."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from consentry.adapters.csvfile import CsvError, detect_encoding

TEXT = "E-mailadres\tNaam\r\njosé@example.nl\tJosé Müller\r\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("cp1252"), "cp1252"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
        (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "utf-32"),
    ],
    ids=["utf8", "utf8-bom", "windows-1252", "utf16-le", "utf16-be", "utf32-le"],
)
def test_the_encoding_is_the_one_the_file_is_in(tmp_path: Path, data: bytes, expected: str) -> None:
    path = tmp_path / "lijst.csv"
    path.write_bytes(data)
    assert detect_encoding(path) == expected
    with path.open(encoding=expected, newline="") as fh:
        assert fh.read() == TEXT


def test_a_file_that_starts_as_utf16_but_is_not_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "lijst.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le") + b"\x00\xdc")  # a lone low surrogate
    refused = r"starts as utf-16 but is not \(byte 0x.. at byte \d+\); give the encoding"
    with pytest.raises(CsvError, match=refused):
        detect_encoding(path)
