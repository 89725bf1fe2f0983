"""Data-subject requests (GDPR Art. 15-21): opened from a web shop or a CRM, listed by deadline.

Handling is the privacy officer's (`consentry dsr`, the admin pages), not an API client's.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from consentry.domain import limits
from consentry.domain.dsr import DsrRequest, IdentityMethod, IdentityStatus, RequestKind
from consentry.entrypoints.api.deps import AppDep, ReadKey, WriteKey
from consentry.entrypoints.api.errors import ApiRoute, responses
from consentry.entrypoints.api.schemas import CONTACT_HELP, TEXT, Lang
from consentry.services import dsr

router = APIRouter(route_class=ApiRoute, tags=["requests"])


class RequestIn(BaseModel):
    """A request a person made; it is due one month after `received_at` (Dutch calendar)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"contact": "jan@example.nl", "kind": "access"}]},
    )

    contact: str = Field(min_length=1, max_length=limits.CONTACT, description=CONTACT_HELP)
    kind: RequestKind
    via: Literal["api", "email", "letter", "phone", "in_person"] = Field(
        default="api", description="How it reached the sender."
    )
    note: str | None = Field(
        default=None, max_length=limits.TEXT, pattern=TEXT, description="The person's own words."
    )
    received_at: str | None = Field(
        default=None, max_length=64, description="ISO 8601; default now. Not in the future."
    )
    language: Lang | None = Field(default=None, description="The person's language; default theirs, else nl.")
    identity_verified_by: IdentityMethod | None = Field(
        default=None,
        description="The person's identity was already checked this way (e.g. `account_login`).",
    )
    already_overdue: StrictBool = Field(
        default=False, description="Record a request received so long ago that its month has passed."
    )


class RequestOut(BaseModel):
    """A request as tracked: ids, codes and moments (the texts are in the ledger events named)."""

    id: str
    contact_point_id: str
    contact_ref: str | None
    kind: str
    state: Literal["open", "in_progress", "done", "refused", "withdrawn"]
    received_at: str
    due_at: str = Field(description="The first moment after the month (exclusive).")
    due_day: str = Field(description="The last Dutch calendar day of the month to answer in.")
    extended_until: str | None
    extension_event: str | None
    extension_notified_at: str | None
    deadline_day: str = Field(description="The last day in force: the extended one once extended.")
    overdue: bool
    days_left: int
    identity: Literal["unverified", "verified", "failed"]
    identity_method: str | None
    identity_checked_at: str | None
    via: str
    language: str
    handler: str | None
    handled_at: str | None
    received_event: str
    outcome_event: str | None
    person_told_at: str | None


def _out(app: AppDep, q: DsrRequest) -> RequestOut:
    return RequestOut.model_validate(q.to_json(app.clock.now()))


@router.post("/requests", status_code=201, responses=responses(401, 403, 404, 422))
def open_request(app: AppDep, _key: WriteKey, body: RequestIn) -> RequestOut:
    """Record a data-subject request on a contact point; 404 when the contact is not registered.

    A `received_at` whose month has already passed is refused unless `already_overdue`.
    Needs the `write` scope.
    """
    identity = None
    if body.identity_verified_by is not None:
        identity = dsr.Identity(IdentityStatus.VERIFIED, body.identity_verified_by)
    q = dsr.open_request(
        app,
        body.contact,
        body.kind.value,
        via=body.via,
        note=body.note,
        language=body.language,
        received_at=body.received_at,
        already_overdue=body.already_overdue,
        identity=identity,
    )
    return _out(app, q)


@router.get("/requests", responses=responses(401, 403, 422))
def list_requests(
    app: AppDep,
    _key: ReadKey,
    overdue: Annotated[bool, Query(description="Only those past their deadline.")] = False,
    due_within: Annotated[
        int | None, Query(ge=0, le=3660, description="Only those due within this many days, or overdue.")
    ] = None,
    closed: Annotated[bool, Query(description="Closed requests too.")] = False,
) -> list[RequestOut]:
    """The open requests by deadline, earliest first. Needs the `read` scope."""
    found = dsr.list_requests(app, overdue=overdue, due_within=due_within, include_closed=closed)
    return [_out(app, q) for q in found]


@router.get("/requests/{request_id}", responses=responses(401, 403, 404))
def get_request(
    app: AppDep,
    _key: ReadKey,
    request_id: Annotated[str, Path(max_length=40, description="The request's id (`dsr_...`).")],
) -> RequestOut:
    """One request; 404 when there is none. Needs the `read` scope."""
    return _out(app, dsr.show(app, request_id).request)
