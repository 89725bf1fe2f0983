"""The table's first rows: absolute denials, then messages outside direct marketing."""

from __future__ import annotations

from consentry.domain.vocabulary import Basis
from consentry.policy.nl.dates import (
    GDPR,
)
from consentry.policy.nl.obligations import LI_OBLIGATIONS
from consentry.policy.rules import Authority, Effect, Rule

ROWS: tuple[Rule, ...] = (
    # -- absolute denials: nothing below may override these ------------------------------
    Rule(
        "EU-GDPR-09",
        ("erased",),
        Effect.DENY,
        "GDPR Art. 17, 5(1)(c)(e)",
        "Dit contactpunt is gewist. Alleen een blokkeringsregistratie blijft bestaan, zodat de "
        "persoon nooit meer benaderd wordt: uitgeschreven is uitgeschreven.",
        "This contact point was erased. Only a suppression record remains, so the person is "
        "never contacted again: unsubscribed means unsubscribed.",
    ),
    Rule(
        "EU-GDPR-09.prior",
        ("direct_marketing", "prior_suppression", "!fresh_opt_in"),
        Effect.DENY,
        "GDPR Art. 17, 21(3), 7(3); Tw 11.7(1) (uitgeschreven = uitgeschreven, seed 004)",
        "Dit adres of nummer hoorde bij een contactpunt dat is gewist; de blokkeringsregistratie "
        "daarvan blijft gelden, ook nu het opnieuw is ingevoerd, aangemeld of geïmporteerd: "
        "uitgeschreven is uitgeschreven. Alleen een nieuwe toestemming van de persoon zelf, "
        "daarna gegeven en bevestigd met dubbele opt-in, heft de blokkering op.",
        "This address or number belonged to a contact point that was erased; its suppression "
        "record still holds, also now that it was entered, signed up or imported again: "
        "unsubscribed means unsubscribed. Only a fresh consent from the person, given after "
        "that and confirmed by double opt-in, lifts the suppression.",
    ),
    Rule(
        "EU-GDPR-09.lifted",
        ("direct_marketing", "prior_suppression", "fresh_opt_in"),
        Effect.OBLIGE,
        "GDPR Art. 7(1), 17, 21(3)",
        "Dit adres of nummer staat op de blokkeerlijst van een eerder gewist contactpunt. De "
        "persoon heeft daarna zelf opnieuw toestemming gegeven voor dit doel en kanaal en die "
        "bevestigd met dubbele opt-in; dat heft de blokkering hiervoor op.",
        "This address or number is on the suppression list of a contact point erased earlier. "
        "The person has since given consent again for this purpose and channel and confirmed "
        "it by double opt-in; that lifts the suppression for it.",
    ),
    Rule(
        "EU-GDPR-04.proposal",
        ("commercial_proposal", "objected_dm"),
        Effect.DENY,
        "GDPR Art. 21(2)-(3) (before 2018-05-25: Wbp art. 41)",
        "Dit is een persoonlijk commercieel voorstel: buiten art. 11.7 Tw, maar wel direct "
        "marketing onder de AVG. De persoon heeft daartegen bezwaar gemaakt, dus ook een "
        "individueel geschreven aanbod mag niet. (Een puur persoonlijk antwoord zonder aanbod "
        "mag wel.)",
        "This is a one-to-one commercial proposal: outside Tw 11.7, but direct marketing under "
        "the GDPR. The person objected to that, so an individually written offer is not allowed "
        "either. (A purely personal reply without an offer is.)",
    ),
    Rule(
        "EU-GDPR-04",
        ("direct_marketing", "objected_dm"),
        Effect.DENY,
        "GDPR Art. 21(2)-(3) (before 2018-05-25: Wbp art. 41)",
        "De persoon heeft bezwaar gemaakt tegen direct marketing. Dat bezwaar is absoluut en geldt "
        "voor de persoon: geen marketing en geen profilering daarvoor, via geen enkel kanaal en "
        "op geen enkel contactpunt van die persoon.",
        "The person objected to direct marketing. That objection is absolute and belongs to the "
        "person: no marketing and no profiling for it, on any channel and any contact point of "
        "that person.",
    ),
    Rule(
        "EU-GDPR-05",
        ("profiling", "objected_profiling"),
        Effect.DENY,
        "GDPR Art. 21, 22",
        "De persoon heeft bezwaar gemaakt tegen profilering: niet segmenteren op gedrag, voor "
        "geen enkel contactpunt van die persoon.",
        "The person objected to profiling: no segmentation on behaviour, for any contact point "
        "of that person.",
    ),
    Rule(
        "EU-GDPR-18",
        ("direct_marketing", "restricted"),
        Effect.DENY,
        "GDPR Art. 18(1)-(3)",
        "De persoon heeft gevraagd de verwerking van de gegevens te beperken. Zolang die beperking "
        "niet is opgeheven worden de gegevens alleen bewaard: geen marketing en geen profilering, "
        "via geen enkel kanaal. De persoon hoort het voordat de beperking wordt opgeheven.",
        "The person asked for processing of their data to be restricted. Until the restriction is "
        "lifted the data are only stored: no marketing and no profiling, on any channel. The "
        "person is told before the restriction is lifted.",
    ),
    Rule(
        "OPS-SUPP-01",
        ("suppressed", "!post", "!live_call"),
        Effect.DENY,
        "consentry policy; a spam complaint counts as withdrawal, GDPR Art. 7(3)",
        "Het adres is onbestelbaar gebleken of de persoon heeft een spamklacht gedaan; het staat "
        "op de blokkeerlijst.",
        "The address hard-bounced or the person reported spam; it is suppressed.",
        authority=Authority.POLICY,
    ),
    Rule(
        "EU-GDPR-07",
        (
            "direct_marketing",
            "third_party_list_unproven",
            "!consent_collected_by_sender",
            "!customer_exception",
        ),
        Effect.DENY,
        "GDPR Art. 5(2), 7(1), 14; cured by a later own sale: CJEU C-654/23",
        "De gegevens komen van een lijst van derden zonder bewijs dat die ze voor dit doel mocht "
        "doorgeven. Zonder dat bewijs mogen ze niet voor marketing worden gebruikt, tenzij de "
        "persoon zelf toestemming gaf of het adres later zelf aan de afzender gaf bij een "
        "verkoop van soortgelijke producten met afmeldmogelijkheid; geen van beide is vastgelegd.",
        "The data came from a third party's list without proof that it could pass them on for "
        "this purpose. Without that proof they may not be used for marketing, unless the person "
        "consented to the sender, or later gave the address to the sender itself in a sale of "
        "similar products with an opt-out offered; neither is recorded.",
        in_force_from=GDPR,
    ),
    # -- messages outside direct marketing ----------------------------------------------
    Rule(
        "NL-EM-08",
        ("service_message",),
        Effect.ALLOW,
        "Tw 11.7 scope; CJEU C-654/23",
        "Een servicebericht zonder commercieel doel valt buiten art. 11.7 Tw. Let op: wie er "
        "reclame aan toevoegt, maakt er een marketingbericht van.",
        "A service message with no commercial aim is outside Tw 11.7. Adding promotion to it "
        "makes it a marketing message.",
        basis=Basis.CONTRACT,
    ),
    Rule(
        "NL-EM-07",
        ("personal_message", "prior_contact"),
        Effect.ALLOW,
        "ACM guidance on e-mail",
        "Een puur persoonlijk bericht zonder commercieel aanbod, door een mens geschreven aan "
        "iemand met wie al contact was, is toegestaan, ook na bezwaar tegen direct marketing: "
        "het is geen direct marketing. De AVG blijft gelden.",
        "A purely personal message with no commercial offer, written by a person to someone the "
        "sender was already in touch with, is allowed, even after an objection to direct "
        "marketing: it is not direct marketing. The GDPR still applies.",
        basis=Basis.LEGITIMATE_INTEREST,
    ),
    Rule(
        "NL-EM-07.review",
        ("personal_message",),
        Effect.REVIEW,
        "ACM guidance on e-mail",
        "Een persoonlijk bericht aan iemand zonder eerder contact: beoordeel of het echt een "
        "individueel bericht is en geen verkapte marketing.",
        "A personal message to someone with no prior contact: judge whether it is really an "
        "individual message and not disguised marketing.",
    ),
    Rule(
        "NL-EM-07.proposal",
        ("commercial_proposal", "prior_contact", "!live_call", "!automated_call"),
        Effect.ALLOW,
        "ACM guidance on e-mail; GDPR Art. 6(1)(f), 21(2)-(3)",
        "Een persoonlijk commercieel voorstel, door een mens geschreven aan iemand met wie al "
        "contact was: buiten art. 11.7 Tw, maar direct marketing onder de AVG. Toegestaan op "
        "gerechtvaardigd belang zolang de persoon geen bezwaar maakt.",
        "A one-to-one commercial proposal written by a person to someone the sender was already "
        "in touch with: outside Tw 11.7, but direct marketing under the GDPR. Allowed on "
        "legitimate interest as long as the person does not object.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=LI_OBLIGATIONS,
    ),
    Rule(
        "NL-EM-07.proposal.review",
        ("commercial_proposal", "!live_call", "!automated_call"),
        Effect.REVIEW,
        "ACM guidance on e-mail; GDPR Art. 21",
        "Een persoonlijk commercieel voorstel aan iemand zonder eerder contact: beoordeel of het "
        "echt een individueel bericht is en geen verkapte marketing (dan geldt art. 11.7 Tw).",
        "A one-to-one commercial proposal to someone with no prior contact: judge whether it is "
        "really an individual message and not disguised marketing (then Tw 11.7 applies).",
    ),
)
