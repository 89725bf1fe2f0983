"""The flows a person goes through without an account: sign up, confirm, unsubscribe.

Every flow records what happened as ledger events with its evidence (time, IP,
user agent, the exact form version and language). Public links carry signed
tokens bound to a contact point (and purpose); a person never types an address
to unsubscribe, and answers never reveal whether an address was known. The
preference centre, reached by the same links, is `services/preferences.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from consentry.adapters.addresses import AddressError, normalise_email
from consentry.domain.forms import Form
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import PointKind
from consentry.services import forms, ledger, mails, states
from consentry.services.app import App
from consentry.services.contacts import resolve
from consentry.services.errors import FileRejected, InputError, TokenInvalid
from consentry.services.tokens import Claims, TokenUse

LANGS = ("nl", "en")
_UA_MAX = 512


@dataclass(frozen=True, slots=True)
class Evidence:
    """Where an action came from."""

    ip: str | None = None
    user_agent: str | None = None

    def fields(self) -> dict[str, str]:
        """The evidence as event fields (empty ones left out)."""
        out = {}
        if self.ip:
            out["ip"] = self.ip
        if self.user_agent:
            out["user_agent"] = self.user_agent[:_UA_MAX]
        return out


def language(lang: str) -> str:
    """One of LANGS; InputError otherwise."""
    if lang not in LANGS:
        raise InputError("lang", "must be nl or en")
    return lang


# -- sign-up and confirmation --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignupOutcome:
    """What the thank-you page shows: the same whether or not the address was known."""

    form: Form
    lang: str
    asked_confirmation: bool
    lead_magnet_url: str | None


def sign_up(
    app: App, form_key: str, email: str, ticked: list[str], lang: str, evidence: Evidence
) -> SignupOutcome:
    """Record a sign-up as pending double opt-in consents and mail the confirmation link."""
    lang = language(lang)
    form = forms.get(app, form_key)
    try:
        address = normalise_email(email).value
    except AddressError as exc:
        raise InputError("email", str(exc)) from None
    unknown = [p for p in ticked if form.item(p) is None]
    if unknown:
        raise InputError("purposes", f"this form does not ask for {', '.join(unknown)}")
    wanted = list(dict.fromkeys(ticked))
    s = app.settings
    app.limiter.hit(s.signup_limit_per_address, "signup-address", address)
    if evidence.ip:
        app.limiter.hit(s.signup_limit_per_client, "signup-client", evidence.ip)
    # No box ticked: the lead magnet is delivered all the same and nothing is stored.
    if wanted:
        consent_ids = _record_signup(app, form, address, wanted, lang, evidence)
        with app.store.reader() as r:
            point_id = r.point_id(PointKind.EMAIL, address)
        assert point_id is not None
        token = app.signer().make(TokenUse.CONFIRM, point_id, None, e=consent_ids)
        purposes = [_purpose(app, p) for p in wanted]
        mails.send_confirmation(app, address, purposes, _url(app, "c", token), lang)
    return SignupOutcome(form, lang, bool(wanted), form.lead_magnet_url)


def _record_signup(
    app: App, form: Form, address: str, wanted: list[str], lang: str, evidence: Evidence
) -> list[str]:
    with app.store.reader() as r:
        known = r.point_id(PointKind.EMAIL, address) is not None
    records: list[dict[str, Any]] = []
    if not known:
        records.append(
            {
                "type": "contact_point.registered",
                "kind": "email",
                "value": address,
                "source": "web_form",
                "source_detail": f"form {form.text_version}",
            }
        )
    ids = []
    for purpose in wanted:
        event_id = app.ids("ev")
        ids.append(event_id)
        records.append(
            {
                "id": event_id,
                "type": "consent.given",
                "contact": address,
                "purpose": purpose,
                "channels": ["email"],
                "method": "double_opt_in",
                "text_version": form.text_version,
                "language": lang,
                "collection_point": form.key,
                **evidence.fields(),
            }
        )
        if form.consent_valid_for_months is not None:
            records[-1]["valid_for_months"] = form.consent_valid_for_months
    try:
        ledger.append_records(app, enumerate(records, 1))
    except FileRejected:
        if known:
            raise
        # Registered by a simultaneous sign-up in the meantime: record the consents only.
        ledger.append_records(app, enumerate(records[1:], 1))
    return ids


@dataclass(frozen=True, slots=True)
class ConfirmOutcome:
    """What the confirmation did."""

    purposes: list[Purpose]
    already: bool
    preferences_url: str


def link_owner(app: App, use: TokenUse, token: str) -> str:
    """The contact point a personal link is for; TokenInvalid or TokenExpired when it is not valid."""
    return _claims(app, use, token).contact_point


def _claims(app: App, use: TokenUse, token: str) -> Claims:
    # Only confirmation links expire; unsubscribe and preference links must keep working.
    max_age = int(timedelta(days=app.settings.doi_expiry_days).total_seconds())
    return app.signer().read(use, token, max_age_s=max_age if use is TokenUse.CONFIRM else None)


def confirm(app: App, token: str, evidence: Evidence) -> ConfirmOutcome:
    """Confirm the consents a confirmation link names (once; later clicks change nothing)."""
    claims = _claims(app, TokenUse.CONFIRM, token)
    ids = claims.extra.get("e")
    if not isinstance(ids, list) or not ids:
        raise TokenInvalid("confirm")
    state = state_of(app, claims)
    to_confirm = [c for c in state.consents if c.event_id in ids]
    if not to_confirm:
        raise TokenInvalid("confirm")
    pending = [c for c in to_confirm if c.pending and c.withdrawn_at is None]
    records = [
        {
            "type": "consent.confirmed",
            "contact": state.id,
            "purpose": c.purpose,
            "consent_event": c.event_id,
            **evidence.fields(),
        }
        for c in pending
    ]
    if records:
        ledger.append_records(app, enumerate(records, 1))
    purposes = [_purpose(app, c.purpose) for c in to_confirm]
    return ConfirmOutcome(purposes, not records, links(app, state.id, None)["preferences"])


# -- unsubscribe ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnsubscribeOutcome:
    """What was unsubscribed: one purpose, or everything when `purpose` is None."""

    purpose: Purpose | None
    preferences_url: str


def unsubscribe_claims(app: App, token: str) -> tuple[Claims, Purpose | None]:
    """Check an unsubscribe token and say which purpose it is for (None: everything)."""
    claims = app.signer().read(TokenUse.UNSUBSCRIBE, token)
    with app.store.reader() as r:  # the point must exist; its state is not needed
        if r.point_kind(claims.contact_point) is None:
            raise TokenInvalid("unknown contact point")
        purpose = r.purpose(claims.purpose) if claims.purpose else None
    if claims.purpose and purpose is None:
        raise TokenInvalid(f"unknown purpose {claims.purpose}")
    return claims, purpose


def unsubscribe(
    app: App,
    token: str,
    everything: bool,
    via: str,
    evidence: Evidence,
    details: dict[str, str] | None = None,
) -> UnsubscribeOutcome:
    """Unsubscribe at once from the token's purpose, or from everything; `details` are event fields."""
    claims, purpose = unsubscribe_claims(app, token)
    if everything:
        purpose = None
    record: dict[str, Any] = {
        "type": "unsubscribed",
        "contact": claims.contact_point,
        "via": via,
        **(details or {}),
    }
    if purpose is not None:
        record["purpose"] = purpose.key
    if claims.extra.get("campaign"):
        record["campaign"] = str(claims.extra["campaign"])
    ledger.append_records(app, [(1, {**record, **evidence.fields()})])
    return UnsubscribeOutcome(purpose, links(app, claims.contact_point, None)["preferences"])


# -- links and helpers ---------------------------------------------------------------------


def links(app: App, contact_point: str, purpose: str | None, campaign: str | None = None) -> dict[str, str]:
    """The personal links a message carries: unsubscribe (one-click) and the preference centre."""
    signer = app.signer()
    extra = {"campaign": campaign} if campaign else {}
    unsubscribe_token = signer.make(TokenUse.UNSUBSCRIBE, contact_point, purpose, **extra)
    return {
        "unsubscribe": _url(app, "u", unsubscribe_token),
        "preferences": _url(app, "p", signer.make(TokenUse.PREFERENCES, contact_point)),
    }


def _url(app: App, prefix: str, token: str) -> str:
    return f"{app.settings.base_url.rstrip('/')}/{prefix}/{token}"


def state_of(app: App, claims: Claims) -> ContactState:
    """The state of the contact point a valid token names; TokenInvalid when it is gone."""
    with app.store.reader() as r:
        if r.point_kind(claims.contact_point) is None:
            raise TokenInvalid("unknown contact point")
        return states.load(r, claims.contact_point)


def _purpose(app: App, key: str) -> Purpose:
    with app.store.reader() as r:
        p = r.purpose(key)
    if p is None:
        raise TokenInvalid(f"unknown purpose {key}")
    return p


def mask(value: str, kind: PointKind) -> str:
    """Show enough of an address to recognise it, not enough to read it off a screen."""
    if kind is PointKind.EMAIL:
        local, _, domain = value.partition("@")
        return f"{local[:1]}{'*' * max(2, len(local) - 1)}@{domain}"
    if kind is PointKind.PHONE:
        return f"{value[:3]}{'*' * (len(value) - 5)}{value[-2:]}"
    return value.split("\n", 1)[0][:3] + "…"


def links_for(app: App, contact: str, purpose: str | None, campaign: str | None = None) -> dict[str, str]:
    """`links` for a contact point as people name it (id, address, number); checks the purpose exists."""
    with app.store.reader() as r:
        point_id, _ = resolve(r, contact, app.settings.default_region)
        if purpose is not None and r.purpose(purpose) is None:
            raise InputError("purpose", f"unknown purpose {purpose!r}")
    return links(app, point_id, purpose, campaign)
