"""Sign-up forms (collection points): what they ask, in which words, in which version.

A form version is immutable once saved: a consent records `form@version` as
its text version, so the exact words a person agreed to can always be shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from consentry.domain import limits
from consentry.domain.errors import FieldError
from consentry.domain.vocabulary import Channel

_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
LANGUAGES = ("nl", "en")


class FormError(FieldError):
    """A form definition is invalid; `field` names where."""


@dataclass(frozen=True, slots=True)
class FormItem:
    """One checkbox: a purpose, the channels it covers, and its consent text in nl and en."""

    purpose: str
    text_nl: str
    text_en: str
    channels: tuple[Channel, ...] = (Channel.EMAIL,)

    def text(self, lang: str) -> str:
        """The consent text in `nl` or `en`."""
        return self.text_en if lang == "en" else self.text_nl


@dataclass(frozen=True, slots=True)
class Form:
    """One version of a sign-up form."""

    key: str
    version: int
    title_nl: str
    title_en: str
    items: tuple[FormItem, ...]
    intro_nl: str = ""
    intro_en: str = ""
    lead_magnet_url: str | None = None
    lead_magnet_title_nl: str | None = None
    lead_magnet_title_en: str | None = None
    #: How long a consent given on this form holds, in months (ISO/IEC TS 27560 validity
    #: duration); None: until withdrawn.
    consent_valid_for_months: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def text_version(self) -> str:
        """What a consent from this form records as its text version."""
        return f"{self.key}@{self.version}"

    def title(self, lang: str) -> str:
        """The title in `nl` or `en`."""
        return self.title_en if lang == "en" else self.title_nl

    def intro(self, lang: str) -> str:
        """The introduction in `nl` or `en`."""
        return self.intro_en if lang == "en" else self.intro_nl

    def lead_magnet_title(self, lang: str) -> str | None:
        """The lead magnet's name in `nl` or `en`."""
        return self.lead_magnet_title_en if lang == "en" else self.lead_magnet_title_nl

    def item(self, purpose: str) -> FormItem | None:
        """The item for a purpose, if the form asks for it."""
        return next((i for i in self.items if i.purpose == purpose), None)

    def to_json(self) -> dict[str, Any]:
        """The definition as stored and returned by the API."""
        return {
            "key": self.key,
            "version": self.version,
            "title_nl": self.title_nl,
            "title_en": self.title_en,
            "intro_nl": self.intro_nl,
            "intro_en": self.intro_en,
            "lead_magnet_url": self.lead_magnet_url,
            "lead_magnet_title_nl": self.lead_magnet_title_nl,
            "lead_magnet_title_en": self.lead_magnet_title_en,
            "consent_valid_for_months": self.consent_valid_for_months,
            "items": [
                {
                    "purpose": i.purpose,
                    "text_nl": i.text_nl,
                    "text_en": i.text_en,
                    "channels": [c.value for c in i.channels],
                }
                for i in self.items
            ],
        }


def _text(
    doc: dict[str, Any], name: str, required: bool = True, limit: int = limits.TEXT, where: str = ""
) -> str:
    value = doc.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise FormError(where or name, "is required text" if required else "must be text")
    if len(value) > limit:
        raise FormError(where or name, limits.too_long(limit))
    return value.strip()


def form_from_json(doc: Any, version: int) -> Form:
    """Read a form definition (as given to the API or CLI); FormError names what is wrong."""
    if not isinstance(doc, dict):
        raise FormError("-", "a form is a JSON object")
    key = doc.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        raise FormError("key", "use 1-63 lower-case letters, digits, '_' or '-'")
    raw_items = doc.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise FormError("items", "a form asks for at least one purpose")
    items = []
    seen = set()
    for n, raw in enumerate(raw_items):
        where = f"items[{n}]"
        if not isinstance(raw, dict):
            raise FormError(where, "must be an object")
        purpose = raw.get("purpose")
        if not isinstance(purpose, str) or not purpose:
            raise FormError(f"{where}.purpose", "is required")
        if len(purpose) > limits.KEY:
            raise FormError(f"{where}.purpose", limits.too_long(limits.KEY))
        if purpose in seen:
            raise FormError(f"{where}.purpose", f"{purpose!r} is asked twice; one box per purpose")
        seen.add(purpose)
        try:
            channels = tuple(Channel(c) for c in raw.get("channels", ["email"]))
        except (ValueError, TypeError):
            raise FormError(f"{where}.channels", "must be a list of channels") from None
        if channels != (Channel.EMAIL,):
            raise FormError(f"{where}.channels", 'a web form collects an e-mail address: use ["email"]')
        items.append(
            FormItem(
                purpose,
                _text(raw, "text_nl", where=f"{where}.text_nl")
                if "text_nl" in raw
                else _fail(f"{where}.text_nl"),
                _text(raw, "text_en", where=f"{where}.text_en")
                if "text_en" in raw
                else _fail(f"{where}.text_en"),
                channels,
            )
        )
    lead = doc.get("lead_magnet_url")
    if lead is not None and (not isinstance(lead, str) or not lead.startswith(("https://", "http://", "/"))):
        raise FormError("lead_magnet_url", "must be an http(s) URL or a path")
    if lead is not None and len(lead) > limits.URL:
        raise FormError("lead_magnet_url", limits.too_long(limits.URL))
    for name in ("lead_magnet_title_nl", "lead_magnet_title_en"):
        if lead and doc.get(name) is not None:
            _text(doc, name, required=False, limit=limits.NAME)
    months = doc.get("consent_valid_for_months")
    if months is not None and (
        isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 1200
    ):
        raise FormError("consent_valid_for_months", "must be a whole number of months from 1 to 1200")
    return Form(
        key=key,
        version=version,
        title_nl=_text(doc, "title_nl", limit=limits.NAME),
        title_en=_text(doc, "title_en", limit=limits.NAME),
        items=tuple(items),
        intro_nl=_text(doc, "intro_nl", required=False),
        intro_en=_text(doc, "intro_en", required=False),
        lead_magnet_url=lead,
        lead_magnet_title_nl=doc.get("lead_magnet_title_nl") if lead else None,
        lead_magnet_title_en=doc.get("lead_magnet_title_en") if lead else None,
        consent_valid_for_months=months,
    )


def _fail(where: str) -> str:
    raise FormError(where, "is required: the consent text shown beside the box")
