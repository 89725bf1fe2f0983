"""Stateless protection of the public forms against cross-site posts.

No session and no cookie: each form carries a signed, timed token bound to what
the page is about (the form key, or the contact point a personal link names),
and a post is refused when its Origin (or, lacking that, its Referer) names
another site than `settings.base_url`. Browsers send at least one of those on
form posts; clients that send neither (scripts, some privacy tools) still need
the token, which only our own pages hand out.

The RFC 8058 one-click unsubscribe POST is deliberately not protected: mail
clients send it without any page, cookie or token, and the signed unsubscribe
link in the URL is what authorises it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from consentry.adapters.tokens import TokenExpired, TokenInvalid, TokenUse
from consentry.bootstrap import App

FIELD = "csrf"
MAX_AGE_S = 2 * 60 * 60
_DEFAULT_PORTS = {"http": 80, "https": 443}


class CsrfRejected(Exception):
    """The post did not come from one of our own, recently opened pages."""


def form_subject(form_key: str) -> str:
    """What a sign-up form's token is bound to (prefixed so it never equals a contact point id)."""
    return f"form:{form_key}"


def issue(app: App, subject: str) -> str:
    """A token for the hidden field of a page about `subject`."""
    return app.signer().make(TokenUse.CSRF, subject)


def check(app: App, request: Request, token: str | None, subject: str) -> None:
    """Accept the post only with a fresh token for `subject`, sent from our own origin."""
    if not _same_origin(request, app.settings.base_url):
        raise CsrfRejected("cross-origin post")
    if not token:
        raise CsrfRejected("no token")
    try:
        claims = app.signer().read(TokenUse.CSRF, token, max_age_s=MAX_AGE_S)
    except (TokenInvalid, TokenExpired):
        raise CsrfRejected("bad or old token") from None
    if claims.contact_point != subject:
        raise CsrfRejected("token for another page")


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS.get(scheme)


def _same_origin(request: Request, base_url: str) -> bool:
    expected = _origin(base_url)
    origin = request.headers.get("origin")
    if origin is not None:
        # "null" (sandboxed frames, privacy modes) does not parse and is refused.
        return _origin(origin) == expected
    referer = request.headers.get("referer")
    if referer:
        return _origin(referer) == expected
    return True
