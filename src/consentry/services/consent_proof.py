"""Proof of consent for one person (GDPR Art. 7(1)): each consent with its evidence and its chain links.

For every `consent.given` on the person's contact points: the purpose, the channels,
how it was collected, the form and consent-text version shown (and, where the form
is stored, the very sentence shown in Dutch and English), the language, the
moment, IP address, user agent, source and attached proof by SHA-256; the double
opt-in confirmation with its own evidence; what became of it since (withdrawn,
expired, defects). Each of those events comes with its place in the hash chain
(seq, hash, prev_hash) and the commands that let anyone re-verify it
(`consentry ledger prove --event ID`, `consentry ledger verify`; docs/ledger.md).
The document is JSON-native (`FORMAT` version `VERSION`); the HTML report renders it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from consentry.domain.events import Event
from consentry.domain.state import ConsentRecord, ContactState, local_day
from consentry.services.access import gather
from consentry.services.app import App
from consentry.services.ports import Reading
from consentry.services.setup import controller

FORMAT = "consentry-consent-proof"
VERSION = 1
VERIFY_ALL = "consentry ledger verify"


def prove_command(event_id: str) -> str:
    """The command that proves one event is in a signed checkpoint (docs/ledger.md)."""
    return f"consentry ledger prove --event {event_id}"


def chain_link(r: Reading, event_id: str) -> dict[str, Any] | None:
    """An event's place in the hash chain: seq, hash and prev_hash (the row before's hash, or the
    chain's genesis: the store keeps each hash once, docs/ledger.md)."""
    row = r.event_by_id(event_id)
    if row is None:
        return None
    return {"seq": row.seq, "hash": row.hash, "prev_hash": row.prev_hash}


def confirmations(events: Sequence[Event]) -> dict[str, Event]:
    """Per consent event id, the `consent.confirmed` that confirmed it (as the fold matches them)."""
    latest: dict[str, str] = {}
    confirmed: dict[str, Event] = {}
    for e in events:
        if e.type == "consent.given":
            latest[e.payload["purpose"]] = e.id
        elif e.type == "consent.confirmed":
            target = e.payload.get("consent_event") or latest.get(e.payload["purpose"])
            if target is not None and target not in confirmed:
                confirmed[target] = e
    return confirmed


def proof(app: App, ref: str, at: datetime | None = None) -> dict[str, Any]:
    """The proof-of-consent document for the person a reference names."""
    now = at or app.clock.now()
    with app.store.reader() as r:
        ids, states = gather(app, r, ref, now)
        by_point = r.events_for_many(ids)
        purposes = {p.key: p for p in r.purposes()}
        consents = []
        for pid in ids:
            events = by_point.get(pid, [])
            confirmed = confirmations(events)
            records = {c.event_id: c for c in states[pid].consents}
            for e in events:
                if e.type == "consent.given":
                    consents.append(
                        _consent(r, e, states[pid], records.get(e.id), confirmed.get(e.id), purposes, now)
                    )
        head_seq, head_hash = r.head()
        ctl = controller(r)
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": now.isoformat(),
        "controller": {"name": ctl.name},
        "subject": {"contact_points": ids, "asked_for": ids[0]},
        "ledger_head": {"seq": head_seq, "hash": head_hash},
        "consents": consents,
        "verify": VERIFY_ALL,
    }


def _status(c: ConsentRecord | None, now: datetime) -> str:
    if c is None:
        return "unknown"
    if c.defects:
        return "invalid"
    if c.withdrawn_at is not None:
        return "withdrawn"
    if c.expires_on is not None and local_day(now) >= c.expires_on:
        return "expired"
    if c.pending:
        return "pending"
    return "active"


def _consent(
    r: Reading,
    e: Event,
    s: ContactState,
    c: ConsentRecord | None,
    confirmation: Event | None,
    purposes: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    p = e.payload
    purpose = purposes.get(p["purpose"])
    out: dict[str, Any] = {
        "event_id": e.id,
        "contact_point": e.contact_point_id,
        "kind": s.kind.value,
        "value": s.value or None,
        "purpose": p["purpose"],
        "purpose_name_nl": purpose.name_nl if purpose else p["purpose"],
        "purpose_name_en": purpose.name_en if purpose else p["purpose"],
        "channels": list(p["channels"]),
        "method": p["method"],
        "given_at": e.occurred_at.isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "text_version": p.get("text_version"),
        "text_shown": _text_shown(r, p.get("text_version"), p["purpose"]),
        "language": p.get("language"),
        "collection_point": p.get("collection_point"),
        "ip": p.get("ip"),
        "user_agent": p.get("user_agent"),
        "source": s.source.value,
        "source_detail": s.source_detail,
        "attachments_sha256": list(p.get("attachments", [])),
        "valid_for_months": p.get("valid_for_months"),
        "defects": list(c.defects) if c else [],
        "status": _status(c, now),
        "withdrawn_at": c.withdrawn_at.isoformat() if c and c.withdrawn_at else None,
        "expires_on": c.expires_on.isoformat() if c and c.expires_on else None,
        "chain": chain_link(r, e.id),
        "prove": prove_command(e.id),
        "confirmation": None,
    }
    if confirmation is not None:
        cp = confirmation.payload
        out["confirmation"] = {
            "event_id": confirmation.id,
            "confirmed_at": confirmation.occurred_at.isoformat(),
            "ip": cp.get("ip"),
            "user_agent": cp.get("user_agent"),
            "chain": chain_link(r, confirmation.id),
            "prove": prove_command(confirmation.id),
        }
    return out


def _text_shown(r: Reading, text_version: Any, purpose: str) -> dict[str, str] | None:
    """The consent sentence of a stored form version (`key@version`) for the purpose, in nl and en."""
    if not isinstance(text_version, str) or "@" not in text_version:
        return None
    key, _, version = text_version.rpartition("@")
    if not version.isdigit():
        return None
    form = r.form(key, int(version))
    if form is None:
        return None
    for item in form.get("items", []):
        if isinstance(item, dict) and item.get("purpose") == purpose:
            return {"nl": str(item.get("text_nl", "")), "en": str(item.get("text_en", ""))}
    return None
