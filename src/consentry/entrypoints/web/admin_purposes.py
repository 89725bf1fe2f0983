"""Doelen (/admin/purposes): the purposes, defining one, and renaming one in Dutch and English."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse

from consentry.bootstrap import App
from consentry.domain import limits
from consentry.domain.users import User
from consentry.domain.vocabulary import PurposeKind
from consentry.entrypoints.web import admin_nav, admin_views, csrf
from consentry.entrypoints.web.admin import AdminRoute
from consentry.entrypoints.wired import AppDep
from consentry.services import purposes
from consentry.services.errors import InputError

router = APIRouter(route_class=AdminRoute, include_in_schema=False)
PATH = "/admin/purposes"
Reader = Annotated[User, Depends(admin_nav.opens("purposes"))]
Writer = Annotated[User, Depends(admin_nav.changes("purposes"))]
Name = Annotated[str, Form(max_length=limits.NAME)]
Token = Annotated[str | None, Form(alias=csrf.FIELD, max_length=2000)]


@router.get(PATH, response_class=HTMLResponse)
def purposes_page(request: Request, app: AppDep, user: Reader) -> HTMLResponse:
    """Every purpose, and (for who may) the form to define a new one."""
    return _list(request, app, user)


@router.post(PATH, response_class=HTMLResponse)
def define(
    request: Request,
    app: AppDep,
    user: Writer,
    key: Annotated[str, Form(max_length=limits.KEY)] = "",
    name_nl: Name = "",
    name_en: Name = "",
    kind: Annotated[str, Form(max_length=20)] = "commercial",
    categories: Annotated[str, Form(max_length=limits.TEXT)] = "",
    third_party: Annotated[str, Form(max_length=10)] = "",
    token: Token = None,
) -> Response:
    """Define a new purpose."""
    admin_views.check(app, request, user, token)
    try:
        purposes.define(
            app,
            key.strip(),
            name_nl,
            name_en,
            kind,
            categories.split(","),
            bool(third_party),
            actor=user.email,
        )
    except InputError as exc:
        entered = {"key": key, "name_nl": name_nl, "name_en": name_en, "categories": categories}
        return _list(request, app, user, error=exc, entered=entered)
    return admin_views.done(request, PATH, "defined", key=key.strip())


@router.get(PATH + "/{key}", response_class=HTMLResponse)
def purpose_page(key: str, request: Request, app: AppDep, user: Writer) -> HTMLResponse:
    """The form to rename a purpose."""
    purpose = purposes.get(app, key)
    return _edit(request, app, user, key, purpose.name_nl, purpose.name_en)


@router.post(PATH + "/{key}", response_class=HTMLResponse)
def rename(
    key: str,
    request: Request,
    app: AppDep,
    user: Writer,
    name_nl: Name = "",
    name_en: Name = "",
    token: Token = None,
) -> Response:
    """Store the purpose's new names."""
    admin_views.check(app, request, user, token)
    try:
        purposes.rename(app, key, name_nl, name_en, actor=user.email)
    except InputError as exc:
        return _edit(request, app, user, key, name_nl, name_en, error=exc)
    return admin_views.done(request, PATH, "renamed", key=key)


def _list(
    request: Request,
    app: App,
    user: User,
    error: InputError | None = None,
    entered: dict[str, str] | None = None,
) -> HTMLResponse:
    return admin_views.page(
        request,
        app,
        user,
        "admin_purposes.html",
        current="purposes",
        status=422 if error else 200,
        purposes=purposes.list_all(app),
        kinds=[k.value for k in PurposeKind],
        error=error,
        entered=entered or {},
        key=request.query_params.get("key", ""),
        action=admin_views.link(request, PATH),
    )


def _edit(
    request: Request,
    app: App,
    user: User,
    key: str,
    name_nl: str,
    name_en: str,
    error: InputError | None = None,
) -> HTMLResponse:
    return admin_views.page(
        request,
        app,
        user,
        "admin_purpose.html",
        current="purposes",
        status=422 if error else 200,
        key=key,
        name_nl=name_nl,
        name_en=name_en,
        error=error,
        action=admin_views.link(request, f"{PATH}/{key}"),
    )
