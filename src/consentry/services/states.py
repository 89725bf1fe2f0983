"""Loading contact-point state as the rules judge it: the folded ledger plus register listings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from consentry.adapters.sql_store import Reader
from consentry.domain.state import ContactState, fold


def load(r: Reader, point_id: str, as_of: datetime | None = None) -> ContactState:
    """One contact point's state as of a moment."""
    state = fold(point_id, r.events_for(point_id, as_of=as_of))
    _listed(r, [state])
    return state


def load_many(r: Reader, point_ids: Sequence[str], as_of: datetime | None = None) -> dict[str, ContactState]:
    """Many contact points' states as of a moment, read in bulk; unknown ids are absent."""
    events = r.events_for_many(point_ids)
    states = {pid: fold(pid, evs, as_of=as_of) for pid, evs in events.items()}
    _listed(r, list(states.values()))
    return states


def _listed(r: Reader, states: list[ContactState]) -> None:
    """Add the do-not-contact register listings (the ledger's own listings stay)."""
    found = r.listings((s.kind, s.value) for s in states if s.value)
    if found:
        for s in states:
            s.listings.extend(found.get((s.kind, s.value), ()))
