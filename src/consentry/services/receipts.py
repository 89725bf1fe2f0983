"""Consent receipts in the shape of ISO/IEC TS 27560 (consent record information structure).

One receipt per consent (`consent.given` event), or one for every consent given for
a purpose. The fields are the standard's, written in snake_case as the W3C DPV
community group's plain-JSON consent record does; each is filled from a ledger
event, and every entry of `event` carries that event's id and its place in the hash
chain (seq, hash, prev_hash), so a receipt can be held against the ledger
(`consentry ledger prove --event ID`). docs/accountability.md gives the mapping
field by field, and what consentry does not record (storage location, recipients).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.purposes import Purpose
from consentry.domain.state import ConsentRecord, ContactState, local_day
from consentry.domain.vocabulary import BASIS_REFERENCES, INVALID_METHODS, Basis, ConsentMethod
from consentry.services.app import App
from consentry.services.consent_proof import chain_link, confirmations, prove_command
from consentry.services.errors import InputError
from consentry.services.ports import Reading
from consentry.services.setup import controller

SCHEMA_VERSION = "ISO/IEC TS 27560:2023 (consentry receipt 1)"
CONTROLLER_ID = "controller"
WITHDRAWAL_METHOD = (
    "De afmeldlink in elk bericht of het voorkeurencentrum / the unsubscribe link in every "
    "message or the preference centre (GDPR Art. 7(3))"
)
_OPT_OUTS = ("consent.withdrawn", "unsubscribed")


#: The event types a receipt's `event` list is made of.
_LIFE = ("consent.given", "consent.confirmed", *_OPT_OUTS)
Links = dict[str, dict[str, Any]]


def for_event(app: App, event_id: str) -> dict[str, Any]:
    """The receipt of one consent, by the id of its `consent.given` event."""
    with app.store.reader() as r:
        row = r.event_by_id(event_id)
        if row is None or row.event.type != "consent.given":
            raise InputError("event", f"no consent.given event {event_id!r} in the ledger")
        point = row.event.contact_point_id
        return _receipts(app, r, {point: [event_id]}, None)[0]


def for_purpose(app: App, purpose: str) -> list[dict[str, Any]]:
    """The receipts of every consent given for a purpose, in ledger order (reads the whole ledger once).

    The chain links of the events a receipt names are taken from that one read.
    """
    with app.store.reader() as r:
        if r.purpose(purpose) is None:
            raise InputError("purpose", f"unknown purpose {purpose!r}; see `consentry purposes list`")
        wanted: dict[str, list[str]] = {}
        links: Links = {}
        for row in r.chain():
            e = row.event
            if e.type not in _LIFE:
                continue
            links[e.id] = {"seq": row.seq, "hash": row.hash, "prev_hash": row.prev_hash}
            if e.type == "consent.given" and e.payload.get("purpose") == purpose:
                wanted.setdefault(e.contact_point_id, []).append(e.id)
        return _receipts(app, r, wanted, links)


def _receipts(
    app: App, r: Reading, wanted: dict[str, list[str]], links: Links | None
) -> list[dict[str, Any]]:
    now = app.clock.now()
    events = r.events_for_many(list(wanted))
    # A consent's life is in its own point's events alone (no register, no other point).
    states = {pid: fold(pid, evs, as_of=now) for pid, evs in events.items()}
    purposes = {p.key: p for p in r.purposes()}
    ctl = controller(r)

    def link(event_id: str) -> dict[str, Any]:
        found = links.get(event_id) if links is not None else chain_link(r, event_id)
        return found or {}

    out = []
    for pid, ids in wanted.items():
        evs = events.get(pid, [])
        by_id = {e.id: e for e in evs}
        records = {c.event_id: c for c in states[pid].consents}
        confirmed = confirmations(evs)
        for event_id in ids:
            given = by_id[event_id]
            receipt = _receipt(given, states[pid], records.get(event_id), purposes, ctl.name, now)
            record = records.get(event_id)
            receipt["event"] = _events(link, given, confirmed.get(event_id), evs, record, now)
            out.append(receipt)
    out.sort(key=lambda x: x["event"][0]["ledger"]["seq"])
    return out


def _months(n: Any) -> str | None:
    return f"P{n}M" if isinstance(n, int) else None


def _receipt(
    e: Event,
    s: ContactState,
    c: ConsentRecord | None,
    purposes: dict[str, Purpose],
    controller_name: str,
    now: datetime,
) -> dict[str, Any]:
    p = e.payload
    purpose = purposes.get(p["purpose"])
    law, dpv = BASIS_REFERENCES[Basis.CONSENT]
    return {
        "schema_version": SCHEMA_VERSION,
        "record_id": e.id,
        "receipt_id": f"{e.id}/{s.last_seq}",
        "created": now.isoformat(),
        "pii_principal_id": s.contact_id or s.id,
        "pii_processing": {
            "privacy_notice": p.get("text_version"),
            "language": p.get("language", "nl"),
            "purposes": [
                {
                    "purpose_id": p["purpose"],
                    "purpose": purpose.name_en if purpose else p["purpose"],
                    "purpose_nl": purpose.name_nl if purpose else p["purpose"],
                    "purpose_type": "dpv:DirectMarketing",
                    "lawful_basis": {"law": law, "dpv": dpv},
                    "pii_information": [{"pii_type": s.kind.value, "pii_optional": False}],
                    "pii_controllers": [CONTROLLER_ID],
                    "collection_method": [p["method"], s.source.value],
                    "collection_point": p.get("collection_point"),
                    "processing_method": [f"contact by {ch}" for ch in p["channels"]],
                    "retention_period": _months(p.get("valid_for_months")),
                    "jurisdiction": "NL",
                    "withdrawal_method": WITHDRAWAL_METHOD,
                    "defects": list(c.defects) if c else [],
                }
            ],
        },
        "party_identification": [
            {"party_id": CONTROLLER_ID, "party_name": controller_name, "party_role": "PII Controller"},
            {"party_id": s.id, "party_role": "PII Principal", "party_type": s.kind.value},
        ],
    }


def _entry(
    link: Callable[[str], dict[str, Any]], e: Event, state: str, kind: str, duration: str | None
) -> dict[str, Any]:
    return {
        "event_time": e.occurred_at.isoformat(),
        "validity_duration": duration,
        "entity_id": e.contact_point_id,
        "event_type": kind,
        "event_state": state,
        "channels": list(e.payload["channels"]) if "channels" in e.payload else None,
        "ledger": {"event_id": e.id, "type": e.type, **link(e.id), "prove": prove_command(e.id)},
    }


def _events(
    link: Callable[[str], dict[str, Any]],
    given: Event,
    confirmation: Event | None,
    events: Sequence[Event],
    c: ConsentRecord | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """The consent's life as 27560 events: given (or requested until confirmed), confirmed, withdrawn."""
    method = ConsentMethod(given.payload["method"])
    kind = "implied" if method in INVALID_METHODS else "expressed"
    duration = _months(given.payload.get("valid_for_months"))
    if c is not None and c.defects:
        first = "invalidated"
    elif method is ConsentMethod.DOUBLE_OPT_IN:
        first = "requested"
    else:
        first = "given"
    out = [_entry(link, given, first, kind, duration)]
    if confirmation is not None:
        out.append(_entry(link, confirmation, "given" if first != "invalidated" else first, kind, duration))
    out.extend(_entry(link, e, "withdrawn", kind, "P0D") for e in _opt_outs(given, events))
    expires = c.expires_on if c is not None and c.withdrawn_at is None else None
    if expires is not None and local_day(now) >= expires:
        out.append(
            {
                "event_time": expires.isoformat(),
                "validity_duration": "P0D",
                "entity_id": given.contact_point_id,
                "event_type": kind,
                "event_state": "expired",
                "channels": None,
                "ledger": None,
            }
        )
    return out


def _opt_outs(given: Event, events: Iterable[Event]) -> list[Event]:
    """The withdrawals and unsubscribes after the consent that cover its purpose."""
    purpose = given.payload["purpose"]
    after = False
    found = []
    for e in events:
        if e.id == given.id:
            after = True
        elif after and e.type in _OPT_OUTS and e.payload.get("purpose") in (None, purpose):
            found.append(e)
    return found
