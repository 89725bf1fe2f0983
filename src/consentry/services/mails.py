"""The e-mails the public flows send. They carry no advertising."""

from __future__ import annotations

from dataclasses import replace
from html import escape

from consentry.adapters.mime import address
from consentry.domain.purposes import Purpose
from consentry.i18n import translations
from consentry.services import sender
from consentry.services.app import App


def send_confirmation(app: App, to: str, purposes: list[Purpose], url: str, lang: str) -> None:
    """Mail the double opt-in confirmation link (plain text and HTML)."""
    tr = translations(lang)
    _ = tr.gettext
    days = app.settings.doi_expiry_days
    greeting = _("Hello,")
    body = _(
        "You signed up through our form for the following. It only takes effect once you "
        "confirm it with the link below."
    )
    action = _("Confirm your subscription")
    expiry = tr.ngettext(
        "The link is valid for %(num)d day.", "The link is valid for %(num)d days.", days
    ) % {"num": days}
    ignore = _("Did not sign up? Then ignore this e-mail; without confirmation we send you nothing.")
    who = sender.identity(app)
    sent_by = _("Sent by %(sender)s.") % {"sender": who.name or app.settings.mail_from_name}
    about = [line for line in (who.address, _("KvK %(kvk)s") % {"kvk": who.kvk} if who.kvk else "") if line]
    privacy = _("Privacy statement: %(url)s") % {"url": who.privacy_url} if who.privacy_url else ""
    names = [p.name_en if lang == "en" else p.name_nl for p in purposes]
    text = "\n".join(
        [
            greeting,
            "",
            body,
            "",
            *(f"  - {n}" for n in names),
            "",
            f"{action}: {url}",
            "",
            expiry,
            ignore,
            "",
            sent_by,
            *about,
            *([privacy] if privacy else []),
        ]
    )
    items = "".join(f"<li>{escape(n)}</li>" for n in names)
    html = (
        f'<!doctype html><html lang="{lang}"><body>'
        f"<p>{escape(greeting)}</p>"
        f"<p>{escape(body)}</p><ul>{items}</ul>"
        f'<p><a href="{escape(url)}">{escape(action)}</a></p>'
        f"<p>{escape(expiry)}<br>{escape(ignore)}</p>"
        f"<p>{'<br>'.join(escape(line) for line in (sent_by, *about))}</p>"
        + (
            f'<p><a href="{escape(who.privacy_url)}">{escape(_("Privacy statement"))}</a></p>'
            if privacy
            else ""
        )
        + "</body></html>"
    )
    msg = app.mailer.new_message(to, _("Confirm your subscription"), text, html, lang)
    from_ = sender.mail_sender(app)
    if from_ is not None:
        msg = replace(msg, sender=address(from_.name, from_.email))
    app.mailer.send(msg)
