"""The `nl` rule pack: Telecommunicatiewet art. 11.7 and the GDPR (AVG), as a table.

Read it top to bottom; `consentry.policy.rules` says how it is evaluated. Rule ids
follow RULES.md; a suffix (`.listed`, `.review` ...) marks a second row of the
same rule with another outcome. Dates are Dutch calendar days, both inclusive.
"""

from __future__ import annotations

from datetime import date

from consentry.domain.vocabulary import Basis, ObjectionScope
from consentry.policy.facts import (
    Situation,
    day_both,
    expired_consent,
    qualifying_sale,
    similar_sale,
    window_end,
)
from consentry.policy.rules import Authority, Detail, Effect, Obligation, Rule, RulePack

#: Tw 11.7 opt-in for electronic messages to natural persons (spam ban) in force.
TW_OPT_IN = date(2004, 5, 19)
#: Opt-in extended to legal persons.
TW_LEGAL_PERSONS = date(2009, 10, 1)
#: GDPR applies.
GDPR = date(2018, 5, 25)
#: Opt-in for telemarketing to natural persons; Bel-me-niet Register closed (Stb. 2021, 103).
CALLS_OPT_IN = date(2021, 7, 1)
#: Customer exception for calls ends (except charities, lotteries, press publishers).
CALLS_NO_CUSTOMER_EXCEPTION = date(2026, 7, 1)
#: The Code voor het gebruik van Postfilter 2021 (the Postfilter mention on addressed
#: advertising). 1 April 2021 is the date DDMA and mail houses announced it in force
#: from; the Code's own commencement clause was not checked.
POSTFILTER_CODE_2021 = date(2021, 4, 1)


def _day_before(d: date) -> date:
    return date.fromordinal(d.toordinal() - 1)


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

_EM = ("marketing_message", "electronic")
_CALL = ("marketing_message", "live_call", "natural_person")
#: EU-GDPR-01 has no row of its own: every allow names its basis, and an allow on
#: legitimate interest carries the balancing test GDPR Art. 6(1)(f) asks for.
_LI_OBLIGATIONS = ("mention-right-to-object", "legitimate-interest-assessment")

RULES: tuple[Rule, ...] = (
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
        obligations=_LI_OBLIGATIONS,
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
    # -- grounds that allow direct marketing --------------------------------------------
    Rule(
        "EU-GDPR-03",
        ("marketing_message", "opted_out", "!consent_valid"),
        Effect.DENY,
        "GDPR Art. 7(3); Tw 11.7",
        "De persoon heeft zich voor dit doel en kanaal afgemeld of de toestemming ingetrokken, "
        "en heeft daarna niet opnieuw toestemming gegeven.",
        "The person unsubscribed from or withdrew consent for this purpose and channel, and has "
        "not consented again since.",
    ),
    Rule(
        "EU-GDPR-02",
        ("direct_marketing", "consent_valid"),
        Effect.ALLOW,
        "GDPR Art. 4(11), 6(1)(a), 7; Tw 11.7(1)",
        "Er is een geldige, aantoonbare toestemming voor dit doel en dit kanaal.",
        "There is a valid, provable consent for this purpose and this channel.",
        basis=Basis.CONSENT,
    ),
    Rule(
        "EU-GDPR-10",
        ("profiling",),
        Effect.ALLOW,
        "GDPR Art. 6(1)(f), 13(2)(f), 21",
        "Profilering voor marketing kan op gerechtvaardigd belang, mits de persoon is "
        "geïnformeerd en op elk moment bezwaar kan maken.",
        "Profiling for marketing can rest on legitimate interest, provided the person is informed "
        "and can object at any time.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=("profiling-notice", "legitimate-interest-assessment"),
    ),
    # electronic messages
    Rule(
        "NL-EM-02",
        ("marketing_message", "electronic_mail", "customer_exception"),
        Effect.ALLOW,
        "Tw 11.7, customer exception; ePrivacy Directive 2002/58 art. 13(2)",
        "Klantuitzondering: de afzender kreeg het adres zelf bij een verkoop, biedt soortgelijke "
        "eigen producten aan, en bood toen een kosteloze afmeldmogelijkheid die niet is gebruikt.",
        "Customer exception: the sender obtained the address itself in a sale, promotes its own "
        "similar products, and offered a free opt-out then that was not used.",
        basis=Basis.CUSTOMER_EXCEPTION,
        obligations=("opt-out-in-every-message",),
        in_force_from=TW_OPT_IN,
    ),
    Rule(
        "NL-EM-00",
        (*_EM, "organisation_point"),
        Effect.ALLOW,
        "Tw 11.7 (old regime, until 2009-10-01)",
        "Vóór 1 oktober 2009 gold voor e-mail aan rechtspersonen geen opt-in: toegestaan zolang "
        "zij zich niet afmeldden.",
        "Before 1 October 2009 e-mail to legal persons needed no opt-in: allowed as long as they "
        "had not opted out.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=("opt-out-in-every-message",),
        in_force_until=_day_before(TW_LEGAL_PERSONS),
    ),
    Rule(
        "NL-EM-03",
        (*_EM, "business_party", "published_for_offers"),
        Effect.ALLOW,
        "Tw 11.7, B2B exception",
        "Het adres is door de organisatie zelf aangewezen en gepubliceerd om aanbiedingen te "
        "ontvangen (bijv. offertes@).",
        "The organisation itself designated and published this address for receiving offers "
        "(e.g. offertes@).",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=_LI_OBLIGATIONS,
        in_force_from=TW_LEGAL_PERSONS,
    ),
    Rule(
        "NL-EM-03.review",
        (*_EM, "business_party", "published_for_offers_unproven"),
        Effect.REVIEW,
        "Tw 11.7, B2B exception",
        "Er wordt gesteld dat dit adres is gepubliceerd voor aanbiedingen, maar het bewijs "
        "ontbreekt. Een algemeen info@-adres is niet zo'n adres. Leg de vindplaats vast.",
        "The address is said to be published for offers, but the evidence is missing. A general "
        "info@ address is not such an address. Record where it was published.",
        in_force_from=TW_LEGAL_PERSONS,
    ),
    Rule(
        "NL-EM-04",
        (*_EM, "business_party", "outside_eea", "local_rules_met"),
        Effect.ALLOW,
        "Tw 11.7, B2B exception (b)",
        "Een organisatie buiten de EER, en de regels van dat land zijn nagegaan en nageleefd.",
        "An organisation outside the EEA, and that country's rules were checked and are met.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=(*_LI_OBLIGATIONS, "check-local-law"),
        in_force_from=TW_LEGAL_PERSONS,
    ),
    Rule(
        "NL-EM-04.review",
        (*_EM, "business_party", "outside_eea"),
        Effect.REVIEW,
        "Tw 11.7, B2B exception (b)",
        "Een organisatie buiten de EER: toegestaan als de regels van dat land worden nageleefd. "
        "Dat is niet vastgelegd; laat het beoordelen.",
        "An organisation outside the EEA: allowed if that country's rules are met. That has not "
        "been recorded; have it judged.",
        in_force_from=TW_LEGAL_PERSONS,
    ),
    # live calls
    Rule(
        "NL-TM-03",
        ("marketing_message", "live_call", "organisation_point"),
        Effect.ALLOW,
        "Tw 11.7 scope; GDPR Art. 6(1)(f), 21",
        "Een gesprek door een mens naar het nummer van een organisatie valt niet onder de "
        "opt-in van art. 11.7 Tw. De AVG geldt voor de persoon aan de lijn: gerechtvaardigd "
        "belang en recht van bezwaar.",
        "A human call to an organisation's number is outside Tw 11.7's opt-in. The GDPR applies "
        "to the person on the line: legitimate interest and the right to object.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=_LI_OBLIGATIONS,
    ),
    Rule(
        "NL-TM-00.listed",
        (*_CALL, "listed_bel_me_niet", "!customer_within_3_years"),
        Effect.DENY,
        "Tw 11.7 (old regime); Bel-me-niet Register; 3 years: Code Telemarketing",
        "Vóór 1 juli 2021: het nummer stond in het Bel-me-niet Register en de persoon was in de "
        "drie jaar daarvoor geen klant (gerekend vanaf het einde van het contract of de laatste "
        "aankoop).",
        "Before 1 July 2021: the number was on the Bel-me-niet Register and the person had not "
        "been a customer in the three years before (counted from the end of the contract or the "
        "last purchase).",
        in_force_until=_day_before(CALLS_OPT_IN),
    ),
    Rule(
        "NL-TM-00",
        _CALL,
        Effect.ALLOW,
        "Tw 11.7 (old regime, opt-out)",
        "Vóór 1 juli 2021 gold voor telemarketing een opt-out: bellen mocht, tenzij het nummer "
        "in het Bel-me-niet Register stond (klanten tot drie jaar uitgezonderd) of de persoon "
        "bezwaar had gemaakt.",
        "Before 1 July 2021 telemarketing was opt-out: calling was allowed unless the number was "
        "on the Bel-me-niet Register (customers of the last three years excepted) or the person "
        "had objected.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=_LI_OBLIGATIONS,
        in_force_until=_day_before(CALLS_OPT_IN),
    ),
    Rule(
        "NL-TM-02",
        (*_CALL, "customer_exception", "customer_within_3_years"),
        Effect.ALLOW,
        "Tw 11.7 as amended 2021 (Stb. 2021, 103), customer exception; 3-year limit: Code Telemarketing",
        "Klantuitzondering voor telefoon (2021-2026): de afzender kreeg het nummer zelf bij een "
        "verkoop en bood toen een kosteloze, eenvoudige afmeldmogelijkheid die niet is gebruikt; "
        "het gesprek gaat over soortgelijke producten, binnen drie jaar na het einde van het "
        "contract of de laatste aankoop (die termijn komt uit de Code Telemarketing, "
        "zelfregulering).",
        "Customer exception for calls (2021-2026): the sender obtained the number itself in a "
        "sale and offered a free, easy opt-out then that was not used; the call is about similar "
        "products, within three years after the contract ended or the last purchase (that limit "
        "comes from the Code Telemarketing, self-regulation).",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=_LI_OBLIGATIONS,
        in_force_from=CALLS_OPT_IN,
        in_force_until=_day_before(CALLS_NO_CUSTOMER_EXCEPTION),
        authority=Authority.SELF_REGULATION,
    ),
    Rule(
        "NL-TM-02b.exempt",
        (*_CALL, "sender_call_exempt", "customer_exception", "customer_within_3_years"),
        Effect.ALLOW,
        "Tw 11.7 as amended, in force 2026-07-01, customer exception; 3-year limit: Code Telemarketing",
        "Vanaf 1 juli 2026 mogen alleen goede doelen, goededoelenloterijen en uitgevers van "
        "kranten en tijdschriften hun (ex-)klanten nog zonder toestemming bellen: als zij het "
        "nummer zelf bij een verkoop kregen en toen een kosteloze afmeldmogelijkheid boden, over "
        "soortgelijke producten, binnen drie jaar na het einde van het contract of de laatste "
        "aankoop.",
        "From 1 July 2026 only charities, charity lotteries and publishers of newspapers and "
        "magazines may still call their (ex-)customers without consent: where they obtained the "
        "number themselves in a sale and offered a free opt-out then, about similar products, "
        "within three years after the contract ended or the last purchase.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=_LI_OBLIGATIONS,
        in_force_from=CALLS_NO_CUSTOMER_EXCEPTION,
        authority=Authority.SELF_REGULATION,
    ),
    # an expired consent: after every ground that could still allow without it
    Rule(
        "EU-GDPR-03.expired",
        ("marketing_message", "consent_expired", "!consent_valid", "!post"),
        Effect.DENY,
        "GDPR Art. 7(1); ISO/IEC TS 27560 (validity duration)",
        "De toestemming voor dit doel en kanaal gold voor beperkte tijd en is verlopen. Een "
        "verlopen toestemming is geen toestemming: vraag opnieuw.",
        "The consent for this purpose and channel was given for a limited time and has expired. "
        "An expired consent is not a consent: ask again.",
    ),
    # automated calls
    Rule(
        "NL-TM-05",
        ("marketing_message", "automated_call"),
        Effect.DENY,
        "Tw 11.7(1)",
        "Geautomatiseerde marketinggesprekken (belcomputer) mogen alleen met voorafgaande "
        "toestemming, aan wie dan ook.",
        "Automated marketing calls (robot dialler) need prior consent, whoever is called.",
        in_force_from=TW_OPT_IN,
    ),
    # live calls that may not be made
    Rule(
        "NL-TM-02b",
        (*_CALL, "similar_purchase", "!sender_call_exempt"),
        Effect.DENY,
        "Tw 11.7 as amended, in force 2026-07-01",
        "Sinds 1 juli 2026 geldt de klantuitzondering voor telefoon niet meer: ook (ex-)klanten "
        "alleen bellen met aantoonbare toestemming.",
        "Since 1 July 2026 the customer exception for calls is gone: customers and ex-customers "
        "too may only be called with provable consent.",
        in_force_from=CALLS_NO_CUSTOMER_EXCEPTION,
    ),
    Rule(
        "NL-TM-02.unmet",
        (*_CALL, "similar_purchase", "!customer_exception"),
        Effect.DENY,
        "Tw 11.7 as amended 2021 (Stb. 2021, 103), customer exception",
        "De persoon kocht soortgelijke producten, maar de klantuitzondering voor telefoon geldt "
        "alleen als de afzender het nummer zelf bij de verkoop kreeg en toen een kosteloze, "
        "eenvoudige afmeldmogelijkheid bood. Zonder dat is toestemming nodig.",
        "The person bought similar products, but the customer exception for calls applies only "
        "where the sender obtained the number itself in the sale and offered a free, easy opt-out "
        "then. Without that, consent is needed.",
        in_force_from=CALLS_OPT_IN,
    ),
    Rule(
        "NL-TM-02.expired",
        (*_CALL, "customer_exception", "!customer_within_3_years"),
        Effect.DENY,
        "Code Telemarketing (3 years); Tw 11.7 as amended 2021 (Stb. 2021, 103)",
        "De klantuitzondering voor telefoon duurt tot drie jaar na het einde van het contract of "
        "de laatste aankoop (Code Telemarketing, zelfregulering). Die termijn is voorbij: bellen "
        "alleen met toestemming.",
        "The customer exception for calls lasts three years after the contract ended or the last "
        "purchase (Code Telemarketing, self-regulation). That time has passed: call only with "
        "consent.",
        in_force_from=CALLS_OPT_IN,
        authority=Authority.SELF_REGULATION,
    ),
    Rule(
        "NL-TM-01",
        _CALL,
        Effect.DENY,
        "Tw 11.7 (Stb. 2021, 103)",
        "Sinds 1 juli 2021 mag een consument of zzp'er alleen gebeld worden voor marketing met "
        "voorafgaande toestemming die de beller kan aantonen.",
        "Since 1 July 2021 a consumer or sole trader may only be called for marketing with prior "
        "consent the caller can prove.",
        in_force_from=CALLS_OPT_IN,
    ),
    # post
    Rule(
        "NL-POST-02",
        ("marketing_message", "post", "organisation_point"),
        Effect.ALLOW,
        "seed 002; GDPR Art. 6(1)(f)",
        'Post aan een afdeling van een organisatie ("t.a.v. de directie") is toegestaan.',
        'Post to a department of an organisation ("attn. the board") is allowed.',
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=("honour-objection", *_LI_OBLIGATIONS),
    ),
    Rule(
        "NL-POST-01.deceased",
        ("marketing_message", "post", "!organisation_point", "listed_deceased"),
        Effect.DENY,
        "Code Postfilter (self-regulation): Nationaal Overledenenregister, ten years",
        "Naam en adres staan in het Nationaal Overledenenregister: geen geadresseerde reclame aan "
        "deze overledene sturen, ook niet als die klant was.",
        "The name and address are on the Nationaal Overledenenregister: send no addressed "
        "advertising to the deceased, even a customer.",
        authority=Authority.SELF_REGULATION,
    ),
    Rule(
        "NL-POST-01.postfilter",
        ("marketing_message", "post", "consumer", "!customer_ever", "listed_postfilter"),
        Effect.DENY,
        "Code Postfilter (self-regulation); GDPR Art. 21",
        "Het adres staat in het Postfilter voor de sector van de afzender, en de persoon is en was "
        "geen klant of donateur: geen geadresseerde reclame sturen.",
        "The address is on the Postfilter for the sender's sector, and the person is not and was "
        "not a customer or donor: send no addressed advertising.",
        authority=Authority.SELF_REGULATION,
    ),
    Rule(
        "NL-POST-01",
        ("marketing_message", "post"),
        Effect.ALLOW,
        "GDPR Art. 6(1)(f), recital 47, Art. 21",
        "Geadresseerde post valt niet onder de Telecommunicatiewet; toegestaan op grond van "
        "gerechtvaardigd belang, mits bezwaren worden gehonoreerd.",
        "Addressed post is outside the Telecommunicatiewet; allowed on legitimate interest, "
        "provided objections are honoured.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=("honour-objection", *_LI_OBLIGATIONS),
    ),
    # -- specific denials that say why not ----------------------------------------------
    Rule(
        "NL-EM-06",
        (*_EM, "consent_defective"),
        Effect.DENY,
        "GDPR Art. 4(11), 7(2), 7(4); CJEU C-673/17 Planet49; EDPB Guidelines 05/2020",
        "De toestemming is ongeldig: vooraf aangevinkt, verstopt in voorwaarden, gebundeld, vaag "
        "geformuleerd of een voorwaarde voor iets anders (zoals een download).",
        "The consent is invalid: pre-ticked, hidden in terms, bundled, vague, or a condition for "
        "something else (such as a download).",
        in_force_from=TW_OPT_IN,
    ),
    Rule(
        "EU-GDPR-03.pending",
        ("marketing_message", "consent_pending"),
        Effect.DENY,
        "GDPR Art. 7(1)",
        "De toestemming is nog niet bevestigd via de bevestigingslink (dubbele opt-in). Tot die "
        "tijd is ze niet aantoonbaar.",
        "The consent has not been confirmed through the confirmation link (double opt-in). Until "
        "then it cannot be proven.",
    ),
    Rule(
        "NL-EM-01",
        _EM,
        Effect.DENY,
        "Tw 11.7(1) (Stb. 2021, 103); opt-in for legal persons since 2009-10-01",
        "Elektronische marketing aan wie dan ook (ook aan organisaties) vraagt voorafgaande "
        "toestemming voor dit doel en kanaal die de afzender kan aantonen. Die is er niet, en "
        "geen uitzondering geldt.",
        "Electronic marketing to anyone (organisations too) needs prior consent for this purpose "
        "and channel that the sender can prove. There is none, and no exception applies.",
        in_force_from=TW_OPT_IN,
    ),
    # -- obligations that come with what is allowed --------------------------------------
    Rule(
        "NL-EM-05",
        ("marketing_message", "!live_call", "!post"),
        Effect.OBLIGE,
        "Tw 11.7; ePrivacy Directive art. 13(4); ACM guidance for e-mail senders",
        "Elk elektronisch marketingbericht vermeldt de echte afzender en een werkend afmeldadres.",
        "Every electronic marketing message shows the real sender and a working opt-out address.",
        obligations=("sender-identity", "opt-out-address"),
        in_force_from=TW_OPT_IN,
    ),
    Rule(
        "NL-POST-01.mention",
        ("marketing_message", "post"),
        Effect.OBLIGE,
        "Code voor het gebruik van Postfilter 2021 (self-regulation); in force 2021-04-01 as DDMA "
        "and mail houses announced it, the Code's own commencement clause not verified",
        "Sinds de Code Postfilter 2021 vermeldt geadresseerde reclame het Postfilter, ook in "
        "post aan klanten.",
        "Since the Code Postfilter 2021, addressed advertising mail mentions the Postfilter, in "
        "mail to customers too.",
        obligations=("postfilter-mention",),
        in_force_from=POSTFILTER_CODE_2021,
        authority=Authority.SELF_REGULATION,
    ),
    Rule(
        "NL-TM-04",
        ("marketing_message", "live_call"),
        Effect.OBLIGE,
        "ACM / ConsuWijzer; Tw 11.7",
        "Bij elk telemarketinggesprek: bied bezwaar aan, blokkeer het nummer direct bij bezwaar, "
        "en bel niet anoniem.",
        "In every telemarketing call: offer the right to object, suppress the number at once on "
        "objection, and do not call from a hidden number.",
        obligations=("offer-right-to-object-in-call", "suppress-on-objection", "no-hidden-number"),
    ),
    Rule(
        "EU-GDPR-06",
        ("direct_marketing", "not_from_subject", "!art14_notice_given"),
        Effect.OBLIGE,
        "GDPR Art. 14(3)",
        "De gegevens komen niet van de persoon zelf: informeer hem of haar, met de bron, binnen "
        "een maand en uiterlijk bij het eerste contact.",
        "The data did not come from the person: inform them, including the source, within one "
        "month and at the first contact at the latest.",
        obligations=("art14-notice",),
        in_force_from=GDPR,
    ),
)

FALLBACK = Rule(
    "NL-NONE",
    (),
    Effect.REVIEW,
    "-",
    "Geen regel uit het pakket nl is op deze vraag van toepassing op deze datum; een mens moet "
    "dit beoordelen.",
    "No rule of the nl pack applies to this question on this date; a person must judge it.",
    authority=Authority.POLICY,
)


# -- what decided, in the situation's own terms ----------------------------------------------


def _objection(scope: str) -> Detail:
    def named(x: Situation) -> tuple[str, str] | None:
        own = x.s.objections.get(scope)
        if own is not None:
            nl, en = day_both(own)
            return (f"Het bezwaar is gemaakt op {nl}.", f"The objection was made on {en}.")
        other = x.s.person_objections.get(scope)
        if other is None:
            return None
        point, at = other
        nl, en = day_both(at)
        return (
            f"Het bezwaar is gemaakt op {nl} via een ander contactpunt van dezelfde persoon "
            f"({point}); het geldt ook hier.",
            f"The objection was made on {en} through another contact point of the same "
            f"person ({point}); it applies here too.",
        )

    return named


def _sale(x: Situation) -> tuple[str, str] | None:
    sale = qualifying_sale(x)
    if sale is None:
        return None
    nl, en = day_both(sale)
    last = window_end(x) if x.get("live_call") else None
    if last is None:
        return (f"Verkoop van {nl}.", f"Sale of {en}.")
    last_nl, last_en = day_both(last)
    return (
        f"Verkoop van {nl}; de termijn loopt tot en met {last_nl}.",
        f"Sale of {en}; the window runs to {last_en}.",
    )


def _unmet(x: Situation) -> tuple[str, str] | None:
    found = similar_sale(x)
    if found is None:
        return None
    at, own, offered = found
    nl, en = day_both(at)
    if not own:
        return (
            f"Het nummer is bij de verkoop van {nl} niet door de afzender zelf verkregen.",
            f"The number was not obtained by the sender itself in the sale of {en}.",
        )
    if not offered:
        return (
            f"Bij de verkoop van {nl} is geen afmeldmogelijkheid geboden toen het nummer werd verkregen.",
            f"No opt-out was offered when the number was collected in the sale of {en}.",
        )
    return None


def _window(x: Situation) -> tuple[str, str] | None:
    last = window_end(x)
    end = x.s.relationship_end
    if last is None or end is None:
        return None
    (last_nl, last_en), (end_nl, end_en) = day_both(last), day_both(end)
    if x.s.relationship_ended_at is not None:
        nl, en = f"het contract eindigde op {end_nl}", f"the contract ended on {end_en}"
    else:
        nl, en = f"de laatste aankoop was op {end_nl}", f"the last purchase was on {end_en}"
    return (
        f"De klantrelatie telt mee tot en met {last_nl}: {nl}.",
        f"The customer relationship counts up to and including {last_en}: {en}.",
    )


def _expired(x: Situation) -> tuple[str, str] | None:
    day = expired_consent(x)
    if day is None:
        return None
    nl, en = day_both(day)
    return (f"De toestemming is verlopen op {nl}.", f"The consent expired on {en}.")


def _postfilter(x: Situation) -> tuple[str, str] | None:
    sector = x.controller.postal_sector
    if sector is None:
        return (
            "De afzender heeft geen Postfiltersector opgegeven, dus elke inschrijving telt.",
            "The sender declared no Postfilter sector, so every listing counts.",
        )
    return (f"Sector van de afzender: {sector}.", f"The sender's sector: {sector}.")


DETAILS: dict[str, Detail] = {
    "EU-GDPR-04.proposal": _objection(ObjectionScope.DIRECT_MARKETING.value),
    "EU-GDPR-04": _objection(ObjectionScope.DIRECT_MARKETING.value),
    "EU-GDPR-05": _objection(ObjectionScope.PROFILING.value),
    "NL-EM-02": _sale,
    "NL-TM-02": _sale,
    "NL-TM-02b.exempt": _sale,
    "NL-TM-02.unmet": _unmet,
    "NL-TM-02.expired": _window,
    "NL-TM-00.listed": _window,
    "EU-GDPR-03.expired": _expired,
    "NL-POST-01.postfilter": _postfilter,
}

PACK = RulePack(
    "nl", "Nederland: Telecommunicatiewet art. 11.7 en AVG", RULES, OBLIGATIONS, FALLBACK, DETAILS
)
