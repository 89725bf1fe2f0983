"""One error shape for every API error, and the route class that applies it.

Every error answers `{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}`, the
shape FastAPI uses for request validation, so a client reads 401, 404, 409 and 422
alike. `loc` says where the problem is (`["body", "events", 3, "purpose"]`,
`["query", "channel"]`, `["header", "authorization"]`). Inputs are never echoed back:
they may hold personal data.

The route class confines this to the /v1 routes: the public pages, served by the same
application, keep their own error pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from consentry.adapters.busy import RETRY_AFTER_S, is_busy
from consentry.adapters.sql.engine import SchemaMissing
from consentry.services.access import ErasedAddress
from consentry.services.contacts import UnknownContact
from consentry.services.dsr import RequestClosed, UnknownRequest
from consentry.services.errors import InputError
from consentry.services.ledger import AlreadyRegistered
from consentry.services.ledger_guard import LedgerDamaged

Loc = list[str | int]


class ErrorItem(BaseModel):
    """One problem: where, what, and its kind."""

    loc: Loc = Field(examples=[["body", "events", 3, "purpose"]])
    msg: str = Field(examples=["unknown purpose 'nieuwsbief'; define it with `consentry purposes add`"])
    type: str = Field(examples=["invalid"])


class ErrorBody(BaseModel):
    """What every error response carries."""

    detail: list[ErrorItem]


class ApiError(Exception):
    """An error response to give: a status, its problems and optional headers."""

    def __init__(self, status: int, items: Sequence[ErrorItem], headers: dict[str, str] | None = None):
        super().__init__(f"{status}: {'; '.join(i.msg for i in items)}")
        self.status = status
        self.items = list(items)
        self.headers = headers

    @classmethod
    def one(
        cls, status: int, loc: Loc, msg: str, kind: str, headers: dict[str, str] | None = None
    ) -> ApiError:
        """An error with one problem."""
        return cls(status, [ErrorItem(loc=loc, msg=msg, type=kind)], headers)

    def response(self) -> JSONResponse:
        """The error as a JSON response."""
        body = ErrorBody(detail=self.items).model_dump()
        return JSONResponse(body, status_code=self.status, headers=self.headers)


_STATUS_NAMES = {
    400: "Bad request",
    401: "No valid API key (missing, unknown or revoked)",
    403: "The API key lacks the scope this needs",
    404: "Not found",
    409: "Conflicts with what is stored",
    410: "Gone: the contact point of that address was erased; only its suppression record remains",
    413: "The request body is larger than the API takes",
    422: "Invalid input; `loc` names the field",
    503: "Not answered now: the ledger is damaged (wiped, cut short, rewritten), or the store is busy "
    "(another writer holds its lock; try again after Retry-After seconds)",
}


#: What any route may answer: a body over the cap (`body_limit`), a busy or damaged store.
_ANY_ROUTE = (413, 503)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer (and those every route can)."""
    return {
        s: {"model": ErrorBody, "description": _STATUS_NAMES[s]} for s in sorted({*statuses, *_ANY_ROUTE})
    }


_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def field_loc(name: str) -> Loc:
    """A service's field name as a location: `items[0].purpose` is ["items", 0, "purpose"]."""
    if name in ("", "-"):
        return []
    return [int(index) if index else part for part, index in _PART.findall(name)]


def input_error(exc: InputError, where: str) -> ApiError:
    """A service's InputError as an API error: 404 for an unknown contact, 410 for an erased address,
    409 for a clash, else 422."""
    loc: Loc = [where, *field_loc(exc.field)]
    if isinstance(exc, ErasedAddress):  # it was there: gone for good, not merely unknown
        return ApiError.one(410, loc, exc.message, "gone")
    if isinstance(exc, UnknownContact | UnknownRequest):
        return ApiError.one(404, loc, exc.message, "not_found")
    if isinstance(exc, AlreadyRegistered | RequestClosed):
        return ApiError.one(409, loc, exc.message, "conflict")
    return ApiError.one(422, loc, exc.message, "invalid")


def _validation(exc: RequestValidationError) -> ApiError:
    items = []
    for e in exc.errors():
        loc = [p if isinstance(p, int) else str(p) for p in e.get("loc", ())]
        items.append(ErrorItem(loc=loc, msg=str(e.get("msg", "invalid")), type=str(e.get("type", "invalid"))))
    return ApiError(422, items)


_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def _refuse_nul(request: Request) -> None:
    """Refuse text with NUL characters: PostgreSQL cannot store them, so they would fail late."""
    where = None
    if "\x00" in request.scope["path"]:
        where = "path"
    elif b"%00" in request.scope.get("query_string", b""):
        where = "query"
    elif request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()
        # The escape must be there for the pattern to match; the plain test is far cheaper
        # than running the pattern over a large batch body.
        if b"\\u0000" in body and _NUL_ESCAPE.search(body):
            where = "body"
    if where is not None:
        raise ApiError.one(422, [where], "text may not contain NUL characters (\\u0000)", "invalid")


class ApiRoute(APIRoute):
    """A route whose errors all take the API's error shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                await _refuse_nul(request)
                return await handler(request)
            except ApiError as exc:
                return exc.response()
            except RequestValidationError as exc:
                return _validation(exc).response()
            except InputError as exc:
                where = "query" if request.method in ("GET", "DELETE") else "body"
                return input_error(exc, where).response()
            except (LedgerDamaged, SchemaMissing) as exc:  # no answer from a wiped or cut-short ledger
                return ApiError.one(503, [], str(exc), "ledger_damaged").response()
            except HTTPException as exc:
                if exc.status_code == 400:  # a body FastAPI could not read: bad input like any other
                    return ApiError.one(
                        422, ["body"], "the body is not valid JSON", "json_invalid"
                    ).response()
                headers = dict(exc.headers) if exc.headers else None
                return ApiError.one(exc.status_code, [], str(exc.detail), "http", headers).response()
            except Exception as exc:
                if not is_busy(exc):
                    raise
                return busy().response()

        return handle


def busy() -> ApiError:
    """The answer while another connection holds the database's lock: 503, try again shortly."""
    return ApiError.one(
        503,
        [],
        "the database is busy; nothing was changed, try again shortly",
        "busy",
        {"Retry-After": str(RETRY_AFTER_S)},
    )
