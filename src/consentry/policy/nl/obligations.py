"""What a message must do or carry, by stable id; and the conditions rows of the table share."""

from __future__ import annotations

from consentry.policy.rules import Obligation

OBLIGATIONS = {
    o.id: o
    for o in (
        Obligation(
            "opt-out-in-every-message",
            "Neem in elk bericht een duidelijke, kosteloze afmeldmogelijkheid op.",
            "Include a clear, free way to opt out in every message.",
        ),
        Obligation(
            "sender-identity",
            "Maak de werkelijke identiteit van de afzender duidelijk.",
            "Show the sender's real identity.",
        ),
        Obligation(
            "opt-out-address",
            "Geef een werkend adres waarop de ontvanger zich kan afmelden.",
            "Give a working address where the recipient can opt out.",
        ),
        Obligation(
            "mention-right-to-object",
            "Wijs uiterlijk bij het eerste contact uitdrukkelijk op het recht van bezwaar.",
            "Point out the right to object explicitly, at the first contact at the latest.",
        ),
        Obligation(
            "offer-right-to-object-in-call",
            "Bied in het gesprek de mogelijkheid van bezwaar tegen verdere gesprekken.",
            "Offer the right to object to further calls during the call.",
        ),
        Obligation(
            "suppress-on-objection",
            "Blokkeer het nummer direct als de persoon bezwaar maakt.",
            "Suppress the number at once when the person objects.",
        ),
        Obligation(
            "no-hidden-number",
            "Bel niet met een afgeschermd nummer.",
            "Do not call from a hidden number.",
        ),
        Obligation(
            "art14-notice",
            "Informeer de persoon (art. 14 AVG) over de verwerking en de bron, binnen een maand "
            "en uiterlijk bij het eerste contact.",
            "Inform the person (GDPR Art. 14) of the processing and the source, within one month "
            "and at the first contact at the latest.",
        ),
        Obligation(
            "profiling-notice",
            "Informeer de persoon over de profilering en laat bezwaar op elk moment toe.",
            "Inform the person of the profiling and allow objection at any time.",
        ),
        Obligation(
            "honour-objection",
            "Verwerk bezwaren (art. 21 AVG) en stuur daarna niets meer.",
            "Honour objections (GDPR Art. 21) and send nothing afterwards.",
        ),
        Obligation(
            "legitimate-interest-assessment",
            "Leg de belangenafweging vast waarop het gerechtvaardigd belang rust (art. 6(1)(f) AVG, "
            "overweging 47).",
            "Record the balancing test the legitimate interest rests on (GDPR Art. 6(1)(f), recital 47).",
        ),
        Obligation(
            "postfilter-mention",
            "Vermeld op of in de geadresseerde reclame dat de ontvanger zich via postfilter.nl kan "
            "afmelden voor reclamepost.",
            "State on or in the addressed advertising that the recipient can opt out of advertising "
            "mail through postfilter.nl.",
        ),
        Obligation(
            "check-local-law",
            "Volg de regels van het land van de ontvanger.",
            "Follow the rules of the recipient's country.",
        ),
    )
}


EM = ("marketing_message", "electronic")
CALL = ("marketing_message", "live_call", "natural_person")
#: EU-GDPR-01 has no row of its own: every allow names its basis, and an allow on
#: legitimate interest carries the balancing test GDPR Art. 6(1)(f) asks for.
LI_OBLIGATIONS = ("mention-right-to-object", "legitimate-interest-assessment")
