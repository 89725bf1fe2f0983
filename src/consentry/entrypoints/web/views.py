"""Rendering the public pages: language, templates, safe headers, and the error pages.

Every page route is a `PageRoute`: whatever goes wrong in it that a visitor can
cause (a forged, truncated or old link, an unknown form, bad input, a cross-site
post, too many attempts) becomes a page in the visitor's language with a 4xx
status, never a 500 and never a JSON error meant for the API.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine
from functools import cache
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from consentry.adapters.busy import RETRY_AFTER_S, is_busy
from consentry.adapters.ratelimit import RateLimited
from consentry.adapters.tokens import TokenExpired, TokenInvalid
from consentry.domain import limits
from consentry.entrypoints.web.csrf import CsrfRejected
from consentry.entrypoints.wired import wired_app
from consentry.i18n import LANGS, N_, negotiate, translations, when
from consentry.services import sender
from consentry.services.errors import InputError
from consentry.services.public import Evidence

LANG_COOKIE = "lang"
_YEAR_S = 365 * 24 * 60 * 60
_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'"

#: Words from the ledger's vocabulary (a status, a channel, a request, a field) as a visitor reads them.
TERMS: dict[str, dict[str, str]] = {
    "status": {
        "subscribed": N_("subscribed"),
        "pending": N_("awaiting your confirmation"),
        "expired": N_("confirmation expired"),
        "unsubscribed": N_("unsubscribed"),
        "none": N_("no choice made"),
    },
    "channel": {
        "email": N_("e-mail"),
        "sms": N_("text message"),
        "messaging_app": N_("messaging app"),
        "phone": N_("phone"),
        "automated_call": N_("automated call"),
        "post": N_("post"),
        "fax": N_("fax"),
    },
    "request": {"access": N_("Copy of data"), "erasure": N_("Erasure of data")},
    "field": {
        "email": N_("E-mail address"),
        "purposes": N_("Choices"),
        "preferences": N_("Preferences"),
        "scope": N_("Objection"),
        "request": N_("Request"),
        "lang": N_("Language"),
    },
}


@cache
def templates(lang: str) -> jinja2.Environment:
    """The page templates, speaking `lang` (one environment per language, made once)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("consentry.entrypoints.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Must match the `trimmed` option of the Jinja2 extractor in pyproject.toml, or the
    # message ids of multi-line {% trans %} blocks would differ from the catalogs'.
    env.policies["ext.i18n.trimmed"] = True
    # newstyle: _() and ngettext() take the values to fill in and escape them.
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def page_lang(request: Request) -> str:
    """The page language: ?lang=, else the remembered choice, else the browser's, else Dutch."""
    asked = request.query_params.get("lang")
    if asked not in LANGS:
        asked = request.cookies.get(LANG_COOKIE)
    return negotiate(request.headers.get("accept-language"), asked)


_AGENT_CHARS = limits.EVENT_TEXT["user_agent"]


def evidence(request: Request) -> Evidence:
    """Where a post came from, as the ledger records it."""
    agent = request.headers.get("user-agent")
    if agent is not None and len(agent) > _AGENT_CHARS:
        # The browser sent it, not the person: their sign-up is not refused for it. The
        # evidence keeps the start, and the ellipsis says it was cut.
        agent = agent[: _AGENT_CHARS - 1] + "…"
    return Evidence(ip=request.client.host if request.client else None, user_agent=agent)


def is_embedded(request: Request) -> bool:
    """True for the minimal variant shown in a frame on another website."""
    return request.query_params.get("embed") == "1"


def action(request: Request, path: str) -> str:
    """Where a page's form posts: the path, keeping the language (and the embedded variant)."""
    query = {"lang": page_lang(request), **({"embed": "1"} if is_embedded(request) else {})}
    return f"{path}?{urlencode(query)}"


def term(lang: str, kind: str, value: str) -> str:
    """A word from the ledger's vocabulary (`TERMS[kind]`) as a visitor reads it; others as they are."""
    word = TERMS[kind].get(value)
    return translations(lang).gettext(word) if word else value


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from `template` in the visitor's language, with headers that keep it private."""
    lang = page_lang(request)
    embed = is_embedded(request)
    html = (
        templates(lang)
        .get_template(template)
        .render(
            lang=lang,
            embed=embed,
            switch=_switch_links(request),
            pick=lambda nl, en: en if lang == "en" else nl,
            when=lambda moment: when(moment, lang),
            term=lambda kind, value: term(lang, kind, value),
            sender=lambda: _identity(request),
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status)
    h = response.headers
    # The embedded variant must be allowed into other sites' frames; nothing else may be framed.
    h["Content-Security-Policy"] = _CSP if embed else f"{_CSP}; frame-ancestors 'none'"
    if not embed:
        h["X-Frame-Options"] = "DENY"
    # same-origin: personal links never leak to other sites, while our own posts keep their Referer.
    h["Referrer-Policy"] = "same-origin"
    h["X-Content-Type-Options"] = "nosniff"
    h["Cache-Control"] = "no-store"
    h["Content-Language"] = lang
    asked = request.query_params.get("lang")
    if request.method == "GET" and asked in LANGS:
        response.set_cookie(
            LANG_COOKIE,
            asked,
            max_age=_YEAR_S,
            path="/",
            samesite="lax",
            httponly=True,
            secure=request.url.scheme == "https",
        )
    return response


def _identity(request: Request) -> sender.Identity:
    """The sender's identity for a page's header and footer; none while the store is busy (the
    busy page itself must not fail on it)."""
    try:
        return sender.identity(wired_app(request))
    except Exception as exc:
        if is_busy(exc):
            return sender.Identity()
        raise


def _switch_links(request: Request) -> dict[str, str]:
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    return {code: f"{request.url.path}?{urlencode({**query, 'lang': code})}" for code in LANGS}


def error_page(request: Request, kind: str, status: int, **values: Any) -> HTMLResponse:
    """The page for one kind of failure (its texts are in error.html)."""
    return render(request, "error.html", status=status, kind=kind, values=values)


def _error_response(request: Request, exc: Exception) -> HTMLResponse | None:
    app = wired_app(request)
    if isinstance(exc, TokenExpired):
        return error_page(request, "expired", 410, days=app.settings.doi_expiry_days)
    if isinstance(exc, TokenInvalid):
        return error_page(request, "invalid", 404)
    if isinstance(exc, CsrfRejected):
        return error_page(request, "csrf", 403, reload=_page_of(request))
    if isinstance(exc, RateLimited):
        page = error_page(request, "rate", 429, minutes=max(1, math.ceil(exc.retry_after / 60)))
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    if isinstance(exc, InputError):
        if exc.field == "form":
            return error_page(request, "form", 404)
        field = term(page_lang(request), "field", exc.field)
        return error_page(request, "input", 422, field=field, detail=exc.message)
    if is_busy(exc):
        page = error_page(request, "busy", 503)
        page.headers["Retry-After"] = str(RETRY_AFTER_S)
        return page
    if isinstance(exc, RequestValidationError):
        errors: list[dict[str, Any]] = list(exc.errors())
        loc = errors[0].get("loc", ("request",)) if errors else ("request",)
        field = term(page_lang(request), "field", str(loc[-1]))
        return error_page(request, "input", 422, field=field, detail="")
    return None


def _page_of(request: Request) -> str:
    """The page a refused post came from, to open it again (the preference centre's forms post
    to sub-paths of it)."""
    path = request.url.path.removesuffix("/object").removesuffix("/request")
    return action(request, path)


class PageRoute(APIRoute):
    """A route whose visitor-caused failures become error pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Wrap FastAPI's handler so the exceptions above are rendered, not raised."""
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                page = _error_response(request, exc)
                if page is None:
                    raise
                return page

        return guarded
