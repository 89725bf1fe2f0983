"""What routes depend on: the wired App (`entrypoints/wired.py`) and the API key a route needs.

Keys come as `Authorization: Bearer cs_...` or as `X-API-Key: cs_...`. A key that
authenticated is remembered for a few seconds per process, so a busy client does not
cost a database read and a hash per request; a revocation therefore reaches the other
processes within KEY_CACHE_SECONDS (the process that revokes forgets at once).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from consentry.entrypoints.api.errors import ApiError
from consentry.entrypoints.wired import AppDep, get_app, wired_app
from consentry.services import apikeys
from consentry.services.apikeys import ApiKey, NotAuthorised, Scope

__all__ = ["AdminKey", "AppDep", "KeyCacheDep", "ReadKey", "WriteKey", "get_app", "require"]

KEY_CACHE_SECONDS = 5.0
_CACHE_MAX = 1000

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key: `Authorization: Bearer cs_...`.",
)
header_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKeyHeader",
    description="The same API key in a header of its own.",
)


@dataclass
class KeyCache:
    """Keys that authenticated recently, by token, with the moment they expire from here."""

    ttl: float = KEY_CACHE_SECONDS
    keys: dict[str, tuple[float, ApiKey]] = field(default_factory=dict)

    def get(self, token: str) -> ApiKey | None:
        """The cached key for a token, if it is still fresh."""
        found = self.keys.get(token)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, token: str, key: ApiKey) -> None:
        """Remember a key that authenticated."""
        if self.ttl <= 0:
            return
        if len(self.keys) >= _CACHE_MAX:
            self.keys.clear()
        self.keys[token] = (time.monotonic() + self.ttl, key)

    def forget(self, key_id: str) -> None:
        """Drop every token of one key (after it was revoked here)."""
        self.keys = {t: v for t, v in self.keys.items() if v[1].id != key_id}


async def get_key_cache(request: Request) -> KeyCache:
    """This process's cache of authenticated keys."""
    cache: KeyCache = request.app.state.key_cache
    return cache


KeyCacheDep = Annotated[KeyCache, Depends(get_key_cache)]


def _unauthorised(exc: NotAuthorised) -> ApiError:
    if exc.status == 403:
        return ApiError.one(403, ["header", "authorization"], str(exc), "forbidden")
    return ApiError.one(
        401,
        ["header", "authorization"],
        str(exc),
        "unauthorised",
        headers={"WWW-Authenticate": 'Bearer realm="consentry"'},
    )


def require(scope: Scope) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency that admits a request whose key is active and has `scope`."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
        header: Annotated[str | None, Security(header_key)],
    ) -> ApiKey:
        token = credentials.credentials if credentials is not None else header
        # The state is read here rather than through AppDep: every dependency costs time
        # on each request, and this one runs on all but one.
        cache: KeyCache = request.app.state.key_cache
        key = cache.get(token) if token else None
        if key is None:
            try:
                # A key is checked against the database; keep that off the event loop.
                app = wired_app(request)
                key = await run_in_threadpool(apikeys.authenticate, app, token, scope)
            except NotAuthorised as exc:
                raise _unauthorised(exc) from None
            assert token is not None
            cache.put(token, key)
        elif not key.allows(scope):
            raise _unauthorised(NotAuthorised(f"this API key lacks the {scope.value} scope", status=403))
        return key

    dependency.__name__ = f"require_{scope.value}"
    return dependency


ReadKey = Annotated[ApiKey, Depends(require(Scope.READ))]
WriteKey = Annotated[ApiKey, Depends(require(Scope.WRITE))]
AdminKey = Annotated[ApiKey, Depends(require(Scope.ADMIN))]
