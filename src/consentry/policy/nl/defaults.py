"""The table's last rows: the specific denials that say why not, the obligations, the fallback."""

from __future__ import annotations

from consentry.policy.nl.dates import (
    GDPR,
    POSTFILTER_CODE_2021,
    TW_OPT_IN,
)
from consentry.policy.nl.obligations import EM
from consentry.policy.rules import Authority, Effect, Rule

ROWS: tuple[Rule, ...] = (
    # -- specific denials that say why not ----------------------------------------------
    Rule(
        "NL-EM-06",
        (*EM, "consent_defective"),
        Effect.DENY,
        "GDPR Art. 4(11), 7(2), 7(4); CJEU C-673/17 Planet49; EDPB Guidelines 05/2020",
        "De toestemming is ongeldig: vooraf aangevinkt, verstopt in voorwaarden, gebundeld, vaag "
        "geformuleerd of een voorwaarde voor iets anders (zoals een download).",
        "The consent is invalid: pre-ticked, hidden in terms, bundled, vague, or a condition for "
        "something else (such as a download).",
        in_force_from=TW_OPT_IN,
    ),
    Rule(
        "EU-GDPR-03.pending",
        ("marketing_message", "consent_pending"),
        Effect.DENY,
        "GDPR Art. 7(1)",
        "De toestemming is nog niet bevestigd via de bevestigingslink (dubbele opt-in). Tot die "
        "tijd is ze niet aantoonbaar.",
        "The consent has not been confirmed through the confirmation link (double opt-in). Until "
        "then it cannot be proven.",
    ),
    Rule(
        "NL-EM-01",
        EM,
        Effect.DENY,
        "Tw 11.7(1) (Stb. 2021, 103); opt-in for legal persons since 2009-10-01",
        "Elektronische marketing aan wie dan ook (ook aan organisaties) vraagt voorafgaande "
        "toestemming voor dit doel en kanaal die de afzender kan aantonen. Die is er niet, en "
        "geen uitzondering geldt.",
        "Electronic marketing to anyone (organisations too) needs prior consent for this purpose "
        "and channel that the sender can prove. There is none, and no exception applies.",
        in_force_from=TW_OPT_IN,
    ),
    # -- obligations that come with what is allowed --------------------------------------
    Rule(
        "NL-EM-05",
        ("marketing_message", "!live_call", "!post"),
        Effect.OBLIGE,
        "Tw 11.7; ePrivacy Directive art. 13(4); ACM guidance for e-mail senders",
        "Elk elektronisch marketingbericht vermeldt de echte afzender en een werkend afmeldadres.",
        "Every electronic marketing message shows the real sender and a working opt-out address.",
        obligations=("sender-identity", "opt-out-address"),
        in_force_from=TW_OPT_IN,
    ),
    Rule(
        "NL-POST-01.mention",
        ("marketing_message", "post"),
        Effect.OBLIGE,
        "Code voor het gebruik van Postfilter 2021 (self-regulation); in force 2021-04-01 as DDMA "
        "and mail houses announced it, the Code's own commencement clause not verified",
        "Sinds de Code Postfilter 2021 vermeldt geadresseerde reclame het Postfilter, ook in "
        "post aan klanten.",
        "Since the Code Postfilter 2021, addressed advertising mail mentions the Postfilter, in "
        "mail to customers too.",
        obligations=("postfilter-mention",),
        in_force_from=POSTFILTER_CODE_2021,
        authority=Authority.SELF_REGULATION,
    ),
    Rule(
        "NL-TM-04",
        ("marketing_message", "live_call"),
        Effect.OBLIGE,
        "ACM / ConsuWijzer; Tw 11.7",
        "Bij elk telemarketinggesprek: bied bezwaar aan, blokkeer het nummer direct bij bezwaar, "
        "en bel niet anoniem.",
        "In every telemarketing call: offer the right to object, suppress the number at once on "
        "objection, and do not call from a hidden number.",
        obligations=("offer-right-to-object-in-call", "suppress-on-objection", "no-hidden-number"),
    ),
    Rule(
        "EU-GDPR-06",
        ("direct_marketing", "not_from_subject", "!art14_notice_given"),
        Effect.OBLIGE,
        "GDPR Art. 14(3)",
        "De gegevens komen niet van de persoon zelf: informeer hem of haar, met de bron, binnen "
        "een maand en uiterlijk bij het eerste contact.",
        "The data did not come from the person: inform them, including the source, within one "
        "month and at the first contact at the latest.",
        obligations=("art14-notice",),
        in_force_from=GDPR,
    ),
)

FALLBACK = Rule(
    "NL-NONE",
    (),
    Effect.REVIEW,
    "-",
    "Geen regel uit het pakket nl is op deze vraag van toepassing op deze datum; een mens moet "
    "dit beoordelen.",
    "No rule of the nl pack applies to this question on this date; a person must judge it.",
    authority=Authority.POLICY,
)
