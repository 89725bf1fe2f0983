"""Facts from the ledger about what the person said: erasure, objections, suppression, consents, opt-outs."""

from __future__ import annotations

from datetime import date

from consentry.domain.erasure import fresh_opt_in
from consentry.domain.vocabulary import (
    ConsentMethod,
    ObjectionScope,
)
from consentry.policy.facts.core import (
    Situation,
    fact,
)


@fact(
    "erased",
    "The point was erased; only a suppression record remains.",
    "Het contactpunt is gewist; alleen een blokkeringsregistratie blijft.",
)
def _erased(x: Situation) -> bool:
    return x.s.erased_at is not None


_DM = ObjectionScope.DIRECT_MARKETING.value
_PROFILING = ObjectionScope.PROFILING.value


@fact(
    "objected_dm",
    "The person objected to direct marketing, on this or any other contact point of theirs (same contact).",
    "De persoon heeft bezwaar gemaakt tegen direct marketing, via dit of een ander "
    "contactpunt van dezelfde persoon (hetzelfde contact).",
)
def _obj_dm(x: Situation) -> bool:
    return _DM in x.s.objections or _DM in x.s.person_objections


@fact(
    "objected_profiling",
    "The person objected to profiling, on this or any other contact point of theirs.",
    "De persoon heeft bezwaar gemaakt tegen profilering, via dit of een ander contactpunt "
    "van dezelfde persoon.",
)
def _obj_prof(x: Situation) -> bool:
    return _PROFILING in x.s.objections or _PROFILING in x.s.person_objections


@fact(
    "restricted",
    "Processing of the person's data is restricted (GDPR Art. 18) and the restriction was not lifted.",
    "De verwerking van de gegevens van de persoon is beperkt (AVG art. 18) en die beperking is "
    "niet opgeheven.",
)
def _restricted(x: Situation) -> bool:
    return x.s.restricted_at is not None


@fact(
    "suppressed",
    "The point hard-bounced or the person complained (spam report).",
    "Het adres is onbestelbaar gebleken of de persoon heeft een spamklacht gedaan.",
)
def _suppressed(x: Situation) -> bool:
    return x.s.hard_bounced_at is not None or x.s.complained_at is not None


@fact(
    "prior_suppression",
    "An earlier contact point with the same address or number was erased; its suppression "
    "record covers this channel.",
    "Een eerder contactpunt met hetzelfde adres of nummer is gewist; de blokkeringsregistratie "
    "daarvan geldt voor dit kanaal.",
)
def _prior_suppression(x: Situation) -> bool:
    prior = x.s.prior_suppression
    return prior is not None and prior.covers(x.q.channel.value)


@fact(
    "fresh_opt_in",
    "After that suppression the person gave consent for this purpose and channel and confirmed "
    "it by double opt-in (not withdrawn).",
    "Na die blokkering heeft de persoon toestemming gegeven voor dit doel en kanaal en die "
    "bevestigd met dubbele opt-in (niet ingetrokken).",
)
def _fresh_opt_in(x: Situation) -> bool:
    return fresh_opt_in(x.s, x.q.purpose.key, x.q.channel.value) is not None


def _consents(x: Situation) -> list[tuple[bool, ConsentMethod]]:
    """(valid, method) for each active consent covering the purpose and channel."""
    key, ch, day = x.q.purpose.key, x.q.channel, x.day
    return [
        (not c.defects and not c.pending and _holds(c.expires_on, day), c.method)
        for c in x.s.consents
        if c.purpose == key and c.withdrawn_at is None and ch in c.channels
    ]


@fact(
    "consent_valid",
    "A valid consent for this purpose and channel: active, specific, not "
    "withdrawn, confirmed where double opt-in, not expired.",
    "Een geldige toestemming voor dit doel en "
    "kanaal: actief gegeven, specifiek, niet ingetrokken, bevestigd bij dubbele opt-in, niet verlopen.",
)
def _consent_valid(x: Situation) -> bool:
    consents = x.s.consents
    if not consents:
        return False
    key, ch = x.q.purpose.key, x.q.channel
    return any(
        not c.defects and not c.pending and (c.valid_for_months is None or _holds(c.expires_on, x.day))
        for c in consents
        if c.purpose == key and c.withdrawn_at is None and ch in c.channels
    )


def _holds(expires_on: date | None, day: date) -> bool:
    return expires_on is None or day < expires_on


def expired_consent(x: Situation) -> date | None:
    """When consents for this purpose and channel given for a time have all run out by the day asked:
    the day the last of them expired."""
    key, ch = x.q.purpose.key, x.q.channel
    found = [
        c.expires_on
        for c in x.s.consents
        if c.purpose == key
        and c.withdrawn_at is None
        and ch in c.channels
        and not c.defects
        and not c.pending
        and c.expires_on is not None
    ]
    last = max(found) if found else None
    return last if last is not None and last <= x.day else None


@fact(
    "consent_expired",
    "Consents for this purpose and channel were given for a limited time, and that time has run "
    "out for each of them.",
    "Toestemmingen voor dit doel en kanaal golden voor beperkte tijd, en die tijd is voor elk "
    "ervan verstreken.",
)
def _consent_expired(x: Situation) -> bool:
    return expired_consent(x) is not None


@fact(
    "consent_collected_by_sender",
    "A valid consent the sender collected itself (not imported).",
    "Een geldige toestemming die de afzender zelf heeft verzameld (niet geïmporteerd).",
)
def _consent_own(x: Situation) -> bool:
    return any(valid and m is not ConsentMethod.IMPORT for valid, m in _consents(x))


@fact(
    "consent_pending",
    "A double opt-in consent awaits confirmation.",
    "Een toestemming met dubbele opt-in wacht op bevestiging.",
)
def _consent_pending(x: Situation) -> bool:
    key, ch = x.q.purpose.key, x.q.channel
    return any(
        c.pending and not c.defects
        for c in x.s.consents
        if c.purpose == key and c.withdrawn_at is None and ch in c.channels
    )


@fact(
    "consent_defective",
    "A consent exists but is invalid: pre-ticked, in terms and conditions, "
    "a condition for something else, bundled or vague.",
    "Er is een toestemming, maar die is "
    "ongeldig: vooraf aangevinkt, in voorwaarden, als voorwaarde, gebundeld of vaag.",
)
def _consent_defective(x: Situation) -> bool:
    key, ch = x.q.purpose.key, x.q.channel
    return any(
        c.defects for c in x.s.consents if c.purpose == key and c.withdrawn_at is None and ch in c.channels
    )


@fact(
    "opted_out",
    "The person unsubscribed or withdrew consent for this purpose and channel.",
    "De persoon heeft zich afgemeld of toestemming ingetrokken voor dit doel en kanaal.",
)
def _opted_out(x: Situation) -> bool:
    opt_outs = x.s.opt_outs
    if not opt_outs:
        return False
    key, ch = x.q.purpose.key, x.q.channel
    return any(o.covers(key, ch) for o in opt_outs)
