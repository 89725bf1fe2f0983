"""Documents of decisions: one question, a batch, and their answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from consentry.domain import limits
from consentry.domain.vocabulary import (
    Activity,
    Basis,
    Channel,
    MessageKind,
    Verdict,
)
from consentry.entrypoints.api.schemas import (
    CONTACT_HELP,
    MOMENT_HELP,
    Lang,
    enum_values,
)

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

    contact: str = Field(min_length=1, max_length=limits.CONTACT, description=CONTACT_HELP)
    # Any text is taken here: a question the service cannot answer (an unknown channel or
    # purpose) gets its error in its place in the answer, and the others their decisions.
    channel: str = Field(
        min_length=1, max_length=64, description=f"One of {enum_values(Channel)}.", examples=["email"]
    )
    purpose: str = Field(
        min_length=1, max_length=64, description="Key of a defined purpose.", examples=["nieuwsbrief"]
    )
    kind: str = Field(
        default=MessageKind.MARKETING.value, max_length=64, description=f"One of {enum_values(MessageKind)}."
    )
    activity: str = Field(
        default=Activity.CONTACT.value, max_length=64, description=f"One of {enum_values(Activity)}."
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

    at: str | None = Field(default=None, max_length=64, description=f"The moment to judge: {MOMENT_HELP}")
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
