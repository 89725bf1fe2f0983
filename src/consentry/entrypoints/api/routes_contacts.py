"""Reading a contact point: its state and its ledger timeline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.convertors import PathConvertor, register_url_convertor

from consentry.entrypoints.api.deps import AppDep, ReadKey
from consentry.entrypoints.api.errors import ApiRoute, responses
from consentry.entrypoints.api.schemas.events import ContactPointOut, LedgerEvent
from consentry.services import contacts

router = APIRouter(route_class=ApiRoute, tags=["ledger"])


class _AnyText(PathConvertor):
    """Like `path`, across line breaks too: any reference reaches the route, which judges it."""

    regex = r"[\s\S]+"


register_url_convertor("anytext", _AnyText())

Ref = Annotated[
    str,
    Path(
        description="Contact point id (`cp_...`), e-mail address, phone number or `postal:street; town`.",
        examples=["jan@example.nl"],
    ),
]


@router.get("/contact-points/{ref:anytext}", responses=responses(401, 403, 404, 422))
def contact_point(app: AppDep, _key: ReadKey, ref: Ref) -> ContactPointOut:
    """A contact point's current state, folded from the ledger, and every event in its timeline.

    404 when no such contact point is registered. Needs the `read` scope.
    """
    found = contacts.view(app, ref)
    return ContactPointOut(
        id=found.id,
        kind=found.kind,
        state=found.state,
        events=[
            LedgerEvent(
                seq=e.seq,
                id=e.id,
                type=e.type,
                occurred_at=e.occurred_at.isoformat(),
                recorded_at=e.recorded_at.isoformat(),
                payload=dict(e.payload),
            )
            for e in found.events
        ],
    )
