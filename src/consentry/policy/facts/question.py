"""Facts about the question asked and the sender: channel, kind of message, sector."""

from __future__ import annotations

from consentry.domain.vocabulary import (
    CALL_EXEMPT_SECTORS,
    ELECTRONIC_MAIL,
    Activity,
    Channel,
    MessageKind,
)
from consentry.policy.facts.core import (
    Situation,
    fact,
)


@fact(
    "marketing_message",
    "A marketing message or call (commercial, ideal or charitable).",
    "Een marketingbericht of -gesprek (commercieel, ideëel of charitatief).",
    question=True,
)
def _marketing(x: Situation) -> bool:
    return x.q.activity is Activity.CONTACT and x.q.kind is MessageKind.MARKETING


@fact(
    "service_message",
    "A service message about an order, account or the relationship.",
    "Een servicebericht over een bestelling, account of de relatie zelf.",
    question=True,
)
def _service(x: Situation) -> bool:
    return x.q.activity is Activity.CONTACT and x.q.kind is MessageKind.SERVICE


@fact(
    "personal_message",
    "A purely personal, non-commercial one-to-one message written by a person (a reply "
    "to the person's own question).",
    "Een puur persoonlijk bericht zonder commercieel doel, door een mens aan één persoon "
    "geschreven (een antwoord op een eigen vraag van de persoon).",
    question=True,
)
def _personal(x: Situation) -> bool:
    return x.q.activity is Activity.CONTACT and x.q.kind is MessageKind.PERSONAL


@fact(
    "commercial_proposal",
    "A one-to-one commercial proposal written by a person (outside Tw 11.7, direct "
    "marketing under the GDPR).",
    "Een persoonlijk commercieel voorstel, door een mens aan één persoon geschreven (buiten "
    "art. 11.7 Tw, wel direct marketing onder de AVG).",
    question=True,
)
def _proposal(x: Situation) -> bool:
    return x.q.activity is Activity.CONTACT and x.q.kind is MessageKind.PROPOSAL


@fact(
    "profiling",
    "Profiling for marketing (segmentation on behaviour).",
    "Profilering voor marketing (segmentatie op gedrag).",
    question=True,
)
def _profiling(x: Situation) -> bool:
    return x.q.activity is Activity.PROFILING


@fact(
    "direct_marketing",
    "A marketing message, a one-to-one commercial proposal, or profiling for marketing.",
    "Een marketingbericht, een persoonlijk commercieel voorstel, of profilering voor marketing.",
    question=True,
)
def _dm(x: Situation) -> bool:
    return x.get("marketing_message") or x.get("commercial_proposal") or x.get("profiling")


@fact(
    "electronic",
    "Channel is e-mail, SMS, a messaging app or fax.",
    "Kanaal is e-mail, sms, een berichtenapp of fax.",
    question=True,
)
def _electronic(x: Situation) -> bool:
    return x.q.channel in (Channel.EMAIL, Channel.SMS, Channel.MESSAGING_APP, Channel.FAX)


@fact(
    "electronic_mail",
    "Channel is electronic mail in the ePrivacy sense (e-mail, SMS, app).",
    "Kanaal is elektronische post in de zin van ePrivacy (e-mail, sms, app).",
    question=True,
)
def _electronic_mail(x: Situation) -> bool:
    return x.q.channel in ELECTRONIC_MAIL


@fact(
    "automated_call",
    "Channel is an automated call (robot dialler).",
    "Kanaal is een geautomatiseerd gesprek (belcomputer).",
    question=True,
)
def _auto(x: Situation) -> bool:
    return x.q.channel is Channel.AUTOMATED_CALL


@fact(
    "live_call",
    "Channel is a live telephone call.",
    "Kanaal is een telefoongesprek door een mens.",
    question=True,
)
def _call(x: Situation) -> bool:
    return x.q.channel is Channel.PHONE


@fact("post", "Channel is addressed post.", "Kanaal is geadresseerde post.", question=True)
def _post(x: Situation) -> bool:
    return x.q.channel is Channel.POST


@fact(
    "sender_call_exempt",
    "The sender is a charity, charity lottery or press publisher.",
    "De afzender is een goed doel, goededoelenloterij of uitgever van kranten of tijdschriften.",
    question=True,
)
def _exempt(x: Situation) -> bool:
    return x.controller.sector in CALL_EXEMPT_SECTORS
