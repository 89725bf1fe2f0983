"""Audiences: who a campaign (or a question) may reach, why the rest may not, and each contact point.

The report counts every considered contact point by the rule that decided it,
judged set-wise in the database. The members pages and the CSV drill down to the
contact points themselves, optionally those of one rule or one verdict.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from consentry.adapters import spreadsheet
from consentry.domain.campaigns import Selection
from consentry.entrypoints.api.deps import AppDep, ReadKey
from consentry.entrypoints.api.errors import ApiError, ApiRoute, input_error, responses
from consentry.policy.nl import PACK
from consentry.services import audience
from consentry.services.campaigns import UnknownCampaign
from consentry.services.errors import InputError

router = APIRouter(route_class=ApiRoute, tags=["audiences"])

Key = Annotated[str, Path(description="The campaign's key.", examples=["najaar-2026"])]
Lang = Annotated[Literal["nl", "en"], Query(description="Language of the explanations.")]
#: Every rule of the pack; a rule that cannot decide the campaign's question is still refused (422).
_RULES = [r.id for r in (*PACK.rules, PACK.fallback)]
RuleQ = Annotated[
    str | None,
    Query(
        max_length=64,
        description="Only the contact points this rule decided.",
        json_schema_extra={"enum": _RULES},
    ),
]
VerdictQ = Annotated[Literal["allow", "deny", "review"] | None, Query(description="Only this verdict.")]


class RuleCountOut(BaseModel):
    """How many contact points one rule decided, and what the rule says."""

    rule: str
    count: int
    citation: str
    explanation: str
    authority: str


class AudienceOut(BaseModel):
    """An audience: how many are considered, included, excluded and held for review, by rule."""

    channel: str
    purpose: str
    kind: str
    at: str
    selection: str
    considered: int
    included: int
    excluded: int
    review: int
    included_by_rule: list[RuleCountOut]
    excluded_by_rule: list[RuleCountOut]
    review_by_rule: list[RuleCountOut]
    seconds: float = Field(description="How long judging took.")


class MemberOut(BaseModel):
    """One judged contact point."""

    contact_point: str
    address: str
    name: str | None
    party: str
    verdict: str
    rule: str
    obligations: list[str]


class MembersOut(BaseModel):
    """A page of judged contact points, in id order."""

    items: list[MemberOut]
    next_after: str | None = Field(description="Pass as `after` for the next page; null on the last.")


def _campaign(app: Any, key: str) -> tuple[audience.Target, Selection]:
    try:
        return audience.of_campaign(app, key)
    except UnknownCampaign as exc:
        raise ApiError.one(404, ["path", "key"], exc.message, "not_found") from None


@router.get("/campaigns/{key}/audience", responses=responses(401, 403, 404, 422))
def campaign_audience(app: AppDep, _key: ReadKey, key: Key, lang: Lang = "nl") -> AudienceOut:
    """Count the campaign's audience by deciding rule: included, excluded (and why), review."""
    target, selection = _campaign(app, key)
    try:
        rep = audience.report(app, target, selection)
    except InputError as exc:
        raise input_error(exc, "query") from None
    return AudienceOut.model_validate(audience.report_json(rep, lang))


@router.get("/campaigns/{key}/audience/members", responses=responses(401, 403, 404, 422))
def campaign_audience_members(
    app: AppDep,
    _key: ReadKey,
    key: Key,
    rule: RuleQ = None,
    verdict: VerdictQ = None,
    after: Annotated[
        str | None, Query(max_length=40, description="Start after this contact point id.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> MembersOut:
    """A page of the campaign's judged contact points: the drill-down behind each count."""
    target, selection = _campaign(app, key)
    try:
        found = list(
            audience.members(app, target, selection, rule=rule, verdict=verdict, after=after, limit=limit + 1)
        )
    except InputError as exc:
        raise input_error(exc, "query") from None
    page = found[:limit]
    items = [
        MemberOut(
            contact_point=m.contact_point_id,
            address=m.value,
            name=m.name,
            party=m.party,
            verdict=m.verdict.value,
            rule=m.rule.id,
            obligations=[o.id for o in m.obligations],
        )
        for m in page
    ]
    return MembersOut(items=items, next_after=page[-1].contact_point_id if len(found) > limit else None)


@router.get(
    "/campaigns/{key}/audience.csv",
    response_class=StreamingResponse,
    responses={**responses(401, 403, 404, 422), 200: {"content": {"text/csv": {}}}},
)
def campaign_audience_csv(
    app: AppDep, _key: ReadKey, key: Key, rule: RuleQ = None, verdict: VerdictQ = None, lang: Lang = "nl"
) -> StreamingResponse:
    """The campaign's judged contact points as CSV, with the deciding rule and the obligations."""
    target, selection = _campaign(app, key)
    try:
        rows = audience.members(app, target, selection, rule=rule, verdict=verdict)
        first = next(rows, None)  # judge now, so a bad rule is a 422 and not a broken download
    except InputError as exc:
        raise input_error(exc, "query") from None

    def chunks() -> Iterator[str]:
        buffer = io.StringIO()
        out = spreadsheet.writer(buffer, audience.CSV_COLUMNS)
        for m in itertools.chain([first] if first is not None else [], rows):
            out.writerow(audience.csv_row(m, lang))
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    filename = f"{key}-audience{'-' + rule if rule else ''}.csv"
    return StreamingResponse(
        chunks(),
        media_type=spreadsheet.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
