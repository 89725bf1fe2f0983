"""Documents of bounces and complaints fed back from delivery."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from consentry.domain import limits
from consentry.entrypoints.api.schemas import (
    CONTACT_HELP,
    MOMENT_HELP,
)

# -- bounces and complaints --------------------------------------------------------------------

_FEEDBACK_ID = "Your own key for this item: sent again, it is recorded once."
_MESSAGE_ID = "Message-ID of the message it is about; with it, the same feedback twice is recorded once."


class BounceIn(BaseModel):
    """A message to a contact point bounced."""

    model_config = ConfigDict(extra="forbid")

    contact: str = Field(min_length=1, max_length=limits.CONTACT, description=CONTACT_HELP)
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
    occurred_at: str | None = Field(
        default=None, max_length=64, description=f"When it bounced: {MOMENT_HELP}"
    )


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

    contact: str = Field(min_length=1, max_length=limits.CONTACT, description=CONTACT_HELP)
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
        default=None, max_length=64, description=f"When it was reported: {MOMENT_HELP}"
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
