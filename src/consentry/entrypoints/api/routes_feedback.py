"""Feeding back delivery results: bounces and spam complaints, in batches."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter

from consentry.bootstrap import App
from consentry.entrypoints.api.deps import AppDep, WriteKey
from consentry.entrypoints.api.errors import ApiError, ApiRoute, ErrorItem, field_loc, responses
from consentry.entrypoints.api.schemas.feedback import BouncesIn, ComplaintsIn, FeedbackItemOut, FeedbackOut
from consentry.services import feedback
from consentry.services.errors import FileRejected, InputError

router = APIRouter(route_class=ApiRoute, tags=["feedback"])


def _record(app: App, items: Sequence[tuple[int, feedback.Feedback | InputError]], where: str) -> FeedbackOut:
    try:
        report = feedback.record(app, items)
    except FileRejected as exc:
        problems = [
            ErrorItem(loc=["body", where, p.line, *field_loc(p.field)], msg=p.message, type="invalid")
            for p in exc.problems
        ]
        if exc.truncated:
            problems.append(ErrorItem(loc=["body", where], msg="more problems not shown", type="truncated"))
        raise ApiError(422, problems) from None
    return FeedbackOut(
        recorded=report.recorded,
        duplicates=report.duplicates,
        suppressed=report.suppressed,
        items=[
            FeedbackItemOut(event_id=o.event_id, contact_point=o.contact_point, duplicate=o.duplicate)
            for o in report.outcomes
        ],
    )


@router.post("/bounces", status_code=201, responses=responses(401, 403, 422))
def record_bounces(app: AppDep, _key: WriteKey, body: BouncesIn) -> FeedbackOut:
    """Record bounces, all or nothing.

    A hard bounce suppresses the contact point: every later electronic message to it is
    denied (rule OPS-SUPP-01). Soft bounces are counted; enough of them within the configured
    period suppress too. An item sent again (same `id`, or same `message_id` and kind) is
    recorded once and reported as a duplicate. If any item is wrong, nothing is written and
    the answer is 422 located as `["body", "bounces", <index>, <field>]`. Needs `write`.
    """
    items = [(n, feedback.Bounce(**b.model_dump())) for n, b in enumerate(body.bounces)]
    return _record(app, items, "bounces")


@router.post("/complaints", status_code=201, responses=responses(401, 403, 422))
def record_complaints(app: AppDep, _key: WriteKey, body: ComplaintsIn) -> FeedbackOut:
    """Record spam complaints (feedback loops, ARF reports), all or nothing.

    A complaint suppresses the contact point (rule OPS-SUPP-01). An item sent again (same
    `id`, or same `message_id`) is recorded once. If any item is wrong, nothing is written
    and the answer is 422 located as `["body", "complaints", <index>, <field>]`. Needs `write`.
    """
    items = [(n, feedback.Complaint(**c.model_dump())) for n, c in enumerate(body.complaints)]
    return _record(app, items, "complaints")
