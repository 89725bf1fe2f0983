"""What a privacy statement can quote about retention: one sentence a policy, in Dutch and English.

`consentry retention policies --statement` prints these for the policies in force, so a
statement quotes what actually runs; docs/retention.md quotes the Dutch defaults.
"""

from __future__ import annotations

from collections.abc import Sequence

from consentry.domain.retention import Condition, RetentionPolicy

_NL = {
    Condition.UNSUBSCRIBED: "Meldt u zich af of maakt u bezwaar, en hebben wij geen andere grondslag om uw "
    "gegevens te bewaren, dan wissen wij ze {period} na uw laatste afmelding of bezwaar.",
    Condition.PROSPECT: "Bent u geen klant en heeft u ons geen geldige toestemming gegeven, dan wissen wij "
    "uw gegevens {period} na het laatste contact.",
    Condition.FORMER_CUSTOMER: "Was u klant, dan bewaren wij uw gegevens tot {period} na het einde van de "
    "klantrelatie (uw laatste aankoop of het einde van uw abonnement) en wissen wij ze daarna, tenzij u "
    "ons toestemming heeft gegeven.",
}
_EN = {
    Condition.UNSUBSCRIBED: "If you unsubscribe or object, and we have no other basis to keep your data, "
    "we erase it {period} after your last unsubscribe or objection.",
    Condition.PROSPECT: "If you are not a customer and have not given us valid consent, we erase your data "
    "{period} after the last contact.",
    Condition.FORMER_CUSTOMER: "If you were a customer, we keep your data until {period} after the "
    "relationship ended (your last purchase or the end of your subscription) and erase it then, unless "
    "you gave us your consent.",
}

CLOSING_NL = (
    "Zolang een andere grondslag geldt (een geldige toestemming, een lopend contract, de uitzondering voor "
    "klanten of een verzoek dat wij nog beantwoorden), bewaren wij uw gegevens. Na het wissen bewaren wij "
    "alleen een blokkeringsregistratie (een onleesbare afdruk van uw adres of nummer), zodat wij u nooit "
    "opnieuw benaderen: uitgeschreven is uitgeschreven."
)
CLOSING_EN = (
    "While another basis applies (a valid consent, a running contract, the exception for customers or a "
    "request we are still answering), we keep your data. After erasing it we keep only a suppression "
    "record (an unreadable fingerprint of your address or number), so we never approach you again: "
    "unsubscribed means unsubscribed."
)


def sentence(p: RetentionPolicy, lang: str = "nl") -> str:
    """The policy as a privacy statement can say it."""
    nl = lang != "en"
    text = (_NL if nl else _EN)[p.condition].format(period=p.period.nl() if nl else p.period.en())
    if p.purposes:
        names = ", ".join(sorted(p.purposes))
        text = (f"Voor {names}: " if nl else f"For {names}: ") + text[0].lower() + text[1:]
    return text


def statement(policies: Sequence[RetentionPolicy], lang: str = "nl") -> list[str]:
    """The retention paragraph of a privacy statement: a line a policy (with its name), then the closing."""
    nl = lang != "en"
    lines = [f"{p.name_nl if nl else p.name_en}: {sentence(p, lang)}" for p in policies]
    return [*lines, CLOSING_NL if nl else CLOSING_EN]
