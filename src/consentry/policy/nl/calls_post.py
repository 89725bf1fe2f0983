"""The grounds for calls and post, with the denials that belong between them."""

from __future__ import annotations

from consentry.domain.vocabulary import Basis
from consentry.policy.nl.dates import (
    CALLS_NO_CUSTOMER_EXCEPTION,
    CALLS_OPT_IN,
    TW_OPT_IN,
    day_before,
)
from consentry.policy.nl.obligations import CALL, LI_OBLIGATIONS
from consentry.policy.rules import Authority, Effect, Rule

ROWS: tuple[Rule, ...] = (
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
        obligations=LI_OBLIGATIONS,
    ),
    Rule(
        "NL-TM-00.listed",
        (*CALL, "listed_bel_me_niet", "!customer_within_3_years"),
        Effect.DENY,
        "Tw 11.7 (old regime); Bel-me-niet Register; 3 years: Code Telemarketing",
        "Vóór 1 juli 2021: het nummer stond in het Bel-me-niet Register en de persoon was in de "
        "drie jaar daarvoor geen klant (gerekend vanaf het einde van het contract of de laatste "
        "aankoop).",
        "Before 1 July 2021: the number was on the Bel-me-niet Register and the person had not "
        "been a customer in the three years before (counted from the end of the contract or the "
        "last purchase).",
        in_force_until=day_before(CALLS_OPT_IN),
    ),
    Rule(
        "NL-TM-00",
        CALL,
        Effect.ALLOW,
        "Tw 11.7 (old regime, opt-out)",
        "Vóór 1 juli 2021 gold voor telemarketing een opt-out: bellen mocht, tenzij het nummer "
        "in het Bel-me-niet Register stond (klanten tot drie jaar uitgezonderd) of de persoon "
        "bezwaar had gemaakt.",
        "Before 1 July 2021 telemarketing was opt-out: calling was allowed unless the number was "
        "on the Bel-me-niet Register (customers of the last three years excepted) or the person "
        "had objected.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=LI_OBLIGATIONS,
        in_force_until=day_before(CALLS_OPT_IN),
    ),
    Rule(
        "NL-TM-02",
        (*CALL, "customer_exception", "customer_within_3_years"),
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
        obligations=LI_OBLIGATIONS,
        in_force_from=CALLS_OPT_IN,
        in_force_until=day_before(CALLS_NO_CUSTOMER_EXCEPTION),
        authority=Authority.SELF_REGULATION,
    ),
    Rule(
        "NL-TM-02b.exempt",
        (*CALL, "sender_call_exempt", "customer_exception", "customer_within_3_years"),
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
        obligations=LI_OBLIGATIONS,
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
        (*CALL, "similar_purchase", "!sender_call_exempt"),
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
        (*CALL, "similar_purchase", "!customer_exception"),
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
        (*CALL, "customer_exception", "!customer_within_3_years"),
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
        CALL,
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
        obligations=("honour-objection", *LI_OBLIGATIONS),
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
        obligations=("honour-objection", *LI_OBLIGATIONS),
    ),
)
