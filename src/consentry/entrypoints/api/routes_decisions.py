"""Decisions: may we contact this person, over this channel, for this purpose, now?"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Response

from consentry.domain import limits
from consentry.domain.clock import MomentError, parse_moment
from consentry.domain.vocabulary import Activity, Channel, MessageKind
from consentry.entrypoints.api.deps import AppDep, ReadKey
from consentry.entrypoints.api.errors import ApiError, ApiRoute, input_error, responses
from consentry.entrypoints.api.schemas import PURPOSE_KEY, Lang
from consentry.entrypoints.api.schemas.decisions import DecisionOut, DecisionsIn, DecisionsOut
from consentry.entrypoints.render import decision_json, decisions_json
from consentry.services.decide import decide, decide_many
from consentry.services.errors import InputError

router = APIRouter(route_class=ApiRoute, tags=["decisions"])


def _moment(raw: str | None, where: str) -> Any:
    if raw is None:
        return None
    try:
        return parse_moment(raw)
    except MomentError as exc:
        raise ApiError.one(422, [where, "at"], str(exc), "invalid") from None


def _json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


@router.get("/decision", response_model=DecisionOut, responses=responses(401, 403, 404, 422, 503))
async def decision(
    app: AppDep,
    _key: ReadKey,
    contact: Annotated[
        str,
        Query(
            min_length=1,
            max_length=limits.CONTACT,
            description="Contact point id, e-mail address, phone number or `postal:street; town`.",
            examples=["jan@example.nl"],
        ),
    ],
    channel: Annotated[Channel, Query(description="How the message would reach the person.")],
    purpose: Annotated[
        str,
        Query(
            min_length=1,
            max_length=64,
            pattern=PURPOSE_KEY,
            description="Key of a defined purpose.",
            examples=["nieuwsbrief"],
        ),
    ],
    kind: Annotated[MessageKind, Query(description="What the message is for.")] = MessageKind.MARKETING,
    activity: Annotated[Activity, Query(description="Contacting, or profiling.")] = Activity.CONTACT,
    at: Annotated[
        str | None,
        Query(
            max_length=64,
            description="The moment to judge: ISO 8601 (Amsterdam time without a zone); default now.",
        ),
    ] = None,
    lang: Annotated[Lang, Query(description="Language of `explanation`.")] = "nl",
) -> Response:
    """May we contact this person, over this channel, for this purpose, at this moment?

    The answer is a `verdict` (`allow`, `deny` or `review`; `review` needs a person and is
    never an allow), the legal `basis`, the `reasons` (rule, citation, explanation) and the
    `obligations` the message must meet. The ledger is judged as it stood at `at`, with the
    rules in force then. 404 when the contact point is not registered; 422 for an unknown
    purpose, a channel the contact point cannot carry, or an unreadable moment. Needs the
    `read` scope.
    """
    moment = _moment(at, "query")
    # Run here, not in the thread pool: one decision is a hundred-odd microseconds of work,
    # less than handing it to a thread and back costs when workers compete for the GIL. The
    # service's one decision (`decide`): its basis in one statement outside a transaction, the
    # state from the cache when current (a batch's `decide_many` reads in a transaction).
    try:
        found = decide(app, contact, channel, purpose, kind, activity, at=moment)
    except InputError as exc:
        raise input_error(exc, "query") from None
    return _json(decision_json(found, lang))


@router.post("/decisions", response_model=DecisionsOut, responses=responses(401, 403, 422, 503))
def decisions(app: AppDep, _key: ReadKey, body: DecisionsIn) -> Response:
    """Many questions at once, all judged at one moment; the answers come in the same order.

    A question that cannot be answered (unknown contact point or purpose, a channel the
    point cannot carry, an unknown kind) gets `{"error": {"field", "message"}}` in its
    place; the others are answered all the same. With `"detail": "compact"` each decision
    leaves out its reasons' texts. Up to 10,000 questions. Needs the `read` scope.
    """
    moment = _moment(body.at, "body")
    found = decide_many(app, body.questions, moment)
    items = [
        {"error": {"field": d.field, "message": d.message}} if isinstance(d, InputError) else d for d in found
    ]
    content = decisions_json(items, body.lang, compact=body.detail == "compact")
    return Response(content, media_type="application/json")
