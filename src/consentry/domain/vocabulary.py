"""The words consentry decides with: channels, kinds, parties, sources, bases.

Pure standard library. The string values are stable: they appear in the ledger,
the API and the CLI, so renaming one is a schema change.
"""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a message reaches a person."""

    EMAIL = "email"
    SMS = "sms"
    MESSAGING_APP = "messaging_app"
    PHONE = "phone"
    AUTOMATED_CALL = "automated_call"
    POST = "post"
    FAX = "fax"


class PointKind(StrEnum):
    """What a contact point is: an address or number, which carries some channels."""

    EMAIL = "email"
    PHONE = "phone"
    POSTAL = "postal"


CHANNELS_BY_POINT: dict[PointKind, frozenset[Channel]] = {
    PointKind.EMAIL: frozenset({Channel.EMAIL}),
    PointKind.PHONE: frozenset(
        {Channel.SMS, Channel.MESSAGING_APP, Channel.PHONE, Channel.AUTOMATED_CALL, Channel.FAX}
    ),
    PointKind.POSTAL: frozenset({Channel.POST}),
}

#: Channels covered by Tw 11.7's rules for unsolicited electronic communications.
ELECTRONIC = frozenset(
    {Channel.EMAIL, Channel.SMS, Channel.MESSAGING_APP, Channel.FAX, Channel.AUTOMATED_CALL}
)
#: Electronic mail in the ePrivacy sense (art. 2(h)): the customer exception covers these.
ELECTRONIC_MAIL = frozenset({Channel.EMAIL, Channel.SMS, Channel.MESSAGING_APP})


class MessageKind(StrEnum):
    """What a message is for (RULES.md vocabulary).

    `personal` is a purely personal, non-commercial message written by a person
    (a reply to the person's own question); `proposal` is a one-to-one commercial
    proposal written by a person: outside Tw 11.7, but direct marketing under the
    GDPR, so an objection (Art. 21(3)) stops it.
    """

    MARKETING = "marketing"
    SERVICE = "service"
    PERSONAL = "personal"
    PROPOSAL = "proposal"


class Activity(StrEnum):
    """What is done with the contact point: contacting, or profiling for marketing."""

    CONTACT = "contact"
    PROFILING = "profiling"


class PartyKind(StrEnum):
    """Who is behind a contact point; it decides which Tw 11.7 rules apply."""

    CONSUMER = "consumer"
    SOLE_TRADER = "sole_trader"
    EMPLOYEE = "employee"
    LEGAL_PERSON = "legal_person"


NATURAL_PERSONS = frozenset({PartyKind.CONSUMER, PartyKind.SOLE_TRADER})
BUSINESS_PARTIES = frozenset({PartyKind.SOLE_TRADER, PartyKind.EMPLOYEE, PartyKind.LEGAL_PERSON})
#: An employee's business address or number belongs to the organisation as subscriber.
ORGANISATION_POINTS = frozenset({PartyKind.EMPLOYEE, PartyKind.LEGAL_PERSON})


class Source(StrEnum):
    """Where a contact point came from (its provenance)."""

    WEB_FORM = "web_form"
    PURCHASE = "purchase"
    BUSINESS_CARD = "business_card"
    LINKEDIN = "linkedin"
    PUBLIC_PROFILE = "public_profile"
    PUBLIC_REGISTER = "public_register"
    THIRD_PARTY_LIST_WITH_PROOF = "third_party_list_with_proof"
    THIRD_PARTY_LIST_WITHOUT_PROOF = "third_party_list_without_proof"
    REFERRAL = "referral"
    DIRECT_CONTACT = "direct_contact"
    IMPORT = "import"


#: Sources where the data did not come from the person themselves (GDPR Art. 14).
NOT_FROM_SUBJECT = frozenset(
    {
        # RULES.md EU-GDPR-06 counts a business card handed over among these.
        Source.BUSINESS_CARD,
        Source.PUBLIC_PROFILE,
        Source.PUBLIC_REGISTER,
        Source.THIRD_PARTY_LIST_WITH_PROOF,
        Source.THIRD_PARTY_LIST_WITHOUT_PROOF,
        Source.REFERRAL,
        Source.LINKEDIN,
    }
)
#: Sources that mean the sender itself was in contact with the person.
PRIOR_CONTACT = frozenset({Source.WEB_FORM, Source.PURCHASE, Source.BUSINESS_CARD, Source.DIRECT_CONTACT})


class ConsentMethod(StrEnum):
    """How a consent was collected."""

    DOUBLE_OPT_IN = "double_opt_in"
    SINGLE_OPT_IN = "single_opt_in"
    WRITTEN_REPLY = "written_reply"
    CALL_RECORDING = "call_recording"
    PAPER_FORM = "paper_form"
    IMPORT = "import"
    PRE_TICKED = "pre_ticked"
    TERMS_AND_CONDITIONS = "terms_and_conditions"
    CONDITION_OF_SERVICE = "condition_of_service"


#: Methods that never produce a valid consent (NL-EM-06, GDPR Art. 4(11), 7(4)).
INVALID_METHODS = frozenset(
    {
        ConsentMethod.PRE_TICKED,
        ConsentMethod.TERMS_AND_CONDITIONS,
        ConsentMethod.CONDITION_OF_SERVICE,
    }
)


class ObjectionScope(StrEnum):
    """What an Art. 21 objection covers."""

    DIRECT_MARKETING = "direct_marketing"
    PROFILING = "profiling"


class PurposeKind(StrEnum):
    """The aim a marketing purpose serves (Tw 11.7 covers all three)."""

    COMMERCIAL = "commercial"
    IDEAL = "ideal"
    CHARITABLE = "charitable"


class Sector(StrEnum):
    """The controller's sector; some call rules carve out charities and publishers."""

    COMMERCIAL = "commercial"
    CHARITY = "charity"
    CHARITY_LOTTERY = "charity_lottery"
    PUBLISHER = "publisher"


CALL_EXEMPT_SECTORS = frozenset({Sector.CHARITY, Sector.CHARITY_LOTTERY, Sector.PUBLISHER})


class Verdict(StrEnum):
    """The answer: allow, deny, or review by a person (never read as allow)."""

    ALLOW = "allow"
    DENY = "deny"
    REVIEW = "review"


class Basis(StrEnum):
    """The legal ground an allow rests on (GDPR Art. 6(1), or the ePrivacy exception)."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGITIMATE_INTEREST = "legitimate_interest"
    CUSTOMER_EXCEPTION = "customer_exception"
    NONE = "none"


#: GDPR article and W3C DPV term for each basis (docs and API show these).
BASIS_REFERENCES: dict[Basis, tuple[str, str]] = {
    Basis.CONSENT: ("GDPR Art. 6(1)(a)", "dpv:Consent"),
    Basis.CONTRACT: ("GDPR Art. 6(1)(b)", "dpv:Contract"),
    Basis.LEGITIMATE_INTEREST: ("GDPR Art. 6(1)(f)", "dpv:LegitimateInterest"),
    Basis.CUSTOMER_EXCEPTION: (
        "ePrivacy Directive 2002/58 art. 13(2); Tw 11.7 (no separate basis, CJEU C-654/23)",
        "dpv:LegalBasis",
    ),
    Basis.NONE: ("-", "-"),
}

#: EEA member states (EU 27 plus Iceland, Liechtenstein, Norway), ISO 3166-1 alpha-2.
EEA_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
        "IS",
        "LI",
        "NO",
    ]
)
