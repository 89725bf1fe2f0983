"""Personal links for messages the shop sends itself."""

from __future__ import annotations

from fastapi import APIRouter

from consentry.entrypoints.api.deps import AppDep, WriteKey
from consentry.entrypoints.api.errors import ApiRoute, responses
from consentry.entrypoints.api.schemas.catalog import LinksIn, LinksOut
from consentry.services import public

router = APIRouter(route_class=ApiRoute, tags=["links"])


@router.post("/links", responses=responses(401, 403, 404, 422))
def personal_links(app: AppDep, _key: WriteKey, body: LinksIn) -> LinksOut:
    """The personal unsubscribe and preference-centre links for one message to one contact point.

    Put `unsubscribe` in the `List-Unsubscribe` header (with `List-Unsubscribe-Post:
    List-Unsubscribe=One-Click`, RFC 8058) and as a visible link; with a `purpose` it
    unsubscribes from that purpose, without one from everything. The links are signed and
    carry no address. 404 when the contact point is unknown. Needs the `write` scope.
    """
    found = public.links_for(app, body.contact, body.purpose, body.campaign)
    return LinksOut(unsubscribe=found["unsubscribe"], preferences=found["preferences"])
