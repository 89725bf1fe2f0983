"""Dutch first, English second: choosing the language and the texts of pages and e-mails."""

from __future__ import annotations

from datetime import datetime

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime

from consentry.domain.clock import LOCAL_TZ

LANGS = ("nl", "en")
DEFAULT = "nl"

MESSAGES: dict[str, dict[str, str]] = {
    "nl": {
        "mail.confirm.subject": "Bevestig je inschrijving",
        "mail.confirm.greeting": "Hallo,",
        "mail.confirm.body": (
            "Je hebt je via ons formulier aangemeld voor het volgende. Dat gaat pas in als je "
            "het bevestigt met de link hieronder."
        ),
        "mail.confirm.action": "Bevestig je inschrijving",
        "mail.confirm.expiry": "De link is {days} dagen geldig.",
        "mail.confirm.ignore": (
            "Heb je je niet aangemeld? Negeer dan deze e-mail; zonder bevestiging sturen we je niets."
        ),
        "mail.sender": "Verstuurd door {sender}.",
    },
    "en": {
        "mail.confirm.subject": "Confirm your subscription",
        "mail.confirm.greeting": "Hello,",
        "mail.confirm.body": (
            "You signed up through our form for the following. It only takes effect once you "
            "confirm it with the link below."
        ),
        "mail.confirm.action": "Confirm your subscription",
        "mail.confirm.expiry": "The link is valid for {days} days.",
        "mail.confirm.ignore": (
            "Did not sign up? Then ignore this e-mail; without confirmation we send you nothing."
        ),
        "mail.sender": "Sent by {sender}.",
    },
}


def t(lang: str, key: str, **values: object) -> str:
    """The text for `key` in `lang` (Dutch when missing), with values filled in."""
    text = MESSAGES.get(lang, {}).get(key) or MESSAGES[DEFAULT][key]
    return text.format(**values) if values else text


def negotiate(accept_language: str | None, asked: str | None = None) -> str:
    """The language to answer in: what was asked for, else the browser's, else Dutch."""
    if asked in LANGS:
        return asked
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if not tag or tag == "*":
            continue
        try:
            lang = Locale.parse(tag).language
        except (ValueError, UnknownLocaleError):
            continue
        if lang in LANGS:
            return lang
    return DEFAULT


def when(moment: datetime, lang: str) -> str:
    """A moment as a person reads it, in Dutch local time."""
    return format_datetime(moment.astimezone(LOCAL_TZ), "medium", locale=lang)
