"""Accountability: `consentry export-person`, `proof`, `receipts` and `report processing`.

Each command calls one service (services/access.py, consent_proof.py, receipts.py,
processing_report.py) and writes its document as JSON or as the HTML report
(entrypoints/web/reports.py), to standard output or to a file (-o).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import day
from consentry.entrypoints.cli.output import err, handled
from consentry.entrypoints.web.reports import language, render
from consentry.services import access, consent_proof, processing_report, receipts
from consentry.services.errors import InputError

app = typer.Typer(help="Reports for the privacy officer and an auditor.", no_args_is_help=True)


class Format(StrEnum):
    """How a document is written."""

    JSON = "json"
    HTML = "html"


Contact = Annotated[
    str, typer.Argument(help="Contact point id, e-mail address, phone number or postal:… of the person.")
]
Lang = Annotated[str, typer.Option("--lang", help="Language of the HTML report: nl or en.")]
Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard output.")
]


def _write(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError("output", f"cannot write {output}: {exc.strerror}") from None
    err(f"wrote {output}")


def _emit(name: str, doc: Any, fmt: Format, lang: str, output: Path | None) -> None:
    language(lang)  # a wrong language is refused for JSON too: the command is the same
    if fmt is Format.JSON:
        _write(json.dumps(doc, ensure_ascii=False, indent=2), output)
    else:
        _write(render(name, doc, lang), output)


@handled
def export_person(
    contact: Contact,
    fmt: Annotated[
        Format, typer.Option("--format", help="json (portable) or html (readable).")
    ] = Format.JSON,
    lang: Lang = "nl",
    output: Output = None,
) -> None:
    """Everything held about a person (GDPR Art. 15 and 20): every contact point of the contact, the
    ledger timeline with evidence, sources, purposes and what is decided today."""
    doc = access.person(current(), contact)
    if doc["erased"]:
        err(doc["erased"]["message_en"] if lang == "en" else doc["erased"]["message_nl"])
    _emit("access", doc, fmt, lang, output)


@handled
def proof(
    contact: Contact,
    fmt: Annotated[Format, typer.Option("--format", help="html (readable) or json.")] = Format.HTML,
    lang: Lang = "nl",
    output: Output = None,
) -> None:
    """Proof of consent for a person: each consent's evidence, its chain hashes and how to re-verify them."""
    _emit("proof", consent_proof.proof(current(), contact), fmt, lang, output)


@handled
def receipts_export(
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="Every consent given for this purpose.")
    ] = None,
    event: Annotated[
        str | None, typer.Option("--event", help="One consent, by its consent.given event id.")
    ] = None,
    output: Output = None,
) -> None:
    """Consent receipts in the shape of ISO/IEC TS 27560 (JSON): one consent, or every one of a purpose."""
    if (purpose is None) == (event is None):
        raise InputError("purpose", "give either --purpose KEY or --event ID")
    a = current()
    doc: Any = receipts.for_event(a, event) if event is not None else receipts.for_purpose(a, str(purpose))
    _write(json.dumps(doc, ensure_ascii=False, indent=2), output)


@app.command("processing")
@handled
def report_processing(
    start: Annotated[str, typer.Option("--from", help="First day of the period (2026-01-01).")],
    end: Annotated[str, typer.Option("--to", help="Last day of the period, included (2026-03-31).")],
    fmt: Annotated[Format, typer.Option("--format", help="json or html.")] = Format.JSON,
    lang: Lang = "nl",
    output: Output = None,
) -> None:
    """Consents given and withdrawn, objections, requests and how fast they were answered, erasures."""
    first, last = day(start, "from"), day(end, "to")
    assert first is not None and last is not None
    doc = processing_report.processing(current(), first, last)
    if doc["empty"]:
        err(f"nothing was recorded from {first.isoformat()} to {last.isoformat()}")
    _emit("processing", doc, fmt, lang, output)
