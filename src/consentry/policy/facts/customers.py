"""Facts from the ledger about sales: the customer exception and the Code Telemarketing's window."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from consentry.domain.state import add_months
from consentry.policy.facts.core import (
    CUSTOMER_WINDOW_YEARS,
    LEGAL_TZ,
    Situation,
    fact,
)


def qualifying_sale(x: Situation) -> datetime | None:
    """The last sale that meets the customer exception for this purpose, if any."""
    purpose = x.q.purpose
    for p in reversed(x.s.purchases):
        if p.collected_by_sender and p.opt_out_offered and purpose.promotes_any_of(p.categories):
            return p.at
    return None


def similar_sale(x: Situation) -> tuple[datetime, bool, bool] | None:
    """The last sale of similar products: when, and whether the sender collected it and offered an opt-out."""
    purpose = x.q.purpose
    for p in reversed(x.s.purchases):
        if purpose.promotes_any_of(p.categories):
            return p.at, p.collected_by_sender, p.opt_out_offered
    return None


@fact(
    "customer_exception",
    "The sender obtained the point itself in a sale of a product this "
    "purpose's products are similar to, and offered a free opt-out then.",
    "De afzender kreeg "
    "het contactpunt zelf bij een verkoop van soortgelijke producten en bood toen een kosteloze "
    "afmeldmogelijkheid.",
)
def _customer_exception(x: Situation) -> bool:
    return qualifying_sale(x) is not None


@fact(
    "similar_purchase",
    "The person bought products similar to those this purpose promotes.",
    "De persoon kocht producten die lijken op wat dit doel aanbiedt.",
)
def _similar(x: Situation) -> bool:
    purpose = x.q.purpose
    return any(purpose.promotes_any_of(p.categories) for p in x.s.purchases)


def window_end(x: Situation) -> date | None:
    """The last Dutch calendar day of the three-year customer window; None while a contract runs."""
    end = x.s.relationship_end
    return None if end is None else _window_last(end)


@lru_cache(maxsize=4096)
def _window_last(end: datetime) -> date:
    return add_years(end.astimezone(LEGAL_TZ).date(), CUSTOMER_WINDOW_YEARS)


@fact(
    "customer_within_3_years",
    "A customer now (a contract or subscription that runs), or less than three years after the "
    "relationship ended: the end of the contract, or else the last purchase.",
    "Nu klant (een lopend contract of abonnement), of minder dan drie jaar na het einde van de "
    "klantrelatie: het einde van het contract, of anders de laatste aankoop.",
)
def _customer_3y(x: Situation) -> bool:
    if not x.s.purchases:
        return False
    last = window_end(x)
    # Up to and including the anniversary, counted in Dutch calendar days.
    return last is None or x.day <= last


def add_years(d: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    return add_months(d, 12 * years)


@fact(
    "customer_ever",
    "The person is or was a customer (or donor) of the sender: a purchase or donation is recorded.",
    "De persoon is of was klant (of donateur) van de afzender: er is een aankoop of gift vastgelegd.",
)
def _customer_ever(x: Situation) -> bool:
    return bool(x.s.purchases)
