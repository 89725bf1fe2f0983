"""Campaigns: who to consider, what to ask the rules about them, and what to send."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from consentry.domain import limits
from consentry.domain.errors import FieldError
from consentry.domain.vocabulary import Channel, MessageKind


@dataclass(frozen=True, slots=True)
class Selection:
    """Who a campaign considers, before the rules judge them; every given criterion must hold.

    No criterion at all means every contact point that can carry the channel.
    """

    #: Contact points carrying this tag.
    tag: str | None = None
    #: Contact points whose attribute `name` equals `value`.
    attribute: tuple[str, str] | None = None
    #: Contact points that gave (and did not withdraw) consent for this purpose, confirmed or not.
    subscribers_of: str | None = None
    #: Contact points registered with this source detail (e.g. the label of an imported list).
    source_detail: str | None = None

    def describe(self) -> str:
        """A short English description for reports and logs."""
        parts = []
        if self.tag:
            parts.append(f"tag {self.tag!r}")
        if self.attribute:
            parts.append(f"{self.attribute[0]} = {self.attribute[1]!r}")
        if self.subscribers_of:
            parts.append(f"subscribers of {self.subscribers_of!r}")
        if self.source_detail:
            parts.append(f"source detail {self.source_detail!r}")
        return ", ".join(parts) or "everyone"


# -- campaigns -------------------------------------------------------------------------------

_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_KVK = re.compile(r"^\d{8}$")
LANGUAGES = ("nl", "en")
#: Channels a campaign sends over; phone and post campaigns are lists (`consentry export`).
#: A subject template's length; rendered with a long name it may pass SMTP's 998-character
#: line, and is then folded over several header lines (consentry.adapters.mime).
SUBJECT = 250
SEND_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS, Channel.MESSAGING_APP})
_SELECTION_FIELDS = ("tag", "attribute", "subscribers_of", "source_detail")


class CampaignError(FieldError):
    """A campaign definition is invalid; `field` names where (`sender.kvk`, `content.en.subject`)."""


class CampaignStatus(StrEnum):
    """Where a campaign stands."""

    DRAFT = "draft"
    SENDING = "sending"
    PAUSED = "paused"
    DONE = "done"


class MessageStatus(StrEnum):
    """Where one message of a campaign stands."""

    QUEUED = "queued"
    CLAIMED = "claimed"
    SENT = "sent"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sends: the name and address people see, and the identity the law asks for (Tw 11.7)."""

    name: str
    legal_name: str
    address: str
    kvk: str
    email: str | None = None
    reply_to: str | None = None

    @property
    def identity(self) -> str:
        """The identity line every message carries: legal name, postal address, KvK number."""
        return f"{self.legal_name}, {self.address}, KvK {self.kvk}"


@dataclass(frozen=True, slots=True)
class Content:
    """A message's words in one language: Jinja2 templates (the subject is e-mail only)."""

    body: str
    subject: str = ""


@dataclass(frozen=True, slots=True)
class Campaign:
    """A message to an audience: for one purpose, over one channel, from one sender."""

    key: str
    name: str
    purpose: str
    channel: Channel
    sender: Sender
    content: dict[str, Content]
    kind: MessageKind = MessageKind.MARKETING
    selection: Selection = field(default_factory=Selection)

    def words(self, lang: str) -> tuple[str, Content]:
        """The language to write in (Dutch when `lang` has no content) and its content."""
        found = self.content.get(lang)
        return (lang, found) if found is not None else ("nl", self.content["nl"])

    def to_json(self) -> dict[str, Any]:
        """The definition as stored and as the API returns it."""
        s = self.sender
        sel = self.selection
        selection: dict[str, Any] = {
            name: getattr(sel, name) for name in _SELECTION_FIELDS if getattr(sel, name) is not None
        }
        if sel.attribute is not None:
            selection["attribute"] = {"name": sel.attribute[0], "value": sel.attribute[1]}
        sender = {"name": s.name, "legal_name": s.legal_name, "address": s.address, "kvk": s.kvk}
        sender.update({k: v for k, v in (("email", s.email), ("reply_to", s.reply_to)) if v is not None})
        return {
            "key": self.key,
            "name": self.name,
            "purpose": self.purpose,
            "channel": self.channel.value,
            "kind": self.kind.value,
            "sender": sender,
            "content": {
                lang: ({"subject": c.subject, "body": c.body} if c.subject else {"body": c.body})
                for lang, c in self.content.items()
            },
            "selection": selection,
        }


def _text(
    doc: dict[str, Any],
    name: str,
    where: str,
    required: bool = True,
    limit: int = limits.LABEL,
    lines: bool = False,
) -> str | None:
    value = doc.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CampaignError(where, "is required text" if required else "must be text")
    if len(value) > limit:
        raise CampaignError(where, limits.too_long(limit))
    if not lines and ("\n" in value or "\r" in value):
        raise CampaignError(where, "must be one line")
    if "\x00" in value:
        raise CampaignError(where, "may not contain NUL characters")
    return value.strip()


def _address(doc: dict[str, Any], name: str, where: str, required: bool) -> str | None:
    value = _text(doc, name, where, required, limit=limits.EMAIL)
    if value is not None and not _EMAIL.match(value):
        raise CampaignError(where, f"{value!r} is not an e-mail address")
    return value


def _object(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise CampaignError(where, "must be an object")
    return doc


def _sender(raw: Any, channel: Channel) -> Sender:
    doc = _object(raw, "sender")
    kvk = str(doc.get("kvk", "")).replace(" ", "")
    if not _KVK.match(kvk):
        raise CampaignError("sender.kvk", "is the 8-digit number in the Dutch trade register (KvK)")
    return Sender(
        name=str(_text(doc, "name", "sender.name")),
        legal_name=str(_text(doc, "legal_name", "sender.legal_name")),
        address=str(_text(doc, "address", "sender.address", limit=limits.NAME)),
        kvk=kvk,
        email=_address(doc, "email", "sender.email", required=channel is Channel.EMAIL),
        reply_to=_address(doc, "reply_to", "sender.reply_to", required=False),
    )


def _content(raw: Any, channel: Channel) -> dict[str, Content]:
    doc = _object(raw, "content")
    unknown = sorted(set(doc) - set(LANGUAGES))
    if unknown:
        raise CampaignError(f"content.{unknown[0]}", "languages are nl and en")
    if "nl" not in doc:
        raise CampaignError("content.nl", "is required: Dutch first")
    out = {}
    for lang in LANGUAGES:
        if lang not in doc:
            continue
        words = _object(doc[lang], f"content.{lang}")
        subject = ""
        if channel is Channel.EMAIL:
            subject = str(_text(words, "subject", f"content.{lang}.subject", limit=SUBJECT))
        body = _text(words, "body", f"content.{lang}.body", limit=limits.BODY, lines=True)
        out[lang] = Content(body=str(body), subject=subject)
    return out


def _selection(raw: Any) -> Selection:
    if raw is None:
        return Selection()
    doc = _object(raw, "selection")
    unknown = sorted(set(doc) - set(_SELECTION_FIELDS))
    if unknown:
        raise CampaignError(f"selection.{unknown[0]}", f"choose from: {', '.join(_SELECTION_FIELDS)}")
    found: dict[str, Any] = {}
    for name in ("tag", "subscribers_of", "source_detail"):
        if doc.get(name) is not None:
            found[name] = _text(doc, name, f"selection.{name}")
    attribute = doc.get("attribute")
    if attribute is not None:
        pair = _object(attribute, "selection.attribute")
        found["attribute"] = (
            str(_text(pair, "name", "selection.attribute.name", limit=limits.ATTRIBUTE_NAME)),
            str(_text(pair, "value", "selection.attribute.value", limit=limits.ATTRIBUTE_VALUE)),
        )
    return Selection(**found)


def campaign_from_json(doc: Any) -> Campaign:
    """Read a campaign definition (as given to the API or CLI); CampaignError names what is wrong.

    Templates are only checked for being text here; `consentry.services.campaigns`
    compiles them and names unknown fields.
    """
    doc = _object(doc, "-")
    key = doc.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise CampaignError("key", "use 1-63 lower-case letters, digits, '_', '-' or '.'")
    purpose = doc.get("purpose")
    if not isinstance(purpose, str) or not purpose.strip():
        raise CampaignError("purpose", "is required: the key of a defined purpose")
    try:
        channel = Channel(doc.get("channel", "email"))
    except ValueError:
        raise CampaignError("channel", "must be one of: email, sms, messaging_app") from None
    if channel not in SEND_CHANNELS:
        raise CampaignError(
            "channel",
            f"{channel.value} is not sent by consentry: export the call or mailing list "
            "with `consentry export` instead",
        )
    try:
        kind = MessageKind(doc.get("kind", "marketing"))
    except ValueError:
        raise CampaignError("kind", "must be one of: marketing, service, personal") from None
    return Campaign(
        key=key,
        name=str(_text(doc, "name", "name")),
        purpose=purpose.strip(),
        channel=channel,
        kind=kind,
        sender=_sender(doc.get("sender"), channel),
        content=_content(doc.get("content"), channel),
        selection=_selection(doc.get("selection")),
    )
