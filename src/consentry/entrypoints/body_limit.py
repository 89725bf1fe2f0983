"""A cap on the size of every request body, before any of it is parsed.

The API takes up to `limits.REQUEST_BYTES` (a batch of 10,000 events fits); the
public pages, whose forms post a few fields, take `limits.PAGE_BYTES`; the admin
pages `limits.ADMIN_BYTES` (a campaign's texts), the import's upload
`limits.UPLOAD_BYTES` and a register's `limits.REGISTER_UPLOAD_BYTES`. A body
over the cap is answered 413: unread when its Content-Length says so, else as
soon as the streamed bytes pass the cap.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry.domain import limits


def _cap(scope: Scope) -> int:
    path = str(scope.get("path", ""))
    if path.startswith("/v1/"):
        return limits.REQUEST_BYTES
    if path == "/admin/import":
        return limits.UPLOAD_BYTES
    if path == "/admin/registers":
        return limits.REGISTER_UPLOAD_BYTES
    if path.startswith("/admin/"):
        return limits.ADMIN_BYTES
    return limits.PAGE_BYTES


async def _refuse(scope: Scope, send: Send, cap: int) -> None:
    message = f"the request body is larger than the limit of {cap} bytes"
    if str(scope.get("path", "")).startswith("/v1/"):
        body = json.dumps({"detail": [{"loc": ["body"], "msg": message, "type": "too_large"}]}).encode()
        kind = b"application/json"
    else:
        body, kind = message.encode(), b"text/plain; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: 413 for a request body over its cap."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = _cap(scope)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > cap:
            await _refuse(scope, send, cap)
            return
        if declared is not None:
            # The server holds the client to its Content-Length: the body is no longer than that.
            await self.app(scope, receive, send)
            return
        # No length given (a chunked body): read it here, up to the cap, and hand it on.
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > cap:
                await _refuse(scope, send, cap)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
