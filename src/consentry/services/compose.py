"""Writing one campaign message for one person: their language, their words, and what the law adds.

What a message carries beyond the campaign's own words follows from the
decision that allowed it:

- every marketing message: a one-click unsubscribe link (and, for e-mail, the
  List-Unsubscribe headers), the preference-centre link and the sender's
  identity (NL-EM-02, NL-EM-05);
- an obligation to point out or honour the right to object: a line saying so,
  with the link to object (GDPR Art. 21(4));
- the Art. 14 obligation: where the data came from, what it is used for and the
  person's rights, at this first contact (EU-GDPR-06).

A person's language is their `language` attribute (`nl` or `en`); Dutch when
it is missing or the campaign has no words in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any, NamedTuple

from jinja2 import Template, TemplateError

from consentry.domain.campaigns import Campaign
from consentry.domain.memo import Memo
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import Channel, MessageKind
from consentry.i18n import N_, translations
from consentry.policy.rules import Decision
from consentry.services import campaigns, public
from consentry.services.app import App

OBJECTION = frozenset({"mention-right-to-object", "honour-objection", "profiling-notice"})
OPT_OUT = frozenset({"opt-out-in-every-message", "opt-out-address"})
ART14 = "art14-notice"
#: Paragraphs whose HTML a campaign's composer keeps at most (and as many footer words).
_PARAGRAPHS_KEPT = 1024
#: Where the data came from (`ContactState.source`), as the Art. 14 notice says it.
SOURCES = {
    "business_card": N_("a business card"),
    "public_profile": N_("a public profile"),
    "public_register": N_("a public register"),
    "third_party_list_with_proof": N_("an address list from another organisation"),
    "third_party_list_without_proof": N_("an address list from another organisation"),
    "referral": N_("a referral"),
    "linkedin": N_("LinkedIn"),
}


class RenderError(ValueError):
    """A template could not be rendered for one person (a missing attribute, say)."""


@dataclass(frozen=True, slots=True)
class Composed:
    """One person's message, written out."""

    lang: str
    subject: str
    text: str
    html: str | None
    unsubscribe_url: str
    preferences_url: str
    notice14: bool


class _FooterWords(NamedTuple):
    """An e-mail footer's lines in one language, translated (the sender's line filled in)."""

    unsubscribe: str
    preferences: str
    objection: str
    notice: str
    sender: str


def language(state: ContactState) -> str:
    """The language to write to this person in."""
    lang = state.attributes.get("language", "").strip().lower()
    return lang if lang in ("nl", "en") else "nl"


class Composer:
    """Writes a campaign's messages; templates are compiled once per campaign."""

    def __init__(self, app: App, campaign: Campaign, purpose: Purpose) -> None:
        self.app = app
        self.c = campaign
        self.purpose = purpose
        self.templates: dict[str, tuple[Template | None, Template]] = campaigns.templates(campaign)
        body = next(iter(self.templates.values()))[1]
        self._globals = dict(body.globals)  # the environment's; flattened once, not on every render
        self._global_names = set(self._globals)  # what a context records of them (`_render`)
        # What `_html` made for this composer's messages: paragraphs, and footers' own words.
        self._paragraphs: Memo[str, str] = Memo(_PARAGRAPHS_KEPT)
        self._words: Memo[str, str] = Memo(_PARAGRAPHS_KEPT)
        # The footer's words by language (`_footer`): the catalogs' lookups once, not a message.
        self._footer_words: dict[str, _FooterWords] = {}

    def compose(self, state: ContactState, decision: Decision, notice_again: bool = False) -> Composed:
        """The message for this person, as the decision that allowed it requires."""
        lang = self.c.words(language(state))[0]
        subject_t, body_t = self.templates[lang]
        values = {"name": state.display_name or "", "address": state.value, "attributes": state.attributes}
        try:
            body = self._render(body_t, values).strip()
            subject = " ".join(self._render(subject_t, values).split()) if subject_t else ""
        except TemplateError as exc:
            raise RenderError(f"content.{lang}: {exc}") from None
        links = public.links(self.app, state.id, self.c.purpose, self.c.key)
        due = {o.id for o in decision.obligations}
        notice14 = ART14 in due or notice_again
        marketing = self.c.kind is MessageKind.MARKETING
        if self.c.channel is not Channel.EMAIL:
            return self._short(lang, body, links, notice14, state, marketing or bool(due & OPT_OUT))
        words = self._footer_words.get(lang) or self._footer(lang)
        footer = []
        if marketing or due & OPT_OUT:
            footer.append((words.unsubscribe % {"url": links["unsubscribe"]}, links["unsubscribe"]))
        footer.append((words.preferences % {"url": links["preferences"]}, links["preferences"]))
        if due & OBJECTION:
            footer.append((words.objection % {"url": links["preferences"]}, links["preferences"]))
        if notice14:
            notice = words.notice % {
                "source": self.source(state, lang),
                "controller": self.c.sender.legal_name,
                "purpose": self.purpose.name_en if lang == "en" else self.purpose.name_nl,
                "url": links["preferences"],
            }
            footer.append((notice, links["preferences"]))
        footer.append((words.sender, ""))
        text = body + "\n\n-- \n" + "\n\n".join(line for line, _link in footer) + "\n"
        return Composed(
            lang,
            subject,
            text,
            _html(lang, body, footer, self._paragraphs, self._words),
            links["unsubscribe"],
            links["preferences"],
            notice14,
        )

    def _footer(self, lang: str) -> _FooterWords:
        """The footer's words in a language, translated once a composer (`_footer_words`)."""
        _ = translations(lang).gettext
        words = self._footer_words[lang] = _FooterWords(
            _("Unsubscribe from these messages with one click: %(url)s"),
            _("Change your preferences: %(url)s"),
            _(
                "You may object at any time, free of charge, to the use of your data for direct "
                "marketing; we then send you nothing more: %(url)s"
            ),
            _(
                "Why do you receive this message? We did not get your details from you but through "
                "%(source)s. %(controller)s uses them for: %(purpose)s. You can see your data, have it "
                "erased or object: %(url)s"
            ),
            _("Sender: %(identity)s") % {"identity": self.c.sender.identity},
        )
        return words

    def _render(self, template: Template, values: dict[str, Any]) -> str:
        """`template.render(values)`, without merging the globals' ChainMap again each time, nor
        listing its names again for the context (`Context.globals_keys`, read by imports only)."""
        env = template.environment
        context = env.context_class(env, {**self._globals, **values}, template.name, template.blocks)
        context.globals_keys = self._global_names  # shared: jinja reads it, never changes it
        try:
            return env.concat(template.root_render_func(context))
        except Exception:
            env.handle_exception()

    def _short(
        self, lang: str, body: str, links: dict[str, str], notice14: bool, state: ContactState, opt_out: bool
    ) -> Composed:
        """An SMS or app message: the words, the sender, the opt-out, the notice; no more."""
        _ = translations(lang).gettext
        lines = [body, self.c.sender.name]
        if opt_out:
            lines.append(_("Unsubscribe: %(url)s") % {"url": links["unsubscribe"]})
        if notice14:
            notice = _("We got your number through %(source)s. Your rights: %(url)s")
            lines.append(notice % {"source": self.source(state, lang), "url": links["preferences"]})
        return Composed(
            lang, "", "\n".join(lines), None, links["unsubscribe"], links["preferences"], notice14
        )

    @staticmethod
    def source(state: ContactState, lang: str) -> str:
        """Where the data came from, in words, with the recorded detail (which fair, which list)."""
        source = SOURCES.get(state.source.value, N_("another source"))
        label = translations(lang).gettext(source)
        return f"{label} ({state.source_detail})" if state.source_detail else label


def _html(
    lang: str, body: str, footer: list[tuple[str, str]], paragraphs: Memo[str, str], words: Memo[str, str]
) -> str:
    """The HTML part; `paragraphs` and `words`: the composer's memos of escaped paragraphs and
    footer words (most are the same in all its messages; they go with the composer, so no
    person's words stay)."""
    blocks = paragraphs.many([p for p in body.split("\n\n") if p.strip()], _paragraph)
    small = "".join(
        f'<p style="font-size:smaller;color:#555">{_linked(line, url, words)}</p>\n' for line, url in footer
    )
    # A block a line: the message's encoder writes the campaign's paragraphs once (`mime._qp`).
    body_html = "".join(f"{p}\n" for p in blocks)
    return f'<!doctype html>\n<html lang="{lang}"><body>\n{body_html}<hr>\n{small}</body></html>\n'


def _paragraph(text: str) -> str:
    return f"<p>{escape(text).replace(chr(10), '<br>')}</p>"


def _linked(line: str, url: str, words: Memo[str, str]) -> str:
    """A footer line with its URL made a link."""
    if not url:
        return words.get(line, escape)
    before, _, after = line.partition(url)
    link = escape(url)
    return f'{words.get(before, escape)}<a href="{link}">{link}</a>{words.get(after, escape)}'
