"""Rendering the admin app's pages: the layout's menu, the user's form token, local times, numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from consentry.bootstrap import App
from consentry.domain.users import User
from consentry.entrypoints.web import admin_nav, csrf, views
from consentry.entrypoints.web.admin_session import form_subject
from consentry.i18n import local_time

#: What the admin pages' scripts may do beyond the public pages' policy: run our own scripts, ask
#: our own server how background work goes (progress), and show our own public form in a frame.
_SCRIPTS = "script-src 'self'; connect-src 'self'; frame-src 'self'"


def page(
    request: Request,
    app: App,
    user: User,
    template: str,
    current: str = "",
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """An admin page from `template`, in the layout with the menu of `user`'s role."""
    lang = views.page_lang(request)
    response = views.render(
        request,
        template,
        status=status,
        user=user,
        menu=admin_nav.menu(user),
        current=current,
        may_change=lambda key: admin_nav.may_change(user, key),
        csrf_field=csrf.FIELD,
        csrf_token=csrf.issue(app, form_subject(user)),
        logout_action=views.action(request, "/admin/logout"),
        done=request.query_params.get("done", ""),
        link=lambda path, **query: link(request, path, **query),
        local_time=lambda moment: local_time(moment, lang),
        number=lambda value: format_decimal(value, locale=lang),
        day=lambda value: format_date(value, "d MMM y", locale=lang),
        **context,
    )
    policy = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = f"{policy}; {_SCRIPTS}"
    return response


def link(request: Request, path: str, **query: object) -> str:
    """A link to an admin page in the page's language, with other query values."""
    values = {"lang": views.page_lang(request), **{k: str(v) for k, v in query.items() if v is not None}}
    return f"{path}?{urlencode(values)}"


def done(request: Request, path: str, what: str, **query: object) -> RedirectResponse:
    """After a change: back to `path` (a GET, so a reload posts nothing twice), saying what was done."""
    return RedirectResponse(link(request, path, done=what, **query), status_code=303)


def check(app: App, request: Request, user: User, token: str | None) -> None:
    """Accept a post only with the form token of `user`'s open session, sent from our own pages."""
    csrf.check(app, request, token, form_subject(user))


def moment_text(moment: datetime | None, lang: str) -> str:
    """A moment for a table cell: local time with its zone, or a dash."""
    return "–" if moment is None else local_time(moment, lang)
