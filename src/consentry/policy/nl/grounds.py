"""The grounds that allow direct marketing: consent, profiling, electronic messages' exceptions."""

from __future__ import annotations

from consentry.domain.vocabulary import Basis
from consentry.policy.nl.dates import (
    TW_LEGAL_PERSONS,
    TW_OPT_IN,
    day_before,
)
from consentry.policy.nl.obligations import EM, LI_OBLIGATIONS
from consentry.policy.rules import Effect, Rule

ROWS: tuple[Rule, ...] = (
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
        (*EM, "organisation_point"),
        Effect.ALLOW,
        "Tw 11.7 (old regime, until 2009-10-01)",
        "Vóór 1 oktober 2009 gold voor e-mail aan rechtspersonen geen opt-in: toegestaan zolang "
        "zij zich niet afmeldden.",
        "Before 1 October 2009 e-mail to legal persons needed no opt-in: allowed as long as they "
        "had not opted out.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=("opt-out-in-every-message",),
        in_force_until=day_before(TW_LEGAL_PERSONS),
    ),
    Rule(
        "NL-EM-03",
        (*EM, "business_party", "published_for_offers"),
        Effect.ALLOW,
        "Tw 11.7, B2B exception",
        "Het adres is door de organisatie zelf aangewezen en gepubliceerd om aanbiedingen te "
        "ontvangen (bijv. offertes@).",
        "The organisation itself designated and published this address for receiving offers "
        "(e.g. offertes@).",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=LI_OBLIGATIONS,
        in_force_from=TW_LEGAL_PERSONS,
    ),
    Rule(
        "NL-EM-03.review",
        (*EM, "business_party", "published_for_offers_unproven"),
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
        (*EM, "business_party", "outside_eea", "local_rules_met"),
        Effect.ALLOW,
        "Tw 11.7, B2B exception (b)",
        "Een organisatie buiten de EER, en de regels van dat land zijn nagegaan en nageleefd.",
        "An organisation outside the EEA, and that country's rules were checked and are met.",
        basis=Basis.LEGITIMATE_INTEREST,
        obligations=(*LI_OBLIGATIONS, "check-local-law"),
        in_force_from=TW_LEGAL_PERSONS,
    ),
    Rule(
        "NL-EM-04.review",
        (*EM, "business_party", "outside_eea"),
        Effect.REVIEW,
        "Tw 11.7, B2B exception (b)",
        "Een organisatie buiten de EER: toegestaan als de regels van dat land worden nageleefd. "
        "Dat is niet vastgelegd; laat het beoordelen.",
        "An organisation outside the EEA: allowed if that country's rules are met. That has not "
        "been recorded; have it judged.",
        in_force_from=TW_LEGAL_PERSONS,
    ),
)
