"""Feedback that arrives as files: delivery status notifications, abuse reports, CSV exports.

Each is read into bounces and complaints and recorded by `consentry.services.feedback`,
all or nothing, its problems naming the recipient, report or line they are about.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from consentry.adapters import reports
from consentry.adapters.csvfile import BadRow, CsvError, open_text, read_rows
from consentry.services.app import App
from consentry.services.errors import FileRejected, InputError
from consentry.services.feedback import (
    FEEDBACK_TYPES,
    Bounce,
    BounceKind,
    Complaint,
    Feedback,
    FeedbackReport,
    FileLines,
    record,
)

# -- reports in raw messages (DSN, ARF) --------------------------------------------------------


def read_dsn(app: App, raw: bytes) -> FeedbackReport:
    """Record the failures and delays a delivery status notification (RFC 3464) reports.

    Recipients it reports as delivered, relayed or expanded are no bounce and are
    left out. A delay is a soft bounce whatever its code; a failure is hard or
    soft by the class of its status (a 4.x.x failure gave up on a temporary problem).
    """
    try:
        dsn = reports.parse_dsn(raw)
    except reports.ReportError as exc:
        raise InputError("FILE", str(exc)) from None
    items: list[tuple[int, Feedback | InputError]] = [
        (
            n,
            Bounce(
                r.recipient,
                BounceKind.SOFT if r.action == "delayed" else None,
                r.status,
                r.diagnostic,
                message_id=dsn.message_id,
                occurred_at=r.at,
            ),
        )
        for n, r in enumerate(dsn.recipients, 1)
        if r.action in ("failed", "delayed")
    ]
    return _report_items(app, items, "recipient")


def read_arf(app: App, raw: bytes) -> FeedbackReport:
    """Record the complaint an abuse report (ARF, RFC 5965) makes."""
    try:
        arf = reports.parse_arf(raw)
    except reports.ReportError as exc:
        raise InputError("FILE", str(exc)) from None
    if arf.feedback_type not in FEEDBACK_TYPES:
        raise InputError("FILE", f"a {arf.feedback_type!r} report is not a spam complaint; nothing recorded")
    item = Complaint(
        arf.recipient, arf.feedback_type, arf.source, message_id=arf.message_id, occurred_at=arf.at
    )
    return _report_items(app, [(1, item)], "report")


def _report_items(app: App, items: list[tuple[int, Feedback | InputError]], what: str) -> FeedbackReport:
    if not items:
        return FeedbackReport()
    try:
        return record(app, items)
    except FileRejected as exc:
        first = exc.problems[0]
        raise InputError(first.field, f"{first.message} ({what} {first.line} of the report)") from None


# -- CSV files ---------------------------------------------------------------------------------

CSV_COLUMNS = (
    "address",
    "kind",
    "code",
    "reason",
    "message_id",
    "campaign",
    "occurred_at",
    "source",
    "feedback_type",
    "id",
)


def read_csv(app: App, path: Path) -> FeedbackReport:
    """Record the bounces and complaints of a CSV file, all or nothing; problems name their line.

    Columns: `address` and `kind` (`hard`, `soft` or `complaint`; may be empty when
    `code` tells), and optionally `code`, `reason`, `message_id`, `campaign`,
    `occurred_at`, and for complaints `source` and `feedback_type`; `id` is the
    caller's own key. A row with neither `message_id` nor `id` is known by its
    content, so recording the same file again adds nothing.
    """
    try:
        text, enc = open_text(path)
    except OSError as exc:
        raise InputError("FILE", f"cannot open {path}: {exc.strerror}") from None
    except CsvError as exc:
        raise InputError("FILE", str(exc)) from None
    with text:
        try:
            fmt, rows = read_rows(text, enc)
            header = [h.lower() for h in fmt.header]
            unknown = [h for h in header if h and h not in CSV_COLUMNS]
            if unknown or "address" not in header:
                problem = f"unknown column(s) {', '.join(unknown)}" if unknown else "no column `address`"
                raise InputError("FILE", f"{problem}; the columns are: {', '.join(CSV_COLUMNS)}")
            items: list[tuple[int, Feedback | InputError]] = []
            for row in rows:
                if isinstance(row, BadRow):
                    items.append((row.line, InputError(row.column, row.message)))
                    continue
                values = {k.lower(): v for k, v in row.values.items() if v}
                try:
                    items.append((row.line, _from_row(values)))
                except InputError as exc:
                    items.append((row.line, exc))
        except CsvError as exc:
            raise InputError("FILE", str(exc)) from None
    report = record(app, items)
    report.file = FileLines(len(items), rows.lines, rows.header_lines, rows.blank)
    return report


def _from_row(v: dict[str, str]) -> Feedback:
    given = v.get("id")
    if given is None and "message_id" not in v:
        given = "row:" + hashlib.sha256("\x1f".join(v.get(c, "") for c in CSV_COLUMNS).encode()).hexdigest()
    common: dict[str, Any] = {
        "contact": v.get("address", ""),
        "campaign": v.get("campaign"),
        "message_id": v.get("message_id"),
        "id": given,
        "occurred_at": v.get("occurred_at"),
    }
    if v.get("kind", "").lower() == "complaint":
        for name in ("code", "reason"):
            if name in v:
                raise InputError(name, "a complaint has no SMTP code or reason; leave it empty")
        return Complaint(source=v.get("source"), feedback_type=v.get("feedback_type"), **common)
    for name in ("source", "feedback_type"):
        if name in v:
            raise InputError(name, "is for complaints only (kind complaint)")
    return Bounce(kind=v.get("kind"), code=v.get("code"), reason=v.get("reason"), **common)
