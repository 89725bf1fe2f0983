"""The access log: one line per request, with nothing personal in it.

uvicorn's own access log writes the client's address and the request's path with
its query string: `GET /v1/contact-points/jan%40example.nl`, `/v1/decision?contact=...`,
`/admin/contacts?q=...`, a confirmation link's token beside the address of whoever
followed it. `consentry serve` turns it off, and this middleware writes the line
instead: the method, the path TEMPLATE of the route that answered
(`/v1/contact-points/{ref}`; `UNMATCHED` when none did), the status and the time
taken. No client address, no query, no path parameter, no header.

The lines go to the `consentry.access` logger at INFO (`consentry serve` prints them on
standard error with uvicorn's messages); each record also carries them as attributes
(`method`, `route`, `status`, `duration_ms`) for a structured handler.

Which route answered is read off the scope: the router writes the chosen route's
`endpoint` into it. Its template is looked up in a table made once from the app's
routes, flattened with FastAPI's `iter_route_contexts` where it has one (since 0.137
an included router's routes are no longer copied into the app's list, and the
`route` the router puts in the scope has lost the include's prefix: /v1 here).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

import fastapi.routing
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("consentry.access")

#: The route of a request that no route answered (a 404, a redirect to the path with a slash).
UNMATCHED = "<unmatched>"

Templates = dict[int, list[tuple[str, Any]]]


def _flat(routes: Sequence[BaseRoute]) -> Iterable[Any]:
    """Every route with its whole path, included routers' routes with their prefixes."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    return routes if flatten is None else flatten(routes)


def templates(routes: Sequence[BaseRoute]) -> Templates:
    """The path templates of the routes, by the identity of what each hands a request to
    (its endpoint; a mount's application)."""
    found: Templates = {}
    for route in _flat(routes):
        template = getattr(route, "path_format", None)
        target = getattr(route, "endpoint", None) or getattr(route, "app", None)
        if isinstance(template, str) and template and target is not None:
            found.setdefault(id(target), []).append((template, route))
    return found


def route_template(table: Templates, scope: Scope) -> str:
    """The path template of the route that took this request, never the path itself."""
    endpoint = scope.get("endpoint")
    candidates = table.get(id(endpoint), []) if endpoint is not None else []
    if len(candidates) == 1:
        return candidates[0][0]
    for template, route in candidates:  # one endpoint on several paths: the one that matches
        if route.matches(scope)[0] is not Match.NONE:
            return str(template)
    return UNMATCHED


class AccessLog:
    """ASGI middleware: log each HTTP request as method, route template, status and milliseconds."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        # Made when the middleware stack is, at the first request: every route is there.
        self.table = templates(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the application fails before it does

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            # The router writes its choice into the scope it was given, which is this one.
            ms = (time.perf_counter() - started) * 1000
            method, route = str(scope.get("method", "")), route_template(self.table, scope)
            log.info(
                "%s %s %d %.1f ms",
                method,
                route,
                status,
                ms,
                extra={"method": method, "route": route, "status": status, "duration_ms": round(ms, 1)},
            )
