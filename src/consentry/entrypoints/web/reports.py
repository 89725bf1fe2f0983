"""Rendering the accountability reports as HTML documents that print well (and save as PDF).

Each report is one self-contained page (its style inline, nothing fetched), made
from the JSON document its service returns, in Dutch or English. The CLI writes it
to a file; the API returns it as `text/html`.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import Any

import jinja2

from consentry.entrypoints.web.report_texts import LABELS, word
from consentry.i18n import LANGS, when
from consentry.services.errors import InputError

#: The reports, by name: the template of each is `report_<name>.html`.
REPORTS = ("access", "proof", "processing")


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("consentry.entrypoints.web", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def language(lang: str) -> str:
    """A report language, or InputError naming the ones there are."""
    if lang not in LANGS:
        raise InputError("lang", f"unknown language {lang!r}: choose {' or '.join(LANGS)}")
    return lang


def render(name: str, doc: dict[str, Any], lang: str) -> str:
    """The report `name` of a service's document, in `lang` (`nl` or `en`)."""
    lang = language(lang)
    labels = LABELS[lang]

    def moment(text: str | None) -> str:
        return when(datetime.fromisoformat(text), lang) if text else "-"

    def day(text: str | None) -> str:
        if not text:
            return "-"
        d = date.fromisoformat(text[:10])
        return f"{d:%d-%m-%Y}" if lang == "nl" else d.isoformat()

    return (
        _env()
        .get_template(f"report_{name}.html")
        .render(
            doc=doc,
            lang=lang,
            t=labels,
            pick=lambda nl, en: en if lang == "en" else nl,
            word=lambda kind, value: word(lang, kind, value),
            moment=moment,
            day=day,
        )
    )
