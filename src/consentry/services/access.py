"""What is held about a person, for an access or portability request (GDPR Art. 15 and 20).

`person` gathers every contact point of the person a reference names (the points
that share its `contact_id`; without one the point is its own person), the whole
ledger timeline of those points with its evidence, where each point came from
(Art. 15(1)(g)), the purposes, and what the rules decide today for each channel
and purpose. Nothing of any other point is read into it: the timeline is the
events of exactly these points. The result is one JSON-native document (its
shape is `FORMAT` version `VERSION`, documented in docs/accountability.md); the
CLI and the API write it as JSON or hand it to the HTML report.

An erased person's document says so ("gewist op ...") and lists only what the
ledger keeps: events without personal fields, and the suppression that stops
any further contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from consentry.domain.events import Event
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState, local_day
from consentry.domain.vocabulary import CHANNELS_BY_POINT, NOT_FROM_SUBJECT
from consentry.policy.facts import Controller, Question
from consentry.policy.rules import evaluate
from consentry.services.app import App
from consentry.services.contacts import UnknownContact, point_key, resolve
from consentry.services.ledger_guard import LedgerDamaged, check
from consentry.services.ports import Reading
from consentry.services.setup import controller

FORMAT = "consentry-access-export"
VERSION = 1
#: Payload fields that are evidence of how and where an action was taken.
EVIDENCE_FIELDS = ("ip", "user_agent", "text_version", "collection_point", "language", "method", "via")


class ErasedAddress(UnknownContact):
    """The address or number names no contact point, but one with it was erased: only its
    suppression record remains (nothing else is held to export or prove). `since` is when."""

    def __init__(self, since: datetime) -> None:
        day = local_day(since)
        super().__init__(
            "contact",
            f"gewist op {day:%d-%m-%Y}; alleen een onderdrukkingsregel blijft / erased on "
            f"{day.isoformat()}; only a suppression record remains",
        )
        self.since = since


def points_of_person(r: Reading, point_id: str, state: ContactState) -> list[str]:
    """The ids of the person's contact points: those sharing `state`'s contact, the point itself first."""
    if not state.contact_id:
        return [point_id]
    found = r.contact_points_of([state.contact_id]).get(state.contact_id, [])
    return [point_id, *sorted(pid for pid in found if pid != point_id)]


def gather(app: App, r: Reading, ref: str, now: datetime) -> tuple[list[str], dict[str, ContactState]]:
    """The person's contact point ids (the one `ref` names first) and their states as of `now`.

    UnknownContact when `ref` names no registered point; ErasedAddress when it is an address
    or number whose point was erased. A point counts when it belongs to the same contact now
    (a re-classification can move one away).
    """
    try:
        point_id, _ = resolve(r, ref, app.settings.default_region)
    except UnknownContact:
        key = point_key(ref, app.settings.default_region)
        prior = None if isinstance(key, str) else r.suppression_of(*key)
        if prior is not None:
            raise ErasedAddress(prior.since) from None
        raise
    first = app.states.load_many(r, [point_id], as_of=now).get(point_id)
    if first is None:  # registered, yet without events: the ledger lost them
        check(app, r)
        raise LedgerDamaged(f"contact point {point_id} is registered but has no events in the ledger")
    ids = points_of_person(r, point_id, first)
    states = app.states.load_many(r, ids, as_of=now)
    ids = [pid for pid in ids if pid in states and states[pid].contact_id == first.contact_id]
    return ids, states


def person(app: App, ref: str, at: datetime | None = None) -> dict[str, Any]:
    """The access export of the person a reference names (a contact point of theirs)."""
    now = at or app.clock.now()
    with app.store.reader() as r:
        ids, states = gather(app, r, ref, now)
        events = r.events_for_many(ids)
        purposes = r.purposes()
        ctl = controller(r)
    points = [_point(app, states[pid], purposes, ctl, now) for pid in ids]
    timeline = sorted(
        (e for pid in ids for e in events.get(pid, [])),
        key=lambda e: (e.occurred_at, e.seq or 0),
    )
    erased = [states[pid].erased_at for pid in ids]
    return {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": now.isoformat(),
        "controller": {"name": ctl.name},
        "subject": {"contact_id": states[ids[0]].contact_id, "contact_points": ids, "asked_for": ids[0]},
        "erased": _erased(erased),
        "contact_points": points,
        "sources": [_source(states[pid]) for pid in ids],
        "purposes": [
            {"key": p.key, "name_nl": p.name_nl, "name_en": p.name_en, "kind": p.kind.value} for p in purposes
        ],
        "timeline": [event_json(e) for e in timeline],
    }


def event_json(e: Event) -> dict[str, Any]:
    """One ledger event as the export shows it: envelope, payload, and its evidence picked out."""
    payload = dict(e.payload)
    evidence = {k: payload[k] for k in EVIDENCE_FIELDS if k in payload}
    if payload.get("attachments"):
        evidence["attachments_sha256"] = list(payload["attachments"])
    return {
        "seq": e.seq,
        "id": e.id,
        "type": e.type,
        "contact_point": e.contact_point_id,
        "occurred_at": e.occurred_at.isoformat(),
        "recorded_at": e.recorded_at.isoformat(),
        "payload": payload,
        "evidence": evidence,
    }


def _erased(moments: Sequence[datetime | None]) -> dict[str, Any] | None:
    """Said when every point of the person was erased: when, in Dutch and English."""
    if not moments or any(m is None for m in moments):
        return None
    at = max(m for m in moments if m is not None)
    day = local_day(at)
    return {
        "at": at.isoformat(),
        "message_nl": f"Gewist op {day:%d-%m-%Y}; alleen een onderdrukkingsregel blijft, "
        "zodat we deze persoon niet opnieuw benaderen.",
        "message_en": f"Erased on {day.isoformat()}; only a suppression record remains, "
        "so that this person is not contacted again.",
    }


def _source(s: ContactState) -> dict[str, Any]:
    return {
        "contact_point": s.id,
        "source": s.source.value,
        "detail": s.source_detail,
        "registered_at": s.registered_at.isoformat() if s.registered_at else None,
        "from_the_person": s.source not in NOT_FROM_SUBJECT,
    }


def _point(
    app: App, s: ContactState, purposes: list[Purpose], ctl: Controller, now: datetime
) -> dict[str, Any]:
    return {
        "id": s.id,
        "kind": s.kind.value,
        "value": s.value or None,
        "display_name": s.display_name,
        "contact_id": s.contact_id,
        "party": s.party.value,
        "country": s.country,
        "registered_at": s.registered_at.isoformat() if s.registered_at else None,
        "attributes": dict(s.attributes),
        "tags": sorted(s.tags),
        "erased_at": s.erased_at.isoformat() if s.erased_at else None,
        "decisions": [] if s.erased_at else decisions(app, s, purposes, ctl, now),
    }


def decisions(
    app: App, s: ContactState, purposes: list[Purpose], ctl: Controller, now: datetime
) -> list[dict[str, Any]]:
    """What the rules decide now for every channel of the point and every purpose, with why."""
    out = []
    for p in purposes:
        for ch in sorted(CHANNELS_BY_POINT[s.kind]):
            d = evaluate(app.pack, s, Question(ch, p, now), ctl)
            reason = d.reasons[0]
            out.append(
                {
                    "purpose": p.key,
                    "channel": ch.value,
                    "verdict": d.verdict.value,
                    "basis": d.basis.value,
                    "rule": d.rule,
                    "citation": reason.citation,
                    "explanation_nl": reason.nl,
                    "explanation_en": reason.en,
                }
            )
    return out
