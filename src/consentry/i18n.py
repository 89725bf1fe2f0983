"""Dutch first, English second: choosing the language, and the catalogs of its texts.

The texts of pages and e-mails are gettext messages: the code and the templates
carry the English text as the message id, and `locale/<lang>/LC_MESSAGES/messages.po`
holds its translation for each language (English too, so that a wording can be
changed without touching the code). A language outside `LANGS` gets Dutch.

The `.po` files are read with Babel once per process, so a fresh `pip install -e .`
needs no compile step. After changing a text in the code or a template, run
`pybabel extract` and `pybabel update` (configured in pyproject.toml) and translate
what they add; a test fails while a message is missing, fuzzy or out of date.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from consentry.domain.clock import LOCAL_TZ

LANGS = ("nl", "en")
DEFAULT = "nl"
DOMAIN = "messages"
LOCALE_DIR = Path(__file__).with_name("locale")


def N_(message: str) -> str:
    """Mark `message` for the catalogs where it is only translated later (a table of terms)."""
    return message


def catalog_path(lang: str) -> Path:
    """Where the translations of `lang` are kept."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def translations(lang: str) -> Translations:
    """The translations of `lang` (Dutch for any language we do not speak)."""
    return _load(lang if lang in LANGS else DEFAULT)


@cache
def _load(lang: str) -> Translations:
    with catalog_path(lang).open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    # Compiled in memory: gettext reads only the .mo format, and a compiled file in the
    # package would be one more thing to forget to rebuild. Fuzzy entries are left out.
    mo = BytesIO()
    write_mo(mo, catalog)
    mo.seek(0)
    return Translations(mo, domain=DOMAIN)


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


def local_time(moment: datetime, lang: str) -> str:
    """A moment in Europe/Amsterdam with the zone named (CET or CEST), as the admin app shows it."""
    if moment.tzinfo is None:  # as the store gives its UTC columns back
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(LOCAL_TZ)
    return f"{format_datetime(local, 'd MMM y HH:mm', locale=lang)} {local.tzname()}"
