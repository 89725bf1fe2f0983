"""Ledger events: their types and their documented fields.

`EVENT_TYPES` is the single source of truth: validation (`consentry.domain.validation`),
`docs/events.md` and the fold all read it. Payloads are JSON-native (strings, numbers, booleans, lists,
objects) so an event hashes and stores the same way on every backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from consentry.domain.dsr import IdentityMethod, IdentityStatus, Outcome, RequestKind, ToldVia
from consentry.domain.errors import FieldError
from consentry.domain.vocabulary import (
    ConsentMethod,
    ObjectionScope,
    PartyKind,
    PointKind,
    Source,
)

SCHEMA_VERSION = 1


class EventError(FieldError):
    """An event is malformed; `field` names the offending field."""


@dataclass(frozen=True, slots=True)
class Field:
    """One payload field: its name, kind, whether it is required, and what it means."""

    name: str
    kind: str | type[StrEnum]
    required: bool
    doc: str


@dataclass(frozen=True, slots=True)
class EventType:
    """A kind of ledger event with its documented payload."""

    name: str
    doc: str
    fields: tuple[Field, ...]


#: `Event`'s default payload: a new empty dict each time, as `field(default_factory=dict)` gives.
_NO_PAYLOAD: Any = object()


@dataclass(frozen=True, slots=True, init=False)
class Event:
    """One fact in the ledger about one contact point. Never updated once appended."""

    id: str
    type: str
    contact_point_id: str
    occurred_at: datetime
    recorded_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION
    seq: int | None = None

    def __init__(
        self,
        id: str,
        type: str,
        contact_point_id: str,
        occurred_at: datetime,
        recorded_at: datetime,
        payload: Mapping[str, Any] = _NO_PAYLOAD,
        schema_version: int = SCHEMA_VERSION,
        seq: int | None = None,
    ) -> None:
        """The generated `__init__`'s fields and defaults, each set through its slot's own
        descriptor (`_SLOTS`).

        A frozen dataclass's `__init__` sets each field by an `object.__setattr__` call, which
        costs about three times as much: 1.1 µs of an appended event's ~30 (an append makes
        an Event a line, a read one a row).
        """
        set_id, set_type, set_point, set_occurred, set_recorded, set_payload, set_version, set_seq = _SLOTS
        set_id(self, id)
        set_type(self, type)
        set_point(self, contact_point_id)
        set_occurred(self, occurred_at)
        set_recorded(self, recorded_at)
        set_payload(self, {} if payload is _NO_PAYLOAD else payload)
        set_version(self, schema_version)
        set_seq(self, seq)


#: The setters of `Event`'s slots in field order: they write a slot past the frozen `__setattr__`.
_SLOTS = tuple(Event.__dict__[f.name].__set__ for f in fields(Event))


def _f(name: str, kind: str | type[StrEnum], required: bool, doc: str) -> Field:
    return Field(name, kind, required, doc)


_EVIDENCE = (
    _f("ip", "str", False, "IP address the action came from, where the channel has one."),
    _f("user_agent", "str", False, "Browser user agent of the action, where there is one."),
)
_SCOPE = (
    _f("purpose", "str", False, "Purpose key it applies to; omitted means every purpose."),
    _f(
        "channels",
        "list[channel]",
        False,
        "Channels it applies to; omitted means every channel of the contact point.",
    ),
)
_FEEDBACK = (
    _f("campaign", "str", False, "Campaign key of the message it is about."),
    _f("message_id", "str", False, "Message-ID of the message it is about, without angle brackets."),
)
_POINT_DETAILS = (
    _f("party", PartyKind, False, "Who is behind the point; default `consumer` (strictest)."),
    _f("country", "country", False, "ISO 3166-1 alpha-2 country of the party (`NL`)."),
    _f(
        "published_for_offers",
        "bool",
        False,
        "The organisation designated and published this address for receiving offers.",
    ),
    _f(
        "published_for_offers_evidence",
        "str",
        False,
        "Where it was published as such (URL, document); without it the claim needs review.",
    ),
    _f("local_rules_met", "bool", False, "Outside the EEA: the local rules were checked and met."),
    _f("own_employee", "bool", False, "The point belongs to one of the sender's own employees."),
    _f("display_name", "str", False, "Name of the person or organisation."),
    _f(
        "contact_id",
        "str",
        False,
        "Groups the contact points of one person or organisation; an objection (GDPR Art. 21) "
        "made on one of them covers them all. Without it a point is its own person.",
    ),
    _f(
        "stated_basis",
        "str",
        False,
        "The legal basis the importer stated for holding the data: `consent`, "
        "`legitimate_interest` or `contract`.",
    ),
    _f("role_address", "bool", False, "A function address (info@, sales@) rather than a person's."),
    _f(
        "suggested_party",
        PartyKind,
        False,
        "The party kind the address suggests (never used over a stated `party`).",
    ),
    _f("suggestion_reason", "str", False, "Why that party kind is suggested."),
)

EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType(
            "contact_point.registered",
            "A new address or number enters the ledger, with where it came from.",
            (
                _f("kind", PointKind, True, "`email`, `phone` or `postal`."),
                _f("value", "str", True, "The address or number; normalised on the way in."),
                _f("source", Source, True, "Provenance: how the sender obtained it."),
                _f("source_detail", "str", False, "Free text: which fair, which list seller."),
                *_POINT_DETAILS,
                _f("attributes", "object", False, "Initial attributes (names and string values)."),
                _f("tags", "list[str]", False, "Initial tags."),
            ),
        ),
        EventType(
            "contact_point.updated",
            "What is known about the party behind a point changes (re-classification).",
            _POINT_DETAILS,
        ),
        EventType(
            "consent.given",
            "The person gave consent for one purpose over one or more channels.",
            (
                _f("purpose", "str", True, "Key of a defined purpose."),
                _f("channels", "list[channel]", True, "Channels the consent covers."),
                _f("method", ConsentMethod, True, "How it was collected."),
                _f("text_version", "str", False, "Version of the consent text shown."),
                _f(
                    "valid_for_months",
                    "months",
                    False,
                    "How long the consent holds, in months from the day it was given (ISO/IEC TS "
                    "27560 validity duration); omitted means until withdrawn.",
                ),
                _f("language", "str", False, "Language of the text shown (`nl`, `en`)."),
                _f("collection_point", "str", False, "Form or place where it was collected."),
                *_EVIDENCE,
                _f("bundled", "bool", False, "Bundled with other purposes in one tick."),
                _f("vague", "bool", False, 'Worded vaguely ("and selected partners").'),
                _f(
                    "source_fields",
                    "object",
                    False,
                    "Original fields from an imported system (names and string values).",
                ),
                _f("attachments", "list[str]", False, "SHA-256 hashes of attached proof."),
            ),
        ),
        EventType(
            "consent.confirmed",
            "The person confirmed a double opt-in consent (clicked the link).",
            (
                _f("purpose", "str", True, "Purpose of the consent being confirmed."),
                _f("consent_event", "str", False, "Id of the consent.given event; default latest."),
                *_EVIDENCE,
            ),
        ),
        EventType(
            "consent.withdrawn",
            "The person withdrew consent (GDPR Art. 7(3)).",
            (*_SCOPE, _f("reason", "str", False, "Why, in the person's words if given.")),
        ),
        EventType(
            "unsubscribed",
            "The person opted out (link, one-click, reply, call); also ends the customer exception.",
            (
                *_SCOPE,
                _f("via", "str", False, "How: `link`, `one_click`, `reply`, `phone`, `form`, `import`."),
                _f("campaign", "str", False, "Campaign the opt-out came from."),
                _f("reason", "str", False, "The reason the person gave, if any."),
                _f(
                    "mail_from", "str", False, "Sender of the mail that asked for it (a mailto: unsubscribe)."
                ),
                _f("mail_message_id", "str", False, "Message-ID of that mail."),
                *_EVIDENCE,
            ),
        ),
        EventType(
            "objection.recorded",
            "The person objected (GDPR Art. 21) to direct marketing or to profiling.",
            (
                _f("scope", ObjectionScope, True, "`direct_marketing` or `profiling`."),
                _f("via", "str", False, "How the objection reached the sender."),
                *_EVIDENCE,
            ),
        ),
        EventType(
            "objection.withdrawn",
            "The person lifted an earlier objection themselves.",
            (_f("scope", ObjectionScope, True, "`direct_marketing` or `profiling`."),),
        ),
        EventType(
            "purchase.recorded",
            "A sale (or a free account, CJEU C-654/23) in which the sender obtained the point.",
            (
                _f("categories", "list[str]", True, "Product categories bought."),
                _f("opt_out_offered", "bool", True, "A clear, free opt-out was offered then."),
                _f(
                    "collected_by_sender",
                    "bool",
                    False,
                    "The sender itself collected the point in the sale; default true.",
                ),
                _f(
                    "contract",
                    "bool",
                    False,
                    "The sale started a subscription or other contract that runs until "
                    "`customer_relationship.ended`; default false (a one-off purchase).",
                ),
                _f("order_ref", "str", False, "Order or account reference."),
            ),
        ),
        EventType(
            "customer_relationship.ended",
            "The customer relationship ended (contract ended, account closed).",
            (_f("reason", "str", False, "Why it ended."),),
        ),
        EventType(
            "notice.given",
            "A privacy notice was given (GDPR Art. 13, 14 or 21(4)).",
            (
                _f("article", "str", True, "`13`, `14` or `21`."),
                _f("method", "str", False, "How: `email`, `letter`, `call`, `form`."),
                _f("text_version", "str", False, "Version of the notice text."),
            ),
        ),
        EventType(
            "register.listed",
            "The point is listed on a do-not-contact register (Bel-me-niet, Postfilter ...).",
            (
                _f("register", "str", True, "Register key: `bel-me-niet`, `postfilter`."),
                _f("listed_from", "date", False, "First day listed; default the event's date."),
                _f("listed_until", "date", False, "Last day listed; omitted means still listed."),
                _f(
                    "sectors",
                    "list[str]",
                    False,
                    "Postfilter: the sectors the person wants no mail from (keys as the "
                    "register delivers them); omitted means every sector.",
                ),
            ),
        ),
        EventType(
            "bounce.recorded",
            "A message to the point bounced.",
            (
                _f("bounce_kind", "str", True, "`hard` (suppresses) or `soft`."),
                _f("diagnostic", "str", False, "The receiving server's diagnostic text."),
                _f(
                    "status", "str", False, "SMTP status: enhanced (`5.1.1`, RFC 3463) or reply code (`550`)."
                ),
                *_FEEDBACK,
                _f(
                    "derived_from",
                    "list[str]",
                    False,
                    "A hard bounce consentry derived from repeated soft bounces: their event ids.",
                ),
            ),
        ),
        EventType(
            "complaint.recorded",
            "The person marked a message as spam (feedback loop); suppresses the point.",
            (
                _f("feedback_source", "str", False, "Which mailbox provider reported it."),
                _f("feedback_type", "str", False, "ARF feedback type (RFC 5965): `abuse`, `fraud` ..."),
                *_FEEDBACK,
            ),
        ),
        EventType(
            "attributes.set",
            "Attributes of the contact point were set (merge fields, names, segments).",
            (_f("attributes", "object", True, "Attribute names and their values (strings)."),),
        ),
        EventType(
            "tags.added",
            "Tags were added to the contact point.",
            (_f("tags", "list[str]", True, "The tags."),),
        ),
        EventType(
            "request.received",
            "The person made a data-subject request (GDPR Art. 15-21). Appended as an event it is "
            "history only; a request opened with `consentry dsr open` or `POST /v1/requests` is "
            "tracked with its deadline (docs/requests.md).",
            (
                _f(
                    "request",
                    "str",
                    True,
                    "`access`, `rectification`, `erasure`, `restriction`, `portability` or `objection`.",
                ),
                _f("via", "str", False, "How it reached the sender: `preference_centre`, `email` ..."),
                _f("note", "str", False, "The person's own words, if any."),
                _f(
                    "request_id",
                    "str",
                    False,
                    "The tracked request (`consentry dsr`) it opened; absent for one only recorded.",
                ),
                _f("due_at", "str", False, "When it must be answered by (ISO 8601, GDPR Art. 12(3))."),
                *_EVIDENCE,
            ),
        ),
        EventType(
            "request.identity_checked",
            "Whether the person making a request is who it names was checked (GDPR Art. 12(6)).",
            (
                _f("request_id", "str", True, "The request."),
                _f("identity", IdentityStatus, True, "`verified` or `failed`."),
                _f("method", IdentityMethod, True, "How it was checked."),
                _f("handler", "str", True, "Who checked it (a user of the sender)."),
            ),
        ),
        EventType(
            "request.started",
            "Someone of the sender took a request on.",
            (
                _f("request_id", "str", True, "The request."),
                _f("handler", "str", True, "Who handles it."),
            ),
        ),
        EventType(
            "request.extended",
            "The deadline was extended by two months, the reasons told to the person (GDPR Art. 12(3)).",
            (
                _f("request_id", "str", True, "The request."),
                _f("extended_until", "date", True, "The new last day (Dutch calendar)."),
                _f("reason", "str", True, "The reasons, as told to the person."),
                _f("told_via", ToldVia, True, "How the person was told."),
                _f("handler", "str", True, "Who extended it."),
            ),
        ),
        EventType(
            "request.handled",
            "A request was closed: done, refused or withdrawn; who did it is recorded.",
            (
                _f("request_id", "str", True, "The request."),
                _f("request", "str", True, "What was asked (as `request.received`)."),
                _f("outcome", Outcome, True, "`done`, `refused` or `withdrawn`."),
                _f("handler", "str", True, "Who handled it."),
                _f("received_event", "str", False, "The `request.received` event it answers."),
                _f("note", "str", False, "What was done, or why not (told to the person)."),
            ),
        ),
        EventType(
            "request.told",
            "The person was told about their request (an outcome mail, a letter, a call).",
            (
                _f("request_id", "str", True, "The request."),
                _f("about", "str", True, "`outcome`."),
                _f("told_via", ToldVia, True, "How."),
            ),
        ),
        EventType(
            "processing.restricted",
            "Processing is restricted (GDPR Art. 18): no marketing to or profiling of the person "
            "until it is lifted.",
            (_f("request_id", "str", False, "The request that asked for it."),),
        ),
        EventType(
            "processing.restriction_lifted",
            "A restriction of processing ended (GDPR Art. 18(3): the person is told first).",
            (
                _f("request_id", "str", False, "The request it belonged to."),
                _f("handler", "str", False, "Who lifted it."),
            ),
        ),
        EventType(
            "note.recorded",
            "A user of the sender wrote a note on the contact point (the admin app's contact page). "
            "The rules read nothing from it; the note is personal data, sealed like a reason.",
            (
                _f("note", "str", True, "The note, free text (lines allowed, no control characters)."),
                _f("author", "str", False, "Who wrote it (a user of the sender)."),
            ),
        ),
        EventType(
            "contact_point.erased",
            "The point was erased (GDPR Art. 17); only a suppression record remains. Recorded only "
            "by the erasure (`consentry erase`, `POST /v1/erasures`, a handled erasure request, "
            "retention), which also drops the point's lookup, keeps its suppression record and "
            "destroys its data key; it cannot be appended.",
            (_f("reason", "str", False, "Request or retention rule that caused it."),),
        ),
    )
}

STATED_BASES = ("consent", "legitimate_interest", "contract")
REQUEST_KINDS = frozenset(k.value for k in RequestKind)
#: Recorded by the request services (`services/dsr.py`) only, never appended from outside:
#: they must agree with the request table.
SERVICE_ONLY = frozenset(
    {
        "request.identity_checked",
        "request.started",
        "request.extended",
        "request.handled",
        "request.told",
    }
)

#: Recorded by the erasure service (`services/erasure.py`) only: appended alone it would drop the
#: point from audiences but keep its lookup and data key and leave no suppression record.
ERASURE_ONLY = frozenset({"contact_point.erased"})
