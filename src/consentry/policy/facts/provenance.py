"""Facts from the ledger about registers and where the data came from."""

from __future__ import annotations

from consentry.domain.vocabulary import (
    NOT_FROM_SUBJECT,
    PRIOR_CONTACT,
    Source,
)
from consentry.policy.facts.core import (
    BEL_ME_NIET,
    DECEASED_REGISTER,
    POSTFILTER,
    Situation,
    fact,
)


def _listed(x: Situation, register: str) -> bool:
    return any(li.register == register and li.active_on(x.day) for li in x.s.listings)


@fact(
    "listed_bel_me_niet",
    "The number is on the Bel-me-niet Register on that day.",
    "Het nummer staat die dag in het Bel-me-niet Register.",
)
def _bmn(x: Situation) -> bool:
    return _listed(x, BEL_ME_NIET)


@fact(
    "listed_postfilter",
    "The address is on the Postfilter on that day, for the sender's declared sector (or for every "
    "sector, or the sender declared none).",
    "Het adres staat die dag in het Postfilter, voor de sector die de afzender opgaf (of voor alle "
    "sectoren, of de afzender gaf geen sector op).",
)
def _postfilter(x: Situation) -> bool:
    sector = x.controller.postal_sector
    return any(
        li.register == POSTFILTER
        and li.active_on(x.day)
        and (sector is None or li.sectors is None or sector in li.sectors)
        for li in x.s.listings
    )


@fact(
    "listed_deceased",
    "The name and address are on the Nationaal Overledenenregister on that day.",
    "Naam en adres staan die dag in het Nationaal Overledenenregister.",
)
def _deceased(x: Situation) -> bool:
    return _listed(x, DECEASED_REGISTER)


@fact(
    "third_party_list_unproven",
    "Obtained from a third-party list without proof it may be passed on.",
    "Afkomstig van een lijst van derden zonder bewijs dat die mocht worden doorgegeven.",
)
def _unproven(x: Situation) -> bool:
    return x.s.source is Source.THIRD_PARTY_LIST_WITHOUT_PROOF


@fact(
    "not_from_subject",
    "The data did not come from the person themselves.",
    "De gegevens zijn niet van de persoon zelf verkregen.",
)
def _not_from_subject(x: Situation) -> bool:
    return x.s.source in NOT_FROM_SUBJECT


@fact(
    "art14_notice_given",
    "The Art. 14 notice (with the source) was given.",
    "De informatie van art. 14 (met de bron) is gegeven.",
)
def _notice(x: Situation) -> bool:
    return "14" in x.s.notices


@fact(
    "prior_contact",
    "The sender was in contact with the person before.",
    "De afzender had eerder contact met de persoon.",
)
def _prior(x: Situation) -> bool:
    return x.s.source in PRIOR_CONTACT or bool(x.s.purchases) or bool(x.s.consents)
