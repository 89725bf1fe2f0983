"""The pages behind personal links: confirm (/c), unsubscribe (/u) and preferences (/p).

The signed token in the path is what opens each page: nobody types an address,
and a token only ever shows or changes the contact point it was made for.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from consentry.adapters.tokens import TokenUse
from consentry.bootstrap import App
from consentry.domain import limits
from consentry.entrypoints.web import csrf, views
from consentry.entrypoints.wired import AppDep
from consentry.services import preferences, public

router = APIRouter(route_class=views.PageRoute, include_in_schema=False)
CsrfField = Annotated[str | None, Form(alias=csrf.FIELD)]
#: The confirmations the preference centre shows after a change (?done=...).
DONE = ("saved", "object_direct_marketing", "object_profiling", "access", "erasure")


# -- confirmation ---------------------------------------------------------------------------


@router.get("/c/{token}", response_class=HTMLResponse)
def confirm_page(token: str, request: Request, app: AppDep) -> HTMLResponse:
    """A page with one button that confirms the sign-up."""
    # Opening the link does not confirm: mail scanners and link previews fetch every link in a
    # message, and a confirmation they trigger would prove nothing about the person's will.
    point = public.link_owner(app, TokenUse.CONFIRM, token)
    return _with_form(request, app, "confirm.html", point, f"/c/{token}")


@router.post("/c/{token}", response_class=HTMLResponse)
def confirm(token: str, request: Request, app: AppDep, csrf_token: CsrfField = None) -> HTMLResponse:
    """Confirm the consents the link names; a second time changes nothing."""
    csrf.check(app, request, csrf_token, public.link_owner(app, TokenUse.CONFIRM, token))
    outcome = public.confirm(app, token, views.evidence(request))
    return views.render(request, "confirmed.html", outcome=outcome)


# -- unsubscribe ----------------------------------------------------------------------------


@router.get("/u/{token}", response_class=HTMLResponse)
def unsubscribe_page(token: str, request: Request, app: AppDep) -> HTMLResponse:
    """One clear button, and a second one for everything; the address is never asked for."""
    claims, purpose = public.unsubscribe_claims(app, token)
    return views.render(
        request,
        "unsubscribe.html",
        purpose=purpose,
        action=views.action(request, f"/u/{token}"),
        preferences_url=public.links(app, claims.contact_point, None)["preferences"],
    )


@router.post("/u/{token}", response_class=HTMLResponse)
async def unsubscribe(
    token: str,
    request: Request,
    app: AppDep,
    one_click: Annotated[str | None, Form(alias="List-Unsubscribe")] = None,
    scope: Annotated[str | None, Form()] = None,
    via: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """RFC 8058 one-click unsubscribe: at once, without cookie, login, CSRF token or redirect."""
    # Served on the event loop, not in a thread, and so is everything it depends on: the write
    # takes a few ms, and in a thread it would wait for the GIL behind every decision the loop
    # is answering.
    if one_click != "One-Click":
        return views.error_page(request, "one_click", 400)
    how = "link" if via == "link" else "one_click"
    outcome = public.unsubscribe(app, token, scope == "all", how, views.evidence(request))
    # The unsubscribe is committed: the next decision, in any process, already sees it.
    return views.render(request, "unsubscribed.html", outcome=outcome)


# -- the preference centre ------------------------------------------------------------------


@router.get("/p/{token}", response_class=HTMLResponse)
def preferences_page(token: str, request: Request, app: AppDep) -> HTMLResponse:
    """Every purpose and channel with its state, and the choices to change it."""
    view = preferences.view(app, token)
    done = request.query_params.get("done")
    return views.render(
        request,
        "preferences.html",
        view=view,
        done=done if done in DONE else None,
        csrf_field=csrf.FIELD,
        csrf_token=csrf.issue(app, view.contact_point),
        actions={
            "save": views.action(request, f"/p/{token}"),
            "object": views.action(request, f"/p/{token}/object"),
            "request": views.action(request, f"/p/{token}/request"),
        },
    )


@router.post("/p/{token}", response_class=HTMLResponse)
def save_preferences(
    token: str,
    request: Request,
    app: AppDep,
    want: Annotated[list[str] | None, Form(max_length=limits.ITEMS)] = None,
    csrf_token: CsrfField = None,
) -> RedirectResponse:
    """Receive exactly the ticked purpose/channel pairs."""
    csrf.check(app, request, csrf_token, public.link_owner(app, TokenUse.PREFERENCES, token))
    wanted = {(p, c) for p, _, c in (w.partition("/") for w in want or [])}
    preferences.update(app, token, wanted, views.page_lang(request), views.evidence(request))
    return _done(request, token, "saved")


@router.post("/p/{token}/object", response_class=HTMLResponse)
def object_to(
    token: str,
    request: Request,
    app: AppDep,
    scope: Annotated[str, Form(max_length=40)] = "",
    csrf_token: CsrfField = None,
) -> RedirectResponse:
    """Record an objection to direct marketing or to profiling (Art. 21 GDPR)."""
    csrf.check(app, request, csrf_token, public.link_owner(app, TokenUse.PREFERENCES, token))
    preferences.object_to(app, token, scope, views.evidence(request))
    return _done(request, token, f"object_{scope}")


@router.post("/p/{token}/request", response_class=HTMLResponse)
def make_request(
    token: str,
    request: Request,
    app: AppDep,
    kind: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str | None, Form(max_length=limits.TEXT)] = None,
    csrf_token: CsrfField = None,
) -> RedirectResponse:
    """Record a request for a copy of the data or for its erasure."""
    csrf.check(app, request, csrf_token, public.link_owner(app, TokenUse.PREFERENCES, token))
    preferences.make_request(app, token, kind, note, views.evidence(request), views.page_lang(request))
    return _done(request, token, kind)


def _done(request: Request, token: str, what: str) -> RedirectResponse:
    # Post/redirect/get: reloading the page afterwards does not send the request a second time.
    location = views.action(request, f"/p/{token}") + f"&done={what}"
    return RedirectResponse(location, status_code=303)


def _with_form(request: Request, app: App, template: str, point: str, path: str) -> HTMLResponse:
    return views.render(
        request,
        template,
        csrf_field=csrf.FIELD,
        csrf_token=csrf.issue(app, point),
        action=views.action(request, path),
    )
