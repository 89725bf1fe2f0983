"""Campaigns: defined as drafts, listed, and shown with how far sending has come.

Sending itself is a long-running worker (`consentry campaign send`), not a request.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from consentry.domain import limits
from consentry.domain.campaigns import SUBJECT
from consentry.domain.vocabulary import MessageKind
from consentry.entrypoints.api.deps import AdminKey, AppDep, ReadKey
from consentry.entrypoints.api.errors import ApiError, ApiRoute, field_loc, responses
from consentry.services import campaigns
from consentry.services.campaigns import CampaignExists, UnknownCampaign

router = APIRouter(route_class=ApiRoute, tags=["campaigns"])

#: One line of text with something on it, and no NUL (the API refuses NUL anywhere).
_LINE = r"^[^\r\n\x00]*[^\s\x00][^\r\n\x00]*$"


class SenderIn(BaseModel):
    """Who sends: shown in From, and the identity every message carries (Tw 11.7)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=limits.LABEL, pattern=_LINE, description="Name in the From header."
    )
    legal_name: str = Field(min_length=1, max_length=limits.LABEL, pattern=_LINE)
    address: str = Field(min_length=1, max_length=limits.NAME, pattern=_LINE, description="Postal address.")
    kvk: str = Field(pattern=r"^\d{8}$", description="KvK (Dutch trade register) number, 8 digits.")
    email: str | None = Field(
        default=None, max_length=limits.EMAIL, description="From address; required for e-mail."
    )
    reply_to: str | None = Field(default=None, max_length=limits.EMAIL)


class ContentIn(BaseModel):
    """The words in one language: Jinja2 templates using `name`, `address` and `attributes.NAME`."""

    model_config = ConfigDict(extra="forbid")

    subject: str = Field(default="", max_length=SUBJECT, description="E-mail only.")
    body: str = Field(min_length=1, max_length=limits.BODY)


class AttributeIn(BaseModel):
    """An attribute and the value it must have."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=limits.ATTRIBUTE_NAME)
    value: str = Field(min_length=1, max_length=limits.ATTRIBUTE_VALUE)


class SelectionIn(BaseModel):
    """Who is considered before the rules judge them; every criterion given must hold."""

    model_config = ConfigDict(extra="forbid")

    tag: str | None = Field(default=None, min_length=1, max_length=limits.LABEL)
    attribute: AttributeIn | None = None
    subscribers_of: str | None = Field(default=None, min_length=1, max_length=limits.KEY)
    source_detail: str | None = Field(default=None, min_length=1, max_length=limits.LABEL)


class CampaignIn(BaseModel):
    """A campaign definition; stored as a draft."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "najaar-2026",
                    "name": "Najaarsactie",
                    "purpose": "nieuwsbrief",
                    "channel": "email",
                    "sender": {
                        "name": "Koffiebranderij De Boon",
                        "email": "nieuws@deboon.nl",
                        "legal_name": "De Boon B.V.",
                        "address": "Markt 1, 3511 AA Utrecht",
                        "kvk": "12345678",
                    },
                    "content": {
                        "nl": {"subject": "Nieuwe koffie, {{ name }}", "body": "Hallo {{ name }}, ..."}
                    },
                }
            ]
        },
    )

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$", description="Lower-case letters, digits, `_.-`.")
    name: str = Field(min_length=1, max_length=limits.LABEL, pattern=_LINE)
    purpose: str = Field(min_length=1, max_length=limits.KEY, description="Key of a defined purpose.")
    channel: Literal["email", "sms", "messaging_app"] = "email"
    kind: MessageKind = MessageKind.MARKETING
    sender: SenderIn
    content: dict[Literal["nl", "en"], ContentIn] = Field(description="`nl` is required; `en` is optional.")
    selection: SelectionIn | None = None
    replace: StrictBool = Field(default=False, description="Redefine a draft with this key.")


class CampaignOut(BaseModel):
    """A campaign, where it stands, and its messages counted by status and exclusions by rule."""

    key: str
    name: str
    purpose: str
    channel: str
    kind: str
    status: Literal["draft", "sending", "paused", "done"]
    errors: int
    note: str | None
    counts: dict[str, int] = Field(description="Messages by status: queued, claimed, sent, skipped, failed.")
    skipped_by_rule: dict[str, int] = Field(description="Messages not sent, by the rule that stopped them.")
    total: int
    created_at: str
    updated_at: str
    definition: dict[str, Any]


def _out(p: campaigns.Progress) -> CampaignOut:
    c = p.campaign
    return CampaignOut(
        key=c.key,
        name=c.name,
        purpose=c.purpose,
        channel=c.channel.value,
        kind=c.kind.value,
        status=p.status.value,
        errors=p.errors,
        note=p.note,
        counts=p.counts,
        skipped_by_rule=p.skipped_by_rule,
        total=p.total,
        created_at=p.created_at.isoformat(),
        updated_at=p.updated_at.isoformat(),
        definition=c.to_json(),
    )


Key = Annotated[str, Path(description="The campaign's key.", examples=["najaar-2026"])]


@router.post("/campaigns", status_code=201, responses=responses(401, 403, 409, 422))
def define_campaign(app: AppDep, _key: AdminKey, body: CampaignIn) -> CampaignOut:
    """Define a campaign as a draft (templates are checked now); `replace` redefines a draft.

    409 when the key exists (and `replace` is not set, or it is no longer a draft).
    Needs the `admin` scope.
    """
    doc = body.model_dump(mode="json", exclude_none=True, exclude={"replace"})
    try:
        c = campaigns.define(app, doc, replace=body.replace)
    except CampaignExists as exc:
        raise ApiError.one(409, ["body", *field_loc(exc.field)], exc.message, "conflict") from None
    return _out(campaigns.progress(app, c.key))


@router.get("/campaigns", responses=responses(401, 403))
def list_campaigns(app: AppDep, _key: ReadKey) -> list[CampaignOut]:
    """Every campaign, newest first, with its counts. Needs the `read` scope."""
    return [_out(p) for p in campaigns.list_all(app)]


@router.get("/campaigns/{key}", responses=responses(401, 403, 404))
def get_campaign(app: AppDep, _key: ReadKey, key: Key) -> CampaignOut:
    """One campaign with its messages counted by status and its exclusions by rule. Needs `read`."""
    try:
        return _out(campaigns.progress(app, key))
    except UnknownCampaign as exc:
        raise ApiError.one(404, ["path", "key"], exc.message, "not_found") from None
