"""Sending e-mail over a real SMTP connection (smtplib), as configured in settings."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from consentry.settings import Settings


class MailError(RuntimeError):
    """The SMTP server could not be reached or refused the message."""


class SmtpMailer:
    """Sends one message per call over a fresh SMTP session."""

    def __init__(self, settings: Settings) -> None:
        self.s = settings

    def sender(self) -> str:
        """The From header."""
        return formataddr((self.s.mail_from_name, self.s.mail_from))

    def new_message(self, to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
        """A message from the configured sender."""
        msg = EmailMessage()
        msg["From"] = self.sender()
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=self.s.mail_from.rpartition("@")[2] or None)
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
        return msg

    def send(self, msg: EmailMessage) -> None:
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
                conn.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"could not send mail via {s.smtp_host}:{s.smtp_port}: {exc}") from exc
