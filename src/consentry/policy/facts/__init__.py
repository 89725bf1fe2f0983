"""Named facts: the yes/no questions rule conditions are written in.

A rule's condition is a list of fact names, all of which must hold (`!name`
means the fact must not hold). Each fact is computed from one contact point's
folded state, the question asked and the controller, at the moment asked
about. The set-based evaluator computes the same names over many contact
points at once; both read the descriptions the facts carry.

The facts are registered in `FACTS` in the order of this package's modules:
the question (`question`), the party (`party`), what the person said
(`consents`), sales (`customers`), registers and provenance (`provenance`).
"""

from consentry.policy.facts.core import (
    BEL_ME_NIET,
    CUSTOMER_WINDOW_YEARS,
    DECEASED_REGISTER,
    FACTS,
    LEGAL_TZ,
    POSTFILTER,
    Controller,
    Fact,
    Question,
    Situation,
    day_both,
    fact,
)

# Imported one by one, in this order, because importing a module registers its facts:
# FACTS keeps the order the rule table documents them in (docs/rules.md).
# isort: off
from consentry.policy.facts import question
from consentry.policy.facts import party
from consentry.policy.facts import consents
from consentry.policy.facts import customers
from consentry.policy.facts import provenance

# isort: on
from consentry.policy.facts.consents import expired_consent
from consentry.policy.facts.customers import add_years, qualifying_sale, similar_sale, window_end

__all__ = [
    "BEL_ME_NIET",
    "CUSTOMER_WINDOW_YEARS",
    "DECEASED_REGISTER",
    "FACTS",
    "LEGAL_TZ",
    "POSTFILTER",
    "Controller",
    "Fact",
    "Question",
    "Situation",
    "add_years",
    "consents",
    "customers",
    "day_both",
    "expired_consent",
    "fact",
    "party",
    "provenance",
    "qualifying_sale",
    "question",
    "similar_sale",
    "window_end",
]
