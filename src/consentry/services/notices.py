"""The Art. 14 notice: owed to people whose data did not come from themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consentry.domain.vocabulary import NOT_FROM_SUBJECT
from consentry.services.app import App


@dataclass(frozen=True, slots=True)
class NoticeDue:
    """A contact point that is owed an Art. 14 notice, and by when."""

    contact_point: str
    value: str
    source: str
    due: datetime


def due(app: App, before: datetime | None = None) -> list[NoticeDue]:
    """Every notice owed (due by `before`, when given), earliest first."""
    found = []
    with app.store.reader() as r:
        for state in r.states_from_sources(s.value for s in NOT_FROM_SUBJECT):
            when = state.get("art14_notice_due")
            if not when:
                continue
            moment = datetime.fromisoformat(when)
            if before is None or moment <= before:
                found.append(NoticeDue(state["id"], state["value"], state["source"], moment))
    return sorted(found, key=lambda n: (n.due, n.contact_point))
