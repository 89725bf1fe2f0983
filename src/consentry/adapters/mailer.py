"""Sending e-mail over a real SMTP connection (smtplib), as configured in settings.

The message is written by `consentry.adapters.mime`, the builder campaigns use too.
Implements `services.ports.Mailer`; its error is the services' `MailError`.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.utils import make_msgid

from consentry.adapters.mime import Mail, address, mime
from consentry.services.errors import MailError
from consentry.settings import Settings

__all__ = ["MailError", "SmtpMailer"]


class SmtpMailer:
    """Sends one message per call over a fresh SMTP session."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings

    def sender(self) -> str:
        """The From header."""
        return address(self.s.mail_from_name, self.s.mail_from)

    def new_message(
        self, to: str, subject: str, text: str, html: str | None = None, lang: str = "nl"
    ) -> Mail:
        """A message from the configured sender."""
        domain = self.s.mail_from.rpartition("@")[2] or None
        return Mail(
            sender=self.sender(),
            to=to,
            subject=subject,
            text=text,
            html=html,
            message_id=make_msgid(domain=domain).strip("<>"),
            date=datetime.now(UTC),
            lang=lang,
        )

    def send(self, msg: Mail) -> None:
        """Deliver a message; MailError if the server fails."""
        s = self.s
        try:
            if s.smtp_ssl:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port, timeout=s.smtp_timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout)
            with conn:
                if s.smtp_starttls and not s.smtp_ssl:
                    conn.starttls(context=ssl.create_default_context())
                if s.smtp_user:
                    conn.login(s.smtp_user, s.smtp_password or "")
                # send_message did this before: a non-ASCII address needs the server's SMTPUTF8
                wide = not (s.mail_from + msg.to).isascii()
                conn.sendmail(s.mail_from, [msg.to], mime(msg), mail_options=["SMTPUTF8"] if wide else [])
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"could not send mail via {s.smtp_host}:{s.smtp_port}: {exc}") from exc
