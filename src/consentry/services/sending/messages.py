"""Writing one claimed message out as the transport carries it (e-mail bytes, or a webhook's text)."""

from __future__ import annotations

from consentry.adapters.mime import CHUNKS_KEPT, Mail, address, mime
from consentry.adapters.smtp_pipeline import DkimSigner
from consentry.adapters.transport import Outgoing
from consentry.domain.campaigns import Campaign
from consentry.domain.memo import Memo
from consentry.domain.purposes import Purpose
from consentry.domain.vocabulary import Channel
from consentry.services.app import App
from consentry.services.compose import Composer
from consentry.services.sending.model import Job


class Letters:
    """A campaign's messages for its transport: composed, and for e-mail written as MIME and signed."""

    def __init__(self, app: App, c: Campaign, purpose: Purpose) -> None:
        self.app, self.c = app, c
        self.composer = Composer(app, c, purpose)
        self.dkim = DkimSigner.from_settings(app.settings) if c.channel is Channel.EMAIL else None
        self.domain = (c.sender.email or app.settings.mail_from).rpartition("@")[2] or "localhost"
        self.sender = c.sender.email or app.settings.mail_from
        self.mailto = app.settings.unsubscribe_mailto or self.sender
        self.from_ = address(c.sender.name, self.sender)
        self._chunks: Memo[str, bytes] = Memo(CHUNKS_KEPT)  # this send's encoded chunks (`mime`)

    def outgoing(self, job: Job) -> Outgoing:
        """The message for one person, as the transport carries it; RenderError when it cannot be written."""
        c = self.c
        composed = self.composer.compose(job.state, job.decision, job.notice_again)
        key = f"{c.key}.{job.point}@{self.domain}"
        if c.channel is not Channel.EMAIL:
            data = composed.text.encode()
            return Outgoing(key, job.state.value, "", data, {"campaign": c.key, "contact_point": job.point})
        token = composed.unsubscribe_url.rpartition("/")[2]
        headers = [
            (
                "List-Unsubscribe",
                f"<{composed.unsubscribe_url}>, <mailto:{self.mailto}?subject=unsubscribe%20{token}>",
            ),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
        mail = Mail(
            sender=self.from_,
            to=job.state.value,
            subject=composed.subject,
            text=composed.text,
            html=composed.html,
            message_id=key,
            date=self.app.clock.now(),
            lang=composed.lang,
            reply_to=c.sender.reply_to,
            extra_headers=headers,
        )
        data = mime(mail, self._chunks)
        if self.dkim is not None:
            data = self.dkim.sign(data)
        return Outgoing(key, job.state.value, self.sender, data, {"campaign": c.key})
