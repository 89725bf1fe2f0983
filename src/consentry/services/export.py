"""Exporting the contact points a message may reach, for another mail tool, a call list or a postal list.

The audience is judged set-wise by the rules (`consentry.services.audience`), as of
the moment given (now or later). Only those allowed are written, each with the rule
that allowed it and the obligations its message or call must meet (a call list
carries, per call, the duty to offer the right to object); for e-mail and SMS each
row has its personal unsubscribe and preference links. Everyone else is counted by
the rule that excluded them, or held for review by a person.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from consentry.adapters import spreadsheet
from consentry.domain.campaigns import Selection
from consentry.domain.vocabulary import ELECTRONIC_MAIL, MessageKind
from consentry.services import audience, public
from consentry.services.app import App

COLUMNS = (
    "contact_point", "address", "name", "party", "rule", "basis", "obligations", "unsubscribe_url",
    "preferences_url",
)  # fmt: skip
#: Rows between progress reports.
_PROGRESS_EVERY = 2000


@dataclass
class ExportReport:
    """How many were judged, included, and excluded by which rule (or held for review)."""

    considered: int = 0
    included: int = 0
    excluded: Counter[str] = field(default_factory=Counter)
    review: Counter[str] = field(default_factory=Counter)


def reachable(
    app: App,
    out: TextIO,
    channel: str,
    purpose: str,
    kind: str = MessageKind.MARKETING.value,
    at: datetime | None = None,
    links: bool = True,
    progress: Callable[[int], None] | None = None,
    selection: Selection = Selection(),
) -> ExportReport:
    """Write a CSV (as Dutch Excel opens it) of the contact points that may be reached; review is never
    treated as allow."""
    target = audience.Target.of(channel, purpose, kind)
    found = audience.report(app, target, selection, at)
    report = ExportReport(considered=found.considered, included=found.included_count)
    report.excluded.update({c.rule.id: c.count for c in found.excluded})
    report.review.update({c.rule.id: c.count for c in found.review})
    with_links = links and target.channel in ELECTRONIC_MAIL  # calls and letters carry no link
    if with_links:
        app.signer()  # settle the signing key before the read transaction opens
    writer = spreadsheet.writer(out, COLUMNS)
    done = 0
    for m in audience.members(app, target, selection, found.at, verdict="allow"):
        urls = public.links(app, m.contact_point_id, purpose) if with_links else {}
        writer.writerow(
            (
                m.contact_point_id,
                m.value,
                m.name or "",
                m.party,
                m.rule.id,
                m.rule.basis.value,
                " ".join(o.id for o in m.obligations),
                urls.get("unsubscribe", ""),
                urls.get("preferences", ""),
            )
        )
        done += 1
        if progress and done % _PROGRESS_EVERY == 0:
            progress(_PROGRESS_EVERY)
    if progress and done % _PROGRESS_EVERY:
        progress(done % _PROGRESS_EVERY)
    return report
