"""Importing contacts from files, with where they came from and what proves it.

`model` (records, context, report), `csv_mapper` (a contacts CSV by column),
`mailchimp` (a Mailchimp audience export) and `runner` (reading a file in blocks,
mapping and writing each).
"""

from consentry.services.imports.csv_mapper import FIELDS, CsvMapper, CsvSpec, parse_map
from consentry.services.imports.model import (
    ImportContext,
    ImportReport,
    Mapper,
    Records,
    RowRejected,
    split_tags,
)
from consentry.services.imports.runner import BIG_FILE_BYTES, BLOCK_ROWS, COMMIT_BLOCKS, run

__all__ = [
    "BIG_FILE_BYTES",
    "BLOCK_ROWS",
    "COMMIT_BLOCKS",
    "FIELDS",
    "CsvMapper",
    "CsvSpec",
    "ImportContext",
    "ImportReport",
    "Mapper",
    "Records",
    "RowRejected",
    "parse_map",
    "run",
    "split_tags",
]
