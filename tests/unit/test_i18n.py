"""The gettext catalogs: complete in both languages, plural forms right, and in step with the code."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.catalog import Catalog
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from consentry import i18n
from consentry.entrypoints.web import views

ROOT = Path(__file__).resolve().parents[2]
POT = i18n.LOCALE_DIR / f"{i18n.DOMAIN}.pot"


def _catalog(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=lang)


def _ids(catalog: Catalog) -> set[object]:
    return {m.id for m in catalog if m.id}


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_message_has_a_translation_in_each_language(lang: str) -> None:
    template = _catalog(POT)
    catalog = _catalog(i18n.catalog_path(lang), lang)
    assert _ids(catalog) == _ids(template), f"{lang}: run pybabel update"
    untranslated = [
        m.id for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []
    assert not catalog.obsolete
    assert catalog.num_plurals == 2


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_every_translation_keeps_the_placeholders_of_its_message(lang: str) -> None:
    problems = [
        (m.id, [str(e) for e in errors]) for m, errors in _catalog(i18n.catalog_path(lang), lang).check()
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("lang", "days", "expected"),
    [
        ("nl", 1, "De link is 1 dag geldig."),
        ("nl", 2, "De link is 2 dagen geldig."),
        ("en", 1, "The link is valid for 1 day."),
        ("en", 2, "The link is valid for 2 days."),
    ],
)
def test_the_mail_says_one_day_or_several_days(lang: str, days: int, expected: str) -> None:
    tr = i18n.translations(lang)
    line = tr.ngettext("The link is valid for %(num)d day.", "The link is valid for %(num)d days.", days)
    assert line % {"num": days} == expected


@pytest.mark.parametrize(
    ("lang", "days", "expected"),
    [
        ("nl", 1, "De link is 1 dag geldig."),
        ("nl", 7, "De link is 7 dagen geldig."),
        ("en", 1, "The link is valid for 1 day."),
        ("en", 7, "The link is valid for 7 days."),
    ],
)
def test_the_thank_you_page_says_one_day_or_several_days(lang: str, days: int, expected: str) -> None:
    form = SimpleNamespace(title=lambda lang: "Nieuwsbrief", lead_magnet_title=lambda lang: None)
    outcome = SimpleNamespace(asked_confirmation=True, form=form, lead_magnet_url=None)
    html = (
        views.templates(lang)
        .get_template("thanks.html")
        .render(lang=lang, embed=False, switch={"nl": "", "en": ""}, outcome=outcome, days=days)
    )
    assert expected in html


@pytest.mark.parametrize(
    ("lang", "days", "expected"),
    [
        ("nl", 1, "Een bevestigingslink is 1 dag geldig."),
        ("nl", 14, "Een bevestigingslink is 14 dagen geldig."),
        ("en", 1, "A confirmation link is valid for 1 day."),
        ("en", 14, "A confirmation link is valid for 14 days."),
    ],
)
def test_the_expired_link_page_says_one_day_or_several_days(lang: str, days: int, expected: str) -> None:
    html = (
        views.templates(lang)
        .get_template("error.html")
        .render(lang=lang, embed=False, switch={"nl": "", "en": ""}, kind="expired", values={"days": days})
    )
    assert expected in html


def test_a_language_we_do_not_speak_gets_dutch() -> None:
    assert i18n.translations("de") is i18n.translations("nl")
    assert i18n.translations("de").gettext("Thank you") == "Bedankt"


def test_a_catalog_is_read_once_per_process() -> None:
    assert i18n.translations("en") is i18n.translations("en")


def test_a_vocabulary_word_is_translated_and_an_unknown_one_shown_as_it_is() -> None:
    assert views.term("nl", "channel", "sms") == "sms"
    assert views.term("en", "channel", "sms") == "text message"
    assert views.term("nl", "status", "pending") == "wacht op je bevestiging"
    assert views.term("nl", "status", "something-new") == "something-new"


def _without_dates(pot: str) -> str:
    """A template without its creation date and the year in its header comments."""
    pot = re.sub(r'^"POT-Creation-Date: .*\n', "", pot, flags=re.MULTILINE)
    return re.sub(r"^(# .*)\b\d{4}\b", r"\1YEAR", pot, flags=re.MULTILINE)


def test_the_catalog_template_is_up_to_date_with_the_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Extract exactly as a maintainer does (`pybabel extract`, configured in pyproject.toml).
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("BABEL_PYPROJECT_TOML", str(ROOT / "pyproject.toml"))
    fresh = tmp_path / "messages.pot"
    CommandLineInterface().run(["pybabel", "-q", "extract", "-o", str(fresh)])
    stale = "src/consentry/locale/messages.pot is stale: run pybabel extract, then pybabel update"
    assert _without_dates(fresh.read_text("utf-8")) == _without_dates(POT.read_text("utf-8")), stale


def test_the_catalogs_are_installed_with_the_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["consentry"]
    package = ROOT / "src" / "consentry"
    for lang in i18n.LANGS:
        path = i18n.catalog_path(lang).relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(path, p) for p in patterns), path
