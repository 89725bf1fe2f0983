"""Erasing a contact point or a whole contact (GDPR Art. 17), keeping its suppression record."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from consentry.domain import limits
from consentry.domain.erasure import REASON_CHARS
from consentry.entrypoints.api.deps import AdminKey, AppDep
from consentry.entrypoints.api.errors import ApiRoute, responses
from consentry.entrypoints.api.schemas import TEXT, Lang
from consentry.services import erasure

router = APIRouter(route_class=ApiRoute, tags=["ledger"])


class ErasureIn(BaseModel):
    """What to erase, and why."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"contact": "jan@example.nl", "reason": "request"}]}
    )

    contact: str = Field(
        max_length=limits.CONTACT,
        pattern=TEXT,
        description="Contact point id (`cp_...`), e-mail address, phone number, `postal:street; town`, "
        "or `contact:<contact id>` for every point of a contact.",
    )
    reason: str = Field(
        default="request",
        max_length=REASON_CHARS,
        description="A code, never free text: `request` (the person asked) or `retention:<policy>`.",
    )
    whole_contact: StrictBool = Field(
        default=False, description="Erase every contact point of the named point's contact."
    )
    lang: Lang = Field(default="nl", description="Language of `messages`.")


class ErasedPointOut(BaseModel):
    """One contact point the erasure concerned."""

    id: str
    kind: str
    suppressed_for: str = Field(
        description="`unsubscribed`, `objection`, `complaint`, `hard_bounce`, `erased`."
    )
    at: str


class ErasureOut(BaseModel):
    """What the erasure did."""

    changed: bool = Field(description="False when everything named was erased already: nothing changed.")
    reason: str
    erased: list[ErasedPointOut]
    already_erased: list[ErasedPointOut]
    suppressed_since: str | None = Field(
        description="For an address only a suppression record is left of: since when."
    )
    keys_destroyed: int
    keys_kept_for: list[str] = Field(description="Contacts whose data key stays: points of theirs remain.")
    scrubbed: bool
    messages: list[str]


def _point(p: erasure.ErasedPoint) -> ErasedPointOut:
    return ErasedPointOut(id=p.id, kind=p.kind.value, suppressed_for=p.what, at=p.at.isoformat())


@router.post("/erasures", responses=responses(401, 403, 404, 422))
def erase(app: AppDep, _key: AdminKey, body: ErasureIn) -> ErasureOut:
    """Erase a contact point, or a whole contact, in one transaction (GDPR Art. 17).

    Appends `contact_point.erased`, keeps one suppression record per address (its blind
    index, what, since, why), removes the points' lookups and projection rows and destroys
    their data key: the address, name, attributes and IP can no longer be read, and
    re-registering the address leaves it suppressed until the person confirms a fresh
    opt-in. Repeating it changes nothing and says so (`changed` false). 404 when no such
    point is registered. Needs the `admin` scope.
    """
    report = erasure.erase(app, body.contact, reason=body.reason, whole_contact=body.whole_contact)
    return ErasureOut(
        changed=report.changed,
        reason=report.reason,
        erased=[_point(p) for p in report.erased],
        already_erased=[_point(p) for p in report.already],
        suppressed_since=report.suppressed_since.isoformat() if report.suppressed_since else None,
        keys_destroyed=report.keys_destroyed,
        keys_kept_for=list(report.keys_kept_for),
        scrubbed=report.scrubbed,
        messages=report.lines(body.lang),
    )
