"""Named facts: the yes/no questions rule conditions are written in.

A rule's condition is a list of fact names, all of which must hold (`!name`
means the fact must not hold). Each fact here is computed from one contact
point's folded state, the question asked and the controller, at the moment
asked about. The set-based evaluator computes the same names over many
contact points at once; both read the descriptions below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from consentry.domain.clock import LOCAL_TZ
from consentry.domain.purposes import Purpose
from consentry.domain.state import DECEASED, ContactState
from consentry.domain.vocabulary import (
    BUSINESS_PARTIES,
    CALL_EXEMPT_SECTORS,
    EEA_COUNTRIES,
    ELECTRONIC_MAIL,
    NATURAL_PERSONS,
    NOT_FROM_SUBJECT,
    ORGANISATION_POINTS,
    PRIOR_CONTACT,
    Activity,
    Channel,
    ConsentMethod,
    MessageKind,
    ObjectionScope,
    PartyKind,
    Sector,
    Source,
)

#: Rule dates are Dutch calendar dates: a law in force "from 2021-07-01" starts at
#: midnight in Amsterdam, not in UTC.
LEGAL_TZ = LOCAL_TZ
#: The Code Telemarketing's limit for calling ex-customers, in years (self-regulation).
CUSTOMER_WINDOW_YEARS = 3

BEL_ME_NIET = "bel-me-niet"
POSTFILTER = "postfilter"
#: The Nationaal Overledenenregister (see `consentry.domain.state.DECEASED`).
DECEASED_REGISTER = DECEASED

_MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
              "september", "oktober", "november", "december")  # fmt: skip
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")  # fmt: skip


def day_nl(moment: datetime | date) -> str:
    """A moment's Dutch calendar day written out in Dutch: 4 maart 2022."""
    return _written(moment.astimezone(LEGAL_TZ).date() if isinstance(moment, datetime) else moment)[0]


def day_en(moment: datetime | date) -> str:
    """The same Dutch calendar day written out in English: 4 March 2022."""
    return _written(moment.astimezone(LEGAL_TZ).date() if isinstance(moment, datetime) else moment)[1]


def day_both(moment: datetime | date) -> tuple[str, str]:
    """`day_nl` and `day_en` of a moment at once (its Dutch day found once)."""
    return _written(moment.astimezone(LEGAL_TZ).date() if isinstance(moment, datetime) else moment)


@lru_cache(maxsize=4096)
def _written(d: date) -> tuple[str, str]:
    # Explanations name the same few days over and over (a sale, a rule date).
    return f"{d.day} {_MONTHS_NL[d.month - 1]} {d.year}", f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"


@dataclass(frozen=True, slots=True)
class Controller:
    """The organisation that sends: its name, its sector, and its Postfilter sector.

    `postal_sector` is the Postfilter sector the sender declares for its addressed
    mail (a key as the Postfilter file names it); None means undeclared, and then
    every Postfilter listing blocks, whatever sectors it names.
    """

    name: str = "Demo BV"
    sector: Sector = Sector.COMMERCIAL
    postal_sector: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """What is asked: may we use this channel, for this purpose and kind, at this moment."""

    channel: Channel
    purpose: Purpose
    at: datetime
    kind: MessageKind = MessageKind.MARKETING
    activity: Activity = Activity.CONTACT


class Situation:
    """One question about one contact point: the facts are computed on demand, once."""

    __slots__ = ("controller", "day", "memo", "q", "s")

    def __init__(self, state: ContactState, q: Question, controller: Controller) -> None:
        self.s = state
        self.q = q
        self.controller = controller
        self.day: date = _legal_day(q.at)
        self.memo: dict[str, bool] = {}

    def get(self, name: str) -> bool:
        """The value of one named fact."""
        v = self.memo.get(name)
        if v is None:
            v = self.memo[name] = FACTS[name].compute(self)
        return v


_last_day: tuple[datetime | None, date | None] = (None, None)


def _legal_day(at: datetime) -> date:
    """The Dutch calendar day of a moment; the last one is kept, as a batch asks about one moment."""
    global _last_day
    last = _last_day  # one tuple, replaced whole: safe to share between threads
    if last[0] is at and last[1] is not None:
        return last[1]
    day = at.astimezone(LEGAL_TZ).date()
    _last_day = (at, day)
    return day


@dataclass(frozen=True, slots=True)
class Fact:
    """A named yes/no question with its meaning in English and Dutch.

    A `question` fact depends only on the question and the controller, never on
    the contact point, so the evaluator can settle it once per kind of question.
    """

    name: str
    en: str
    nl: str
    compute: Callable[[Situation], bool]
    question: bool = False


FACTS: dict[str, Fact] = {}


def fact(
    name: str, en: str, nl: str, question: bool = False
) -> Callable[[Callable[[Situation], bool]], Callable[[Situation], bool]]:
    """Register a fact under its name."""

    def register(fn: Callable[[Situation], bool]) -> Callable[[Situation], bool]:
        FACTS[name] = Fact(name, en, nl, fn, question)
        return fn

    return register


# -- the question --------------------------------------------------------------------------


@fact(
    "marketing_message",
    "A marketing message or call (commercial, ideal or charitable).",
    "Een marketingbericht of -gesprek (commercieel, ideëel of charitatief).",
    question=True,
)
def _marketing(x: Situation) -> bool:
    return x.q.activity is Activity.CONTACT and x.q.kind is MessageKind.MARKETING


@fact(
    "service_message",
    "A service message about an order, account or the relationship.",
    "Een servicebericht over een bestelling, account of de relatie zelf.",
    question=True,
)
def _service(x: Situation) -> bool:
    return x.q.activity is Activity.CONTACT and x.q.kind is MessageKind.SERVICE


@fact(
    "personal_message",
    "A purely personal, non-commercial one-to-one message written by a person (a reply "
    "to the person's own question).",
    "Een puur persoonlijk bericht zonder commercieel doel, door een mens aan één persoon "
    "geschreven (een antwoord op een eigen vraag van de persoon).",
    question=True,
)
def _personal(x: Situation) -> bool:
    return x.q.activity is Activity.CONTACT and x.q.kind is MessageKind.PERSONAL


@fact(
    "commercial_proposal",
    "A one-to-one commercial proposal written by a person (outside Tw 11.7, direct "
    "marketing under the GDPR).",
    "Een persoonlijk commercieel voorstel, door een mens aan één persoon geschreven (buiten "
    "art. 11.7 Tw, wel direct marketing onder de AVG).",
    question=True,
)
def _proposal(x: Situation) -> bool:
    return x.q.activity is Activity.CONTACT and x.q.kind is MessageKind.PROPOSAL


@fact(
    "profiling",
    "Profiling for marketing (segmentation on behaviour).",
    "Profilering voor marketing (segmentatie op gedrag).",
    question=True,
)
def _profiling(x: Situation) -> bool:
    return x.q.activity is Activity.PROFILING


@fact(
    "direct_marketing",
    "A marketing message, a one-to-one commercial proposal, or profiling for marketing.",
    "Een marketingbericht, een persoonlijk commercieel voorstel, of profilering voor marketing.",
    question=True,
)
def _dm(x: Situation) -> bool:
    return x.get("marketing_message") or x.get("commercial_proposal") or x.get("profiling")


@fact(
    "electronic",
    "Channel is e-mail, SMS, a messaging app or fax.",
    "Kanaal is e-mail, sms, een berichtenapp of fax.",
    question=True,
)
def _electronic(x: Situation) -> bool:
    return x.q.channel in (Channel.EMAIL, Channel.SMS, Channel.MESSAGING_APP, Channel.FAX)


@fact(
    "electronic_mail",
    "Channel is electronic mail in the ePrivacy sense (e-mail, SMS, app).",
    "Kanaal is elektronische post in de zin van ePrivacy (e-mail, sms, app).",
    question=True,
)
def _electronic_mail(x: Situation) -> bool:
    return x.q.channel in ELECTRONIC_MAIL


@fact(
    "automated_call",
    "Channel is an automated call (robot dialler).",
    "Kanaal is een geautomatiseerd gesprek (belcomputer).",
    question=True,
)
def _auto(x: Situation) -> bool:
    return x.q.channel is Channel.AUTOMATED_CALL


@fact(
    "live_call",
    "Channel is a live telephone call.",
    "Kanaal is een telefoongesprek door een mens.",
    question=True,
)
def _call(x: Situation) -> bool:
    return x.q.channel is Channel.PHONE


@fact("post", "Channel is addressed post.", "Kanaal is geadresseerde post.", question=True)
def _post(x: Situation) -> bool:
    return x.q.channel is Channel.POST


@fact(
    "sender_call_exempt",
    "The sender is a charity, charity lottery or press publisher.",
    "De afzender is een goed doel, goededoelenloterij of uitgever van kranten of tijdschriften.",
    question=True,
)
def _exempt(x: Situation) -> bool:
    return x.controller.sector in CALL_EXEMPT_SECTORS


# -- the party -----------------------------------------------------------------------------


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


# -- the ledger ----------------------------------------------------------------------------


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
    "suppressed",
    "The point hard-bounced or the person complained (spam report).",
    "Het adres is onbestelbaar gebleken of de persoon heeft een spamklacht gedaan.",
)
def _suppressed(x: Situation) -> bool:
    return x.s.hard_bounced_at is not None or x.s.complained_at is not None


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
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


@fact(
    "customer_ever",
    "The person is or was a customer (or donor) of the sender: a purchase or donation is recorded.",
    "De persoon is of was klant (of donateur) van de afzender: er is een aankoop of gift vastgelegd.",
)
def _customer_ever(x: Situation) -> bool:
    return bool(x.s.purchases)


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
