"""The e-mails the public flows send. They carry no advertising."""

from __future__ import annotations

from html import escape

from consentry.domain.purposes import Purpose
from consentry.i18n import translations
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
    sent_by = _("Sent by %(sender)s.") % {"sender": app.settings.mail_from_name}
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
        ]
    )
    items = "".join(f"<li>{escape(n)}</li>" for n in names)
    html = (
        f'<!doctype html><html lang="{lang}"><body>'
        f"<p>{escape(greeting)}</p>"
        f"<p>{escape(body)}</p><ul>{items}</ul>"
        f'<p><a href="{escape(url)}">{escape(action)}</a></p>'
        f"<p>{escape(expiry)}<br>{escape(ignore)}</p>"
        f"<p>{escape(sent_by)}</p>"
        "</body></html>"
    )
    app.mailer.send(app.mailer.new_message(to, _("Confirm your subscription"), text, html, lang))
