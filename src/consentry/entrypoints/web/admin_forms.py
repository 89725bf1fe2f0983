"""Formulieren (/admin/forms): the sign-up forms, a new form, a new version, preview and embed code."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse

from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.forms import Form as SignupForm
from consentry.domain.users import User
from consentry.entrypoints.web import admin_nav, admin_views, csrf, views
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.wired import AppDep
from consentry.services import forms, purposes
from consentry.services.errors import InputError

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
PATH = "/admin/forms"
#: The editor of a new form ("_" cannot begin a form key, so no form is shadowed by it).
NEW = PATH + "/_new"
Reader = Annotated[User, Depends(admin_nav.opens("forms"))]
Writer = Annotated[User, Depends(admin_nav.changes("forms"))]
Text = Annotated[str, Form(max_length=limits.TEXT)]
Texts = Annotated[list[str], Form(max_length=limits.ITEMS)]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]


@router.get(PATH, response_class=HTMLResponse)
def forms_page(request: Request, app: AppDep, user: Reader) -> HTMLResponse:
    """The newest version of every form."""
    return admin_views.page(
        request, app, user, "admin_forms.html", current="forms", forms=forms.list_all(app)
    )


@router.get(NEW, response_class=HTMLResponse)
def new_form_page(request: Request, app: AppDep, user: Writer) -> HTMLResponse:
    """The editor for a new form."""
    return _editor(request, app, user, {})


@router.get(PATH + "/{key}", response_class=HTMLResponse)
def form_page(key: str, request: Request, app: AppDep, user: Reader) -> HTMLResponse:
    """A form: its newest version, a preview of the public page, its embed code, and the editor
    for its next version."""
    return _form(request, app, user, forms.get(app, key))


@router.post(PATH, response_class=HTMLResponse)
def save(
    request: Request,
    app: AppDep,
    user: Writer,
    key: Annotated[str, Form(max_length=limits.KEY)] = "",
    title_nl: Text = "",
    title_en: Text = "",
    intro_nl: Text = "",
    intro_en: Text = "",
    valid_months: Annotated[str, Form(max_length=10)] = "",
    lead_magnet_url: Annotated[str, Form(max_length=limits.URL)] = "",
    lead_magnet_title_nl: Text = "",
    lead_magnet_title_en: Text = "",
    asked: Texts = [],  # noqa: B006 - FastAPI copies defaults per request
    slot: Texts = [],  # noqa: B006
    text_nl: Texts = [],  # noqa: B006
    text_en: Texts = [],  # noqa: B006
    token: Token = None,
) -> Response:
    """Save a new form, or a form's next version (an unchanged one keeps its version)."""
    admin_views.check(app, request, user, token)
    doc: dict[str, Any] = {
        "key": key.strip(),
        "title_nl": title_nl,
        "title_en": title_en,
        "intro_nl": intro_nl,
        "intro_en": intro_en,
        "items": [
            {"purpose": p, "text_nl": nl, "text_en": en}
            for p, nl, en in zip(slot, text_nl, text_en, strict=False)
            if p in asked
        ],
    }
    if lead_magnet_url.strip():
        doc["lead_magnet_url"] = lead_magnet_url.strip()
        doc["lead_magnet_title_nl"] = lead_magnet_title_nl.strip() or None
        doc["lead_magnet_title_en"] = lead_magnet_title_en.strip() or None
    try:
        if valid_months.strip():
            doc["consent_valid_for_months"] = _months(valid_months)
        before = _version(app, doc["key"])
        saved = forms.save(app, doc, actor=user.email)
    except InputError as exc:
        return _editor(request, app, user, doc, error=exc, status=422, valid_months=valid_months)
    what = "unchanged" if saved.version == before else "saved"
    return admin_views.done(request, f"{PATH}/{saved.key}", what)


def _months(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise InputError("consent_valid_for_months", "must be a whole number of months") from None


def _version(app: App, key: str) -> int | None:
    try:
        return forms.get(app, key).version
    except InputError:
        return None


def _form(request: Request, app: App, user: User, form: SignupForm) -> HTMLResponse:
    lang = views.page_lang(request)
    return _editor(
        request,
        app,
        user,
        form.to_json(),
        template="admin_form.html",
        form=form,
        preview=f"/f/{form.key}?embed=1&lang={lang}",
        public=f"/f/{form.key}?lang={lang}",
        snippet=forms.embed_snippet(app, form),
    )


def _editor(
    request: Request,
    app: App,
    user: User,
    doc: dict[str, Any],
    error: InputError | None = None,
    status: int = 200,
    template: str = "admin_form_new.html",
    valid_months: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page with the form editor filled in from `doc`: one row per defined purpose."""
    items = {i["purpose"]: i for i in doc.get("items", []) if isinstance(i, dict)}
    months = doc.get("consent_valid_for_months")
    return admin_views.page(
        request,
        app,
        user,
        template,
        current="forms",
        status=status,
        doc=doc,
        items=items,
        valid_months=valid_months if valid_months is not None else ("" if months is None else str(months)),
        purposes=purposes.list_all(app),
        error=error,
        action=admin_views.link(request, PATH),
        **context,
    )
