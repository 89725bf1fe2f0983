"""Importing contacts from files, with where they came from and what proves it.

`model` (records, context, report), `csv_mapper` (a contacts CSV by column),
`mailchimp` (a Mailchimp audience export), `runner` (reading a file in blocks and
writing them: the generic path) and `bulk` (the bulk path: blocks prepared, in worker
processes for a big file, and stored in bulk).
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
from consentry.services.imports.runner import BLOCK_ROWS, COMMIT_BLOCKS, MAX_WORKERS, POOL_MIN_BYTES, run

__all__ = [
    "BLOCK_ROWS",
    "COMMIT_BLOCKS",
    "FIELDS",
    "MAX_WORKERS",
    "POOL_MIN_BYTES",
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
