"""Importeren: upload a CSV or a Mailchimp export, map its columns, see a dry run, then import.

The steps, each a page: the upload (`/admin/import`); the mapping, with the file's first
rows and the mapping its header suggests (`/admin/import/{id}`); the dry run's report,
every row accounted for (`.../report`); the import itself, in the background with its
progress shown, and its report. The upload stays on the server's disk until the import
ran (`consentry.adapters.uploads`). Marketeers and beheerders only.
"""

from __future__ import annotations

import zipfile
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from consentry.adapters.uploads import Upload, Uploads, UploadTooLarge
from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.events import STATED_BASES
from consentry.domain.users import AuditAction, User
from consentry.domain.vocabulary import PartyKind, Source
from consentry.entrypoints.accounts import accounts
from consentry.entrypoints.web import admin_nav, admin_views
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.web.admin_jobs import Job, jobs
from consentry.entrypoints.wired import AppDep
from consentry.i18n import N_
from consentry.services import errors, imports, purposes, users
from consentry.services.imports import mailchimp
from consentry.services.imports.preview import count_lines, preview

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
Marketer = Annotated[User, Depends(admin_nav.opens("import"))]
Token = Annotated[str | None, Form(alias="csrf", max_length=2000)]
Text = Annotated[str, Form(max_length=limits.LABEL)]
BASE = "/admin/import"

#: The batch's provenance and basis as the form offers them.
SOURCES = {
    Source.WEB_FORM: N_("Web form"),
    Source.PURCHASE: N_("Purchase (customers)"),
    Source.BUSINESS_CARD: N_("Business card"),
    Source.LINKEDIN: N_("LinkedIn"),
    Source.PUBLIC_PROFILE: N_("Public profile"),
    Source.PUBLIC_REGISTER: N_("Public register"),
    Source.THIRD_PARTY_LIST_WITH_PROOF: N_("Another organisation's list, with proof of consent"),
    Source.THIRD_PARTY_LIST_WITHOUT_PROOF: N_("Another organisation's list, without proof"),
    Source.REFERRAL: N_("Referral"),
    Source.DIRECT_CONTACT: N_("Direct contact"),
    Source.IMPORT: N_("Import (unknown origin)"),
}
BASES = {
    "consent": N_("Consent"),
    "legitimate_interest": N_("Legitimate interest"),
    "contract": N_("Contract"),
}
PARTIES = {
    PartyKind.CONSUMER: N_("Consumer"),
    PartyKind.SOLE_TRADER: N_("Sole trader"),
    PartyKind.EMPLOYEE: N_("Employee of an organisation"),
    PartyKind.LEGAL_PERSON: N_("Organisation (legal person)"),
}
FIELD_NAMES = {
    "email": N_("E-mail address"),
    "phone": N_("Phone number"),
    "postal": N_("Postal address"),
    "name": N_("Name"),
    "party": N_("Consumer or business"),
    "country": N_("Country"),
    "consent_at": N_("Consent given at"),
    "consent_ip": N_("IP address of the consent"),
    "tags": N_("Tags"),
}
assert set(BASES) == set(STATED_BASES) and tuple(FIELD_NAMES) == imports.FIELDS


def uploads(request: Request) -> Uploads:
    """The uploads of the application serving `request`."""
    found: Uploads = request.app.state.admin_uploads
    return found


def _upload(request: Request, user: User, upload_id: str) -> Upload:
    found = uploads(request).get(upload_id, user.id)
    if found is None:
        raise errors.InputError(
            "upload", "this upload is gone (imported, or older than a day): upload it again"
        )
    return found


@router.get(BASE, response_class=HTMLResponse)
def upload_page(request: Request, app: AppDep, user: Marketer) -> HTMLResponse:
    """Step 1: choose the file."""
    return _page(request, app, user, "admin_import.html", error=None)


@router.post(BASE, response_class=HTMLResponse)
def upload(
    request: Request,
    app: AppDep,
    user: Marketer,
    file: Annotated[UploadFile, File()],
    token: Token = None,
) -> Response:
    """Keep the uploaded file and go on to the mapping."""
    admin_views.check(app, request, user, token)
    if not file.filename:
        return _page(request, app, user, "admin_import.html", status=422, error="empty")
    try:
        kept = uploads(request).save(file.file, file.filename, user.id, limits.UPLOAD_BYTES)
    except UploadTooLarge:
        return _page(request, app, user, "admin_import.html", status=413, error="large")
    if kept.meta["bytes"] == 0:
        uploads(request).delete(kept.id)
        return _page(request, app, user, "admin_import.html", status=422, error="empty")
    kind = "mailchimp" if zipfile.is_zipfile(kept.path) or mailchimp.status_of(kept.name) else "csv"
    uploads(request).note(kept, kind=kind)
    return RedirectResponse(admin_views.link(request, f"{BASE}/{kept.id}"), status_code=303)


@router.get(BASE + "/{upload_id}", response_class=HTMLResponse)
def mapping_page(request: Request, app: AppDep, user: Marketer, upload_id: str) -> HTMLResponse:
    """Step 2: the first rows and the mapping, guessed from the header (or as chosen before)."""
    return _mapping(request, app, user, _upload(request, user, upload_id))


@router.post(BASE + "/{upload_id}", response_class=HTMLResponse)
async def check(request: Request, app: AppDep, user: Marketer, upload_id: str) -> Response:
    """Step 3: take the mapping and the batch's provenance, and start the dry run."""
    form = await request.form()
    values = {k: str(v)[: limits.LABEL] for k, v in form.items() if isinstance(v, str)}
    admin_views.check(app, request, user, values.get("csrf"))
    up = _upload(request, user, upload_id)
    chosen = _chosen(values, up)
    up = uploads(request).note(up, chosen=chosen)
    try:
        work = _work(app, up, dry_run=True)
    except errors.InputError as exc:
        return _mapping(request, app, user, up, error=exc, status=422)
    jobs(request).start(_key(up), user.id, "dry_run", work, total=count_lines(up.path))
    return RedirectResponse(admin_views.link(request, f"{BASE}/{up.id}/report"), status_code=303)


@router.post(BASE + "/{upload_id}/run", response_class=HTMLResponse)
def run(request: Request, app: AppDep, user: Marketer, upload_id: str, token: Token = None) -> Response:
    """Step 4: the import itself, in the background, as the dry run showed it."""
    admin_views.check(app, request, user, token)
    up = _upload(request, user, upload_id)
    done = jobs(request).get(_key(up))
    if done is None or done.running or done.phase != "dry_run" or done.state != "done":
        raise errors.InputError("upload", "run the dry run first and read its report")
    real = _work(app, up, dry_run=False)
    store = uploads(request)

    def work(job: Job) -> Any:
        try:
            result = real(job)
        except Exception:
            users.record(accounts(app), user, AuditAction.IMPORTED, up.name, state="failed")
            raise
        finally:
            store.delete(up.id)  # the ledger has what it needed; the file holds personal data
        _record(app, user, up, result)
        return result

    jobs(request).start(_key(up), user.id, "run", work, total=done.total)
    return RedirectResponse(admin_views.link(request, f"{BASE}/{up.id}/report"), status_code=303)


@router.get(BASE + "/{upload_id}/report", response_class=HTMLResponse)
def report(request: Request, app: AppDep, user: Marketer, upload_id: str) -> HTMLResponse:
    """The dry run's or the import's report; while it runs, its progress."""
    job = _job(request, user, upload_id)
    url = admin_views.link(request, f"{BASE}/{upload_id}/progress")
    return _page(
        request, app, user, "admin_import_report.html", job=job, upload_id=upload_id, progress_url=url
    )


@router.get(BASE + "/{upload_id}/progress")
def progress(request: Request, user: Marketer, upload_id: str) -> JSONResponse:
    """How far the dry run or the import got (polled by the report page)."""
    job = _job(request, user, upload_id)
    return JSONResponse(
        {"running": job.running, "done": job.done, "total": max(job.total, job.done)},
        headers={"Cache-Control": "no-store"},
    )


def _job(request: Request, user: User, upload_id: str) -> Job:
    job = jobs(request).get(f"import:{upload_id}")
    if job is None or job.owner != user.id:
        raise errors.InputError("upload", "no import runs for this upload: upload it again")
    return job


def _key(up: Upload) -> str:
    return f"import:{up.id}"


def _chosen(values: dict[str, str], up: Upload) -> dict[str, Any]:
    if up.meta.get("kind") == "mailchimp":
        return {"purpose": values.get("purpose", ""), "audience": values.get("audience", "")}
    columns = {name: values[f"map_{name}"] for name in imports.FIELDS if values.get(f"map_{name}")}
    return {
        "columns": columns,
        "source": values.get("source", ""),
        "basis": values.get("basis", ""),
        "purpose": values.get("purpose", ""),
        "party": values.get("party", ""),
        "tags": values.get("tags", ""),
    }


def _work(app: App, up: Upload, dry_run: bool) -> Any:
    """The import of `up` as chosen, ready to run; InputError now for what is wrong with the choice."""
    chosen = up.meta.get("chosen") or {}
    if up.meta.get("kind") == "mailchimp":
        purpose = chosen.get("purpose") or ""
        if not purpose:
            raise errors.InputError("purpose", "choose the purpose this audience's consents are for")

        def mailchimp_work(job: Job) -> list[tuple[str, str, imports.ImportReport]]:
            found = mailchimp.run(
                app, up.path, purpose, audience=chosen.get("audience") or None, dry_run=dry_run,
                progress=job.advance,
            )  # fmt: skip
            return [(f.name, f.status, f.report) for f in found.files]

        return mailchimp_work
    tags = tuple(imports.split_tags(chosen.get("tags", "")))
    spec = imports.CsvSpec(
        source=errors.choice(Source, "source", chosen.get("source") or "import"),
        basis=chosen.get("basis", ""),
        columns=chosen.get("columns", {}),
        purpose=chosen.get("purpose") or None,
        party=errors.choice(PartyKind, "party", chosen["party"]) if chosen.get("party") else None,
        source_detail=up.name,
        tags=tags,
    )
    mapper = imports.CsvMapper(app, spec)
    mapper.check(preview(up.path).format)

    def csv_work(job: Job) -> list[tuple[str, str, imports.ImportReport]]:
        found = imports.run(app, up.path, imports.CsvMapper(app, spec), dry_run=dry_run, progress=job.advance)
        return [(up.name, "", found)]

    return csv_work


def _record(app: App, user: User, up: Upload, result: list[tuple[str, str, imports.ImportReport]]) -> None:
    totals = {"rows": 0, "imported": 0, "merged": 0, "rejected": 0}
    for _, _, r in result:
        totals["rows"] += r.rows
        totals["imported"] += r.imported
        totals["merged"] += r.merged
        totals["rejected"] += r.rejected_rows
    users.record(accounts(app), user, AuditAction.IMPORTED, up.name, state="done", **totals)


def _mapping(
    request: Request,
    app: App,
    user: User,
    up: Upload,
    error: errors.InputError | None = None,
    status: int = 200,
) -> HTMLResponse:
    shown = None
    if up.meta.get("kind") != "mailchimp":
        try:
            shown = preview(up.path)
        except errors.InputError as exc:
            error, status = exc, 422
    return _page(
        request, app, user, "admin_import_map.html", status=status, upload=up, preview=shown, error=error,
        chosen=up.meta.get("chosen") or {}, purposes=purposes.list_all(app), fields=FIELD_NAMES,
        sources=SOURCES, bases=BASES, parties=PARTIES,
    )  # fmt: skip


def _page(
    request: Request, app: App, user: User, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    return admin_views.page(request, app, user, template, current="import", status=status, **context)
