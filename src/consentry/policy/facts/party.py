"""Facts about who the contact point belongs to: consumer, sole trader, organisation."""

from __future__ import annotations

from consentry.domain.vocabulary import (
    BUSINESS_PARTIES,
    EEA_COUNTRIES,
    NATURAL_PERSONS,
    ORGANISATION_POINTS,
    PartyKind,
)
from consentry.policy.facts.core import (
    Situation,
    fact,
)


@fact(
    "natural_person",
    "The point belongs to a consumer or a sole trader.",
    "Het contactpunt is van een consument of eenmanszaak/zzp'er.",
)
def _natural(x: Situation) -> bool:
    return x.s.party in NATURAL_PERSONS


@fact("consumer", "The point belongs to a consumer.", "Het contactpunt is van een consument.")
def _consumer(x: Situation) -> bool:
    return x.s.party is PartyKind.CONSUMER


@fact(
    "business_party",
    "The point belongs to a legal person or someone acting in a profession.",
    "Het contactpunt is van een rechtspersoon of iemand die handelt in beroep of bedrijf.",
)
def _business(x: Situation) -> bool:
    return x.s.party in BUSINESS_PARTIES


@fact(
    "organisation_point",
    "An organisation's address or number (legal person, or an employee's business address).",
    "Een adres of nummer van een organisatie (rechtspersoon, of zakelijk adres van een medewerker).",
)
def _org(x: Situation) -> bool:
    return x.s.party in ORGANISATION_POINTS


@fact(
    "published_for_offers",
    "The organisation published this address for receiving offers, with evidence.",
    "De organisatie heeft dit adres aantoonbaar gepubliceerd voor aanbiedingen.",
)
def _published(x: Situation) -> bool:
    return x.s.published_for_offers and bool(x.s.published_for_offers_evidence)


@fact(
    "published_for_offers_unproven",
    "Published for offers is claimed, without evidence.",
    "Gepubliceerd voor aanbiedingen wordt gesteld, zonder bewijs.",
)
def _published_unproven(x: Situation) -> bool:
    return x.s.published_for_offers and not x.s.published_for_offers_evidence


@fact(
    "outside_eea",
    "The party is established outside the EEA.",
    "De partij is gevestigd buiten de EER.",
)
def _outside_eea(x: Situation) -> bool:
    return x.s.country is not None and x.s.country not in EEA_COUNTRIES


@fact(
    "local_rules_met",
    "The local rules of the party's country were checked and are met.",
    "De regels van het land van de partij zijn nagegaan en worden nageleefd.",
)
def _local(x: Situation) -> bool:
    return x.s.local_rules_met
