"""Documents of the ledger: events appended, contact points registered and read."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from consentry.domain import limits
from consentry.domain.vocabulary import (
    PartyKind,
    PointKind,
    Source,
)
from consentry.entrypoints.api.event_schema import event_record_schema, registration_schema
from consentry.entrypoints.api.schemas import (
    EVENT_TYPE_LIST,
    MOMENT_HELP,
)

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

    type: str = Field(min_length=1, max_length=64, description=f"The event type: one of {EVENT_TYPE_LIST}.")
    contact: str | None = Field(
        default=None,
        max_length=limits.CONTACT,
        description="The contact point: its id (`cp_...`), e-mail address, phone number or "
        "`postal:street; town`. Not given for `contact_point.registered`, which creates one.",
    )
    occurred_at: str | None = Field(
        default=None, max_length=64, description=f"When it happened: {MOMENT_HELP} Not in the future."
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
        default=None, min_length=1, max_length=64, description=f"When it was obtained: {MOMENT_HELP}"
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
