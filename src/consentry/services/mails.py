"""The e-mails the public flows send. They carry no advertising."""

from __future__ import annotations

from html import escape

from consentry.bootstrap import App
from consentry.domain.purposes import Purpose
from consentry.i18n import t


def send_confirmation(app: App, to: str, purposes: list[Purpose], url: str, lang: str) -> None:
    """Mail the double opt-in confirmation link (plain text and HTML)."""
    days = app.settings.doi_expiry_days
    sender = app.settings.mail_from_name
    names = [p.name_en if lang == "en" else p.name_nl for p in purposes]
    text = "\n".join(
        [
            t(lang, "mail.confirm.greeting"),
            "",
            t(lang, "mail.confirm.body"),
            "",
            *(f"  - {n}" for n in names),
            "",
            f"{t(lang, 'mail.confirm.action')}: {url}",
            "",
            t(lang, "mail.confirm.expiry", days=days),
            t(lang, "mail.confirm.ignore"),
            "",
            t(lang, "mail.sender", sender=sender),
        ]
    )
    items = "".join(f"<li>{escape(n)}</li>" for n in names)
    html = (
        f'<!doctype html><html lang="{lang}"><body>'
        f"<p>{escape(t(lang, 'mail.confirm.greeting'))}</p>"
        f"<p>{escape(t(lang, 'mail.confirm.body'))}</p><ul>{items}</ul>"
        f'<p><a href="{escape(url)}">{escape(t(lang, "mail.confirm.action"))}</a></p>'
        f"<p>{escape(t(lang, 'mail.confirm.expiry', days=days))}<br>"
        f"{escape(t(lang, 'mail.confirm.ignore'))}</p>"
        f"<p>{escape(t(lang, 'mail.sender', sender=sender))}</p>"
        "</body></html>"
    )
    app.mailer.send(app.mailer.new_message(to, t(lang, "mail.confirm.subject"), text, html, lang))
