"""What decided, in the situation's own terms: the sentence a rule's explanation gains."""

from __future__ import annotations

from consentry.domain.erasure import fresh_opt_in
from consentry.domain.vocabulary import ObjectionScope
from consentry.policy.facts import (
    Situation,
    day_both,
    expired_consent,
    qualifying_sale,
    similar_sale,
    window_end,
)
from consentry.policy.rules import Detail

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


#: What a suppression record says, as the explanations name it.
_SUPPRESSED_FOR = {
    "objection": ("na een bezwaar", "after an objection"),
    "complaint": ("na een spamklacht", "after a spam complaint"),
    "unsubscribed": ("na een afmelding", "after an unsubscribe"),
    "hard_bounce": ("omdat het adres onbestelbaar was", "as the address bounced"),
    "erased": ("bij het wissen", "at the erasure"),
}


def _prior(x: Situation) -> tuple[str, str] | None:
    prior = x.s.prior_suppression
    if prior is None:
        return None
    nl, en = day_both(prior.since)
    why_nl, why_en = _SUPPRESSED_FOR.get(prior.what, (prior.what, prior.what))
    return (
        f"De blokkering geldt sinds {nl} ({why_nl}).",
        f"The suppression has held since {en} ({why_en}).",
    )


def _lifted(x: Situation) -> tuple[str, str] | None:
    prior = x.s.prior_suppression
    consent = fresh_opt_in(x.s, x.q.purpose.key, x.q.channel.value)
    if prior is None or consent is None or consent.confirmed_at is None:
        return None
    (since_nl, since_en), (nl, en) = day_both(prior.since), day_both(consent.confirmed_at)
    return (
        f"Blokkering sinds {since_nl}; de nieuwe toestemming is bevestigd op {nl}.",
        f"Suppressed since {since_en}; the fresh consent was confirmed on {en}.",
    )


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
    "EU-GDPR-09.prior": _prior,
    "EU-GDPR-09.lifted": _lifted,
}
