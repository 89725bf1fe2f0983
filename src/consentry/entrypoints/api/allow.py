"""405 answers that name every method a path has.

Starlette answers a method a path lacks with the `Allow` header of the first route
on that path only; `/v1/purposes` has a GET route and a POST route, so a PUT was
told `Allow: GET`. This middleware lists every route's methods for the path.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> list[str]:
    """The methods some route answers at the request's path, asked of the routes themselves.

    Routers nest (FastAPI includes each module's router), so each method is tried
    as the routing would try it rather than read off the route objects.
    """
    return [m for m in _METHODS if any(r.matches({**scope, "method": m})[0] is Match.FULL for r in routes)]


class AllowHeader:
    """ASGI middleware: a 405's `Allow` lists the methods of all the path's routes."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods = allowed_methods(self.routes, scope)
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"allow"]
                headers.append((b"allow", ", ".join(methods).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_allow)
