"""Accountability: a person's access export, proof of consent, consent receipts, the processing report.

The export and the proof come as JSON (their documented shapes, docs/accountability.md)
or as the readable HTML report (`format=html`, `lang=nl|en`), which prints well to PDF.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from consentry.entrypoints.api.deps import AppDep, ReadKey
from consentry.entrypoints.api.errors import ApiRoute, responses
from consentry.entrypoints.api.routes_contacts import Ref  # registers the `anytext` path convertor
from consentry.entrypoints.web.reports import render
from consentry.services import access, consent_proof, processing_report, receipts

router = APIRouter(route_class=ApiRoute, tags=["accountability"])

Lang = Annotated[Literal["nl", "en"], Query(description="Language of the HTML report.")]
_BOTH = {
    **responses(401, 403, 404, 410, 422),
    200: {
        "description": "The document as JSON, or as an HTML report with `format=html`.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/html": {"schema": {"type": "string"}},
        },
    },
}


_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _answer(name: str, doc: dict[str, Any], fmt: str, lang: str) -> Response:
    if fmt == "html":
        return HTMLResponse(
            render(name, doc, lang),
            headers={
                "Cache-Control": "no-store",
                "Content-Language": lang,
                "X-Content-Type-Options": "nosniff",
                # The report's only resource is its own inline style: no script, no fetch.
                "Content-Security-Policy": _REPORT_CSP,
            },
        )
    return JSONResponse(doc, headers={"Cache-Control": "no-store"})


@router.get("/access-exports/{ref:anytext}", response_class=Response, responses=_BOTH)
def access_export(
    app: AppDep,
    _key: ReadKey,
    ref: Ref,
    format: Annotated[Literal["json", "html"], Query(description="json (portable) or html.")] = "json",
    lang: Lang = "nl",
) -> Response:
    """Everything held about the person a contact point belongs to (GDPR Art. 15 and 20).

    Every contact point of the contact, the whole ledger timeline with its evidence, the
    sources, the purposes and what is decided today per channel and purpose. An erased
    person's export says when they were erased. 404 for an unknown contact point; 410 for an
    address whose point was erased (only its suppression record remains).
    """
    return _answer("access", access.person(app, ref), format, lang)


@router.get("/consent-proofs/{ref:anytext}", response_class=Response, responses=_BOTH)
def consent_proof_report(
    app: AppDep,
    _key: ReadKey,
    ref: Ref,
    format: Annotated[Literal["json", "html"], Query(description="html (readable) or json.")] = "html",
    lang: Lang = "nl",
) -> Response:
    """Proof of consent for the person: each consent's evidence, its chain hashes and the commands
    that re-verify them."""
    return _answer("proof", consent_proof.proof(app, ref), format, lang)


@router.get("/receipts", responses=responses(401, 403, 422))
def purpose_receipts(
    app: AppDep,
    _key: ReadKey,
    purpose: Annotated[str, Query(max_length=63, description="Purpose key.", examples=["nieuwsbrief"])],
) -> list[dict[str, Any]]:
    """ISO/IEC TS 27560 consent receipts of every consent given for a purpose."""
    return receipts.for_purpose(app, purpose)


@router.get("/receipts/{event_id}", responses=responses(401, 403, 422))
def event_receipt(
    app: AppDep,
    _key: ReadKey,
    event_id: Annotated[str, Path(max_length=40, description="Id of a consent.given event.")],
) -> dict[str, Any]:
    """The ISO/IEC TS 27560 consent receipt of one consent."""
    return receipts.for_event(app, event_id)


@router.get("/reports/processing", response_class=Response, responses=_BOTH)
def processing(
    app: AppDep,
    _key: ReadKey,
    start: Annotated[date, Query(alias="from", description="First day of the period.")],
    end: Annotated[date, Query(alias="to", description="Last day of the period, included.")],
    format: Annotated[Literal["json", "html"], Query(description="json or html.")] = "json",
    lang: Lang = "nl",
) -> Response:
    """Consents given and withdrawn, objections, requests and how fast they were answered, erasures."""
    return _answer("processing", processing_report.processing(app, start, end), format, lang)
