"""The preference centre: a person's purposes and channels, changed through a signed link.

Every change is recorded as ledger events with its evidence, as the other public
flows (`services/public.py`) record theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from consentry.domain.dsr import DsrRequest, IdentityMethod, IdentityStatus, Via
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import CHANNELS_BY_POINT, Channel, ObjectionScope, Verdict
from consentry.policy.facts import Question
from consentry.policy.rules import evaluate
from consentry.services import dsr, ledger
from consentry.services.app import App
from consentry.services.errors import InputError
from consentry.services.public import Evidence, language, mask, state_of
from consentry.services.setup import controller
from consentry.services.tokens import TokenUse

PREFERENCE_TEXT_VERSION = "preference-centre@1"
#: The requests the preference centre takes (an objection has its own form).
PAGE_REQUESTS = ("access", "erasure", "rectification", "restriction", "portability")


@dataclass(frozen=True, slots=True)
class PreferenceRow:
    """One purpose over one channel: may it reach the person now, and why."""

    purpose: Purpose
    channel: Channel
    receiving: bool
    status: str
    rule: str


@dataclass(frozen=True, slots=True)
class PreferenceView:
    """Everything the preference centre shows."""

    contact_point: str
    masked_address: str
    rows: list[PreferenceRow]
    objected_dm: bool
    objected_profiling: bool
    requests: list[tuple[str, datetime]]


def view(app: App, token: str) -> PreferenceView:
    """The person's purposes and channels with their current state."""
    claims = app.signer().read(TokenUse.PREFERENCES, token)
    return _view(app, state_of(app, claims))


def _status(state: ContactState, purpose: str, channel: Channel, now: datetime, expiry: timedelta) -> str:
    for c in reversed(state.consents):
        if c.purpose != purpose or channel not in c.channels or c.withdrawn_at is not None:
            continue
        if c.defects:
            continue
        if not c.pending:
            return "subscribed"
        return "pending" if now - c.given_at <= expiry else "expired"
    if any(o.covers(purpose, channel) for o in state.opt_outs):
        return "unsubscribed"
    return "none"


def _view(app: App, state: ContactState) -> PreferenceView:
    now = app.clock.now()
    expiry = timedelta(days=app.settings.doi_expiry_days)
    with app.store.reader() as r:
        all_purposes = r.purposes()
        ctl = controller(r)
    rows = []
    for p in all_purposes:
        for ch in sorted(CHANNELS_BY_POINT[state.kind]):
            d = evaluate(app.pack, state, Question(ch, p, now), ctl)
            status = _status(state, p.key, ch, now, expiry)
            rows.append(PreferenceRow(p, ch, d.verdict is Verdict.ALLOW, status, d.rule))
    return PreferenceView(
        state.id,
        mask(state.value, state.kind),
        rows,
        # An objection made through another address or number of the person counts here too.
        ObjectionScope.DIRECT_MARKETING.value in (state.objections.keys() | state.person_objections.keys()),
        ObjectionScope.PROFILING.value in (state.objections.keys() | state.person_objections.keys()),
        list(state.requests),
    )


def update(
    app: App, token: str, wanted: set[tuple[str, str]], lang: str, evidence: Evidence
) -> PreferenceView:
    """Make the ticked purpose/channel pairs receive and the others not; record each change."""
    lang = language(lang)
    claims = app.signer().read(TokenUse.PREFERENCES, token)
    view = _view(app, state_of(app, claims))
    known = {(row.purpose.key, row.channel.value): row for row in view.rows}
    unknown = sorted(f"{p}/{c}" for p, c in wanted - set(known))
    if unknown:
        raise InputError("preferences", f"unknown purpose or channel: {', '.join(unknown)}")
    records: list[dict[str, Any]] = []
    for (purpose, channel), row in known.items():
        if (purpose, channel) in wanted and not row.receiving:
            records.append(
                {
                    "type": "consent.given",
                    "contact": claims.contact_point,
                    "purpose": purpose,
                    "channels": [channel],
                    # The link came by e-mail to this address: that is the confirmation.
                    "method": "single_opt_in",
                    "text_version": PREFERENCE_TEXT_VERSION,
                    "language": lang,
                    "collection_point": "preference-centre",
                    **evidence.fields(),
                }
            )
        elif (purpose, channel) not in wanted and row.receiving:
            records.append(
                {
                    "type": "unsubscribed",
                    "contact": claims.contact_point,
                    "purpose": purpose,
                    "channels": [channel],
                    "via": "preference_centre",
                    **evidence.fields(),
                }
            )
    if records:
        ledger.append_records(app, enumerate(records, 1))
    return _view(app, state_of(app, claims))


def object_to(app: App, token: str, scope: str, evidence: Evidence) -> None:
    """Record an Art. 21 objection to direct marketing or to profiling."""
    claims = app.signer().read(TokenUse.PREFERENCES, token)
    try:
        scope = ObjectionScope(scope).value
    except ValueError:
        raise InputError("scope", "must be direct_marketing or profiling") from None
    record = {"type": "objection.recorded", "contact": claims.contact_point, "scope": scope}
    ledger.append_records(app, [(1, {**record, "via": "preference_centre", **evidence.fields()})])


def make_request(
    app: App, token: str, kind: str, note: str | None, evidence: Evidence, lang: str | None = None
) -> DsrRequest:
    """Open a data-subject request for the person the link names (due within the month).

    The link was mailed to this address and signed: that is the identity check
    (GDPR Art. 12(6)). An objection has its own form (`object_to`).
    """
    claims = app.signer().read(TokenUse.PREFERENCES, token)
    if kind not in PAGE_REQUESTS:
        raise InputError("request", f"must be one of: {', '.join(PAGE_REQUESTS)}")
    return dsr.open_request(
        app,
        claims.contact_point,
        kind,
        via=Via.PREFERENCE_CENTRE,
        note=note.strip()[:2000] if note and note.strip() else None,
        language=language(lang) if lang is not None else None,
        identity=dsr.Identity(IdentityStatus.VERIFIED, IdentityMethod.SIGNED_LINK),
        evidence=evidence.fields(),
    )
