"""Documents of purposes, forms, personal links, API keys and health."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from consentry.domain import limits
from consentry.domain.vocabulary import (
    Channel,
    PurposeKind,
)
from consentry.entrypoints.api.schemas import (
    CONTACT_HELP,
    PURPOSE_KEY,
    TEXT,
)

# -- purposes, forms, links, keys --------------------------------------------------------------


class PurposeIn(BaseModel):
    """A purpose to define."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "nieuwsbrief",
                    "name_nl": "Nieuwsbrief",
                    "name_en": "Newsletter",
                    "categories": ["koffiebonen"],
                }
            ]
        },
    )

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$", description="Lower-case letters, digits, `_-.`.")
    name_nl: str = Field(min_length=1, max_length=limits.NAME, pattern=TEXT)
    name_en: str = Field(min_length=1, max_length=limits.NAME, pattern=TEXT)
    kind: PurposeKind = PurposeKind.COMMERCIAL
    categories: list[Annotated[str, Field(min_length=1, max_length=limits.LABEL, pattern=TEXT)]] = Field(
        default_factory=list,
        max_length=limits.ITEMS,
        description="Product categories it promotes (for the customer exception).",
    )
    # Strict: a JSON true or false, as the schema says (not 0, 1 or "yes").
    third_party: StrictBool = Field(default=False, description="It promotes other organisations' products.")
    replace: StrictBool = Field(default=False, description="Redefine an existing purpose.")


class PurposeOut(BaseModel):
    """A defined purpose."""

    key: str
    name_nl: str
    name_en: str
    kind: PurposeKind
    categories: list[str]
    third_party: bool


class FormItemIn(BaseModel):
    """One checkbox of a form: a purpose and its consent text."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(min_length=1, max_length=64, pattern=PURPOSE_KEY)
    text_nl: str = Field(min_length=1, max_length=limits.TEXT, pattern=TEXT)
    text_en: str = Field(min_length=1, max_length=limits.TEXT, pattern=TEXT)
    channels: list[Literal[Channel.EMAIL]] = Field(
        default=[Channel.EMAIL],
        min_length=1,
        max_length=1,
        description='A web form collects e-mail: `["email"]`.',
    )


class FormIn(BaseModel):
    """A sign-up form definition; saved as its next version."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "key": "nieuwsbrief-footer",
                    "title_nl": "Blijf op de hoogte",
                    "title_en": "Stay informed",
                    "items": [
                        {
                            "purpose": "nieuwsbrief",
                            "text_nl": "Ja, stuur mij de nieuwsbrief.",
                            "text_en": "Yes, send me the newsletter.",
                        }
                    ],
                }
            ]
        },
    )

    key: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Lower-case letters, digits, `_` or `-`."
    )
    title_nl: str = Field(min_length=1, max_length=limits.NAME, pattern=TEXT)
    title_en: str = Field(min_length=1, max_length=limits.NAME, pattern=TEXT)
    intro_nl: str = Field(default="", max_length=limits.TEXT)
    intro_en: str = Field(default="", max_length=limits.TEXT)
    lead_magnet_url: str | None = Field(
        default=None,
        max_length=limits.URL,
        pattern=r"^(https?://|/)[^\x00]*$",
        description="What a sign-up gets (http(s) URL or path).",
    )
    lead_magnet_title_nl: str | None = Field(default=None, max_length=limits.NAME)
    lead_magnet_title_en: str | None = Field(default=None, max_length=limits.NAME)
    items: list[FormItemIn] = Field(min_length=1, max_length=50)


class FormItemOut(BaseModel):
    """One checkbox of a saved form."""

    purpose: str
    text_nl: str
    text_en: str
    channels: list[Channel]


class FormOut(BaseModel):
    """One saved, immutable version of a form."""

    key: str
    version: int
    title_nl: str
    title_en: str
    intro_nl: str
    intro_en: str
    lead_magnet_url: str | None
    lead_magnet_title_nl: str | None
    lead_magnet_title_en: str | None
    items: list[FormItemOut]


class EmbedOut(BaseModel):
    """The HTML to paste into a website."""

    key: str
    version: int
    html: str


class LinksIn(BaseModel):
    """Whose personal links, for which purpose and campaign."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"contact": "jan@example.nl", "purpose": "nieuwsbrief"}]},
    )

    contact: str = Field(min_length=1, max_length=limits.CONTACT, description=CONTACT_HELP)
    purpose: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=PURPOSE_KEY,
        description="Unsubscribe from this purpose; omitted: from all.",
    )
    campaign: str | None = Field(default=None, max_length=100, description="Recorded with an unsubscribe.")


class LinksOut(BaseModel):
    """The personal links a message carries (RFC 8058 one-click unsubscribe, preference centre)."""

    unsubscribe: str = Field(
        description="For the List-Unsubscribe header and the visible link; "
        "a POST with `List-Unsubscribe=One-Click` unsubscribes at once."
    )
    preferences: str = Field(description="The person's preference centre.")


class KeyIn(BaseModel):
    """An API key to create."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=limits.NAME, pattern=TEXT, description="Who or what uses it.")
    scopes: list[Literal["read", "write", "admin"]] = Field(min_length=1)


class KeyOut(BaseModel):
    """An API key as listed (never with its secret)."""

    id: str
    name: str
    scopes: list[str]
    created_at: str
    revoked_at: str | None


class KeyCreated(KeyOut):
    """A new key, with its token: shown once, never stored."""

    token: str


class Health(BaseModel):
    """The service is up."""

    status: Literal["ok"] = "ok"
