"""A campaign's message before it goes: as a recipient would get it, and as a test in one's own inbox.

The preview is written for the first person the campaign may reach (in id order),
with that person's name, attributes and the obligations the rules attach to them
(the Art. 14 notice, the right to object); while nobody may be reached yet, for a
made-up person. Its personal links are made for a contact point that does not
exist: clicking one in a preview or a test unsubscribes nobody. A test message is
that same message, sent through the configured SMTP server to the address asked
for and marked as a test in its subject.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from consentry.adapters.mime import address
from consentry.domain.campaigns import Campaign
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import PointKind, Source
from consentry.policy.facts import Question
from consentry.policy.rules import Decision, evaluate
from consentry.services import audience, campaigns, states
from consentry.services.app import App
from consentry.services.compose import Composed, Composer
from consentry.services.errors import InputError
from consentry.services.setup import controller

#: The contact point id of the made-up person and of test messages; no point has it.
NOBODY = "cp_preview"
EXAMPLE_VALUES = {PointKind.EMAIL: "jan.jansen@example.nl", PointKind.PHONE: "+31612345678"}
TEST_MARK = "[TEST]"


@dataclass(frozen=True, slots=True)
class Preview:
    """A campaign's message as one recipient gets it."""

    campaign: Campaign
    #: Whom it is written for (an address or number) and their name.
    recipient: str
    name: str | None
    #: True when nobody may be reached yet and the recipient is made up.
    example: bool
    #: The From line (e-mail) or the sender's name.
    sender: str
    composed: Composed


def preview(app: App, key: str, lang: str | None = None) -> Preview:
    """The message for the campaign's first reachable recipient (in `lang`, if the campaign has it)."""
    c = campaigns.get(app, key)
    state, decision, purpose, example = _recipient(app, c)
    attributes = {**state.attributes, "language": lang} if lang is not None else state.attributes
    # The recipient's words and obligations, but links that name nobody: a preview's link
    # copied or clicked by mistake unsubscribes no one.
    state = replace(state, id=NOBODY, attributes=attributes)
    composed = Composer(app, c, purpose).compose(state, decision)
    return Preview(c, state.value, state.display_name, example, _sender(app, c), composed)


def send_test(app: App, key: str, to: str, lang: str | None = None) -> Preview:
    """Send the preview's message to `to` through the configured SMTP server; MailError when it fails."""
    c = campaigns.get(app, key)
    state, decision, purpose, example = _recipient(app, c)
    attributes = {**state.attributes, "language": lang} if lang is not None else state.attributes
    state = replace(state, id=NOBODY, attributes=attributes)
    composed = Composer(app, c, purpose).compose(state, decision)
    subject = f"{TEST_MARK} {composed.subject or c.name}"
    mail = app.mailer.new_message(to, subject, composed.text, composed.html, composed.lang)
    mail = replace(mail, sender=_sender(app, c), reply_to=c.sender.reply_to)
    app.mailer.send(mail)
    return Preview(c, to, state.display_name, example, mail.sender, composed)


def _sender(app: App, c: Campaign) -> str:
    return address(c.sender.name, c.sender.email or app.settings.mail_from)


def _recipient(app: App, c: Campaign) -> tuple[ContactState, Decision, Purpose, bool]:
    target = audience.Target(c.channel, c.purpose, c.kind)
    first = next(audience.members(app, target, c.selection, verdict="allow", limit=1), None)
    now = app.clock.now()
    with app.store.reader() as r:
        purpose = r.purpose(c.purpose)
        if purpose is None:
            raise InputError("purpose", f"unknown purpose {c.purpose!r}")
        ctrl = controller(r)
        if first is not None:
            state = states.load(r, first.contact_point_id, as_of=now)
        else:
            kind = target.point_kind
            value = EXAMPLE_VALUES.get(kind, "Voorbeeldstraat 1, 1234 AB Amsterdam")
            state = ContactState(
                id=NOBODY, kind=kind, value=value, display_name="Jan Jansen", source=Source.WEB_FORM
            )
    decision = evaluate(app.pack, state, Question(c.channel, purpose, now, c.kind), ctrl)
    return state, decision, purpose, first is None
