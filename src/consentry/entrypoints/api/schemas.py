"""The API's request and response documents (pydantic models; never tables or domain objects)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from consentry.domain import limits
from consentry.domain.events import EVENT_TYPES
from consentry.domain.vocabulary import (
    Activity,
    Basis,
    Channel,
    MessageKind,
    PartyKind,
    PointKind,
    PurposeKind,
    Source,
    Verdict,
)
from consentry.entrypoints.api.event_schema import event_record_schema, registration_schema

Lang = Literal["nl", "en"]
#: Text with a character that is not white space, and no NUL anywhere (the API refuses NUL:
#: PostgreSQL cannot store it). `openapi.py` gives every other text field the NUL-free pattern.
TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"
#: A purpose key (as `consentry.domain.purposes` defines them).
PURPOSE_KEY = r"^[a-z0-9][a-z0-9_.-]{0,62}$"

_EVENT_TYPE_LIST = ", ".join(f"`{name}`" for name in EVENT_TYPES)
_CONTACT = "Contact point id (`cp_...`), e-mail address, phone number or `postal:street; town`."
_MOMENT = (
    "ISO 8601; without a zone it is Amsterdam time; a bare date is noon that day (Amsterdam). Default: now."
)


def _values(enum: Any) -> str:
    return ", ".join(f"`{m.value}`" for m in enum)


# -- events ------------------------------------------------------------------------------------


_EVENT_EXAMPLE = {
    "type": "consent.given",
    "contact": "jan@example.nl",
    "purpose": "nieuwsbrief",
    "channels": ["email"],
    "method": "double_opt_in",
    "text_version": "v3",
    "occurred_at": "2025-03-01T10:00:00+01:00",
}


def _event_record_schema(schema: dict[str, Any]) -> None:
    event_record_schema(schema)
    schema["examples"] = [_EVENT_EXAMPLE]


class EventRecord(BaseModel):
    """One ledger event: the envelope plus the fields of its type (see docs/events.md)."""

    # The fields of each type are checked by the service (`validate_payload`); the schema
    # lists them for each type (`event_schema`), so it says what the service accepts.
    model_config = ConfigDict(extra="allow", json_schema_extra=_event_record_schema)

    type: str = Field(min_length=1, max_length=64, description=f"The event type: one of {_EVENT_TYPE_LIST}.")
    contact: str | None = Field(
        default=None,
        max_length=limits.CONTACT,
        description="The contact point: its id (`cp_...`), e-mail address, phone number or "
        "`postal:street; town`. Not given for `contact_point.registered`, which creates one.",
    )
    occurred_at: str | None = Field(
        default=None, max_length=64, description=f"When it happened: {_MOMENT} Not in the future."
    )
    id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.:-]{1,40}$",
        description="Your own event id (1-40 of `A-Za-z0-9_.:-`); must be new.",
    )


class EventsIn(BaseModel):
    """Events to append, all or nothing."""

    model_config = ConfigDict(extra="forbid")

    events: list[EventRecord] = Field(min_length=1, max_length=10_000)


class AppendOut(BaseModel):
    """What an append wrote."""

    appended: int = Field(examples=[2])
    registered: int = Field(description="How many contact points were registered.", examples=[1])
    first_seq: int | None = Field(description="Ledger sequence number of the first event written.")
    last_seq: int | None = Field(description="Ledger sequence number of the last event written.")


# -- contact points ----------------------------------------------------------------------------


def _registration_schema(schema: dict[str, Any]) -> None:
    registration_schema(schema)
    schema["examples"] = [
        {
            "kind": "email",
            "value": "jan@example.nl",
            "source": "web_form",
            "party": "consumer",
            "display_name": "Jan de Vries",
        }
    ]


class ContactPointIn(BaseModel):
    """A contact point to register, with where it came from.

    Any other field of `contact_point.registered` (docs/events.md) may be given too.
    """

    # The schema lists every field of `contact_point.registered` (`event_schema`).
    model_config = ConfigDict(extra="allow", json_schema_extra=_registration_schema)

    kind: PointKind
    value: str = Field(
        min_length=1,
        max_length=limits.CONTACT,
        description="The address or number; normalised on the way in.",
    )
    source: Source = Field(description="Provenance: how the sender obtained it.")
    source_detail: str | None = Field(
        default=None, max_length=limits.NAME, description="Free text: which fair, which list seller."
    )
    party: PartyKind | None = Field(default=None, description="Who is behind it; default `consumer`.")
    country: str | None = Field(
        default=None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 country of the party (`NL`)."
    )
    display_name: str | None = Field(default=None, max_length=limits.NAME)
    contact_id: str | None = Field(
        default=None, max_length=limits.LABEL, description="Groups the points of one person or organisation."
    )
    occurred_at: str | None = Field(
        default=None, min_length=1, max_length=64, description=f"When it was obtained: {_MOMENT}"
    )


class ContactPointCreated(BaseModel):
    """The registered contact point."""

    id: str = Field(examples=["cp_01a229b913497f24ceddf9deeed2a6c8"])


class LedgerEvent(BaseModel):
    """One stored ledger event."""

    seq: int | None
    id: str
    type: str
    occurred_at: str
    recorded_at: str
    payload: dict[str, Any]


class ContactPointOut(BaseModel):
    """A contact point: its current state (folded from the ledger) and its timeline."""

    id: str
    kind: PointKind
    state: dict[str, Any] = Field(description="The projection: consents, opt-outs, objections, purchases ...")
    events: list[LedgerEvent] = Field(description="Every event, in the order decisions fold them.")


# -- decisions ---------------------------------------------------------------------------------


class ReasonOut(BaseModel):
    """A rule that decided or added obligations, with its citation and explanation."""

    rule: str = Field(examples=["NL-EM-01"])
    citation: str = Field(examples=["Tw art. 11.7 lid 1"])
    explanation: str = Field(description="In the language asked for.")
    explanation_nl: str
    explanation_en: str
    authority: str = Field(description="`law`, or the guidance or self-regulation the rule rests on.")


class BasisReference(BaseModel):
    """Where the basis is written down."""

    law: str = Field(examples=["GDPR art. 6(1)(a)"])
    dpv: str = Field(description="The W3C Data Privacy Vocabulary term.")


class DecisionOut(BaseModel):
    """A verdict with its legal basis, the reasons and the obligations the message must meet.

    `review` means a person must judge; never treat it as `allow`.
    """

    verdict: Verdict
    basis: Basis
    basis_reference: BasisReference
    rule: str = Field(description="The id of the rule that decided.")
    reasons: list[ReasonOut]
    obligations: list[str] = Field(examples=[["opt_out_link", "sender_identity"]])
    at: str = Field(description="The moment judged (ISO 8601, UTC).")
    contact_point: str
    channel: str
    purpose: str
    pack: str = Field(description="The rule pack that decided.", examples=["nl"])


class CompactDecision(BaseModel):
    """A decision without its explanations (`"detail": "compact"`)."""

    verdict: Verdict
    basis: Basis
    rule: str
    obligations: list[str]
    contact_point: str


class QuestionIn(BaseModel):
    """May we contact this point, over this channel, for this purpose?"""

    model_config = ConfigDict(extra="forbid")

    contact: str = Field(min_length=1, max_length=limits.CONTACT, description=_CONTACT)
    # Any text is taken here: a question the service cannot answer (an unknown channel or
    # purpose) gets its error in its place in the answer, and the others their decisions.
    channel: str = Field(
        min_length=1, max_length=64, description=f"One of {_values(Channel)}.", examples=["email"]
    )
    purpose: str = Field(
        min_length=1, max_length=64, description="Key of a defined purpose.", examples=["nieuwsbrief"]
    )
    kind: str = Field(
        default=MessageKind.MARKETING.value, max_length=64, description=f"One of {_values(MessageKind)}."
    )
    activity: str = Field(
        default=Activity.CONTACT.value, max_length=64, description=f"One of {_values(Activity)}."
    )


class DecisionsIn(BaseModel):
    """Questions to answer at one moment, in order."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "at": "2026-03-01",
                    "lang": "en",
                    "questions": [
                        {"contact": "jan@example.nl", "channel": "email", "purpose": "nieuwsbrief"},
                        {"contact": "+31612345678", "channel": "phone", "purpose": "aanbiedingen"},
                    ],
                }
            ]
        },
    )

    at: str | None = Field(default=None, max_length=64, description=f"The moment to judge: {_MOMENT}")
    lang: Lang = Field(default="nl", description="Language of `explanation`.")
    detail: Literal["full", "compact"] = Field(
        default="full", description="`compact` leaves out the reasons' texts and citations."
    )
    questions: list[QuestionIn] = Field(min_length=1, max_length=10_000)


class QuestionError(BaseModel):
    """Why a question could not be answered."""

    field: str = Field(examples=["purpose"])
    message: str


class DecisionFailed(BaseModel):
    """In a batch, in place of a decision: the question's problem."""

    error: QuestionError


class DecisionsOut(BaseModel):
    """One entry per question, in order: a decision, or the question's error."""

    decisions: list[DecisionOut | CompactDecision | DecisionFailed]


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

    contact: str = Field(min_length=1, max_length=limits.CONTACT, description=_CONTACT)
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


# -- bounces and complaints --------------------------------------------------------------------

_FEEDBACK_ID = "Your own key for this item: sent again, it is recorded once."
_MESSAGE_ID = "Message-ID of the message it is about; with it, the same feedback twice is recorded once."


class BounceIn(BaseModel):
    """A message to a contact point bounced."""

    model_config = ConfigDict(extra="forbid")

    contact: str = Field(min_length=1, max_length=limits.CONTACT, description=_CONTACT)
    kind: Literal["hard", "soft"] | None = Field(
        default=None,
        description="`hard` (permanent; suppresses) or `soft`. Default from `code`: 5.x.x hard, 4.x.x soft.",
    )
    code: str | None = Field(
        default=None,
        max_length=16,
        description="SMTP status: enhanced (RFC 3463) or reply code.",
        examples=["5.1.1"],
    )
    reason: str | None = Field(default=None, max_length=2000, description="The server's diagnostic text.")
    campaign: str | None = Field(default=None, max_length=200, description="Campaign key of the message.")
    message_id: str | None = Field(default=None, max_length=998, description=_MESSAGE_ID)
    id: str | None = Field(default=None, max_length=200, description=_FEEDBACK_ID)
    occurred_at: str | None = Field(default=None, max_length=64, description=f"When it bounced: {_MOMENT}")


class BouncesIn(BaseModel):
    """Bounces to record, all or nothing."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "bounces": [
                        {
                            "contact": "jan@example.nl",
                            "code": "5.1.1",
                            "reason": "550 5.1.1 user unknown",
                            "campaign": "voorjaar-2026",
                            "message_id": "20260301.1234@mail.example.nl",
                        }
                    ]
                }
            ]
        },
    )

    bounces: list[BounceIn] = Field(min_length=1, max_length=1000)


class ComplaintIn(BaseModel):
    """The person reported a message as spam (a feedback loop, an ARF report)."""

    model_config = ConfigDict(extra="forbid")

    contact: str = Field(min_length=1, max_length=limits.CONTACT, description=_CONTACT)
    feedback_type: Literal["abuse", "fraud", "virus", "other"] = Field(
        default="abuse", description="ARF feedback type (RFC 5965)."
    )
    source: str | None = Field(
        default=None,
        max_length=200,
        description="Who reported it: the mailbox provider or its feedback loop.",
    )
    campaign: str | None = Field(default=None, max_length=200, description="Campaign key of the message.")
    message_id: str | None = Field(default=None, max_length=998, description=_MESSAGE_ID)
    id: str | None = Field(default=None, max_length=200, description=_FEEDBACK_ID)
    occurred_at: str | None = Field(
        default=None, max_length=64, description=f"When it was reported: {_MOMENT}"
    )


class ComplaintsIn(BaseModel):
    """Complaints to record, all or nothing."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"complaints": [{"contact": "jan@example.nl", "source": "feedback loop of a provider"}]}
            ]
        },
    )

    complaints: list[ComplaintIn] = Field(min_length=1, max_length=1000)


class FeedbackItemOut(BaseModel):
    """What became of one item, in the order sent."""

    event_id: str
    contact_point: str
    duplicate: bool = Field(description="It was recorded before; nothing new was written for it.")


class FeedbackOut(BaseModel):
    """What a request recorded."""

    recorded: int = Field(description="Events written, including hard bounces derived from soft ones.")
    duplicates: int
    suppressed: list[str] = Field(description="Contact points this request suppressed.")
    items: list[FeedbackItemOut]
