"""Exporting the contact points a message may reach, for another mail tool, with the reasons for the rest.

Every contact point that can carry the channel is judged by the rules, as of the
moment given; only those allowed are written, each with the obligations its
message must meet and, for e-mail and SMS, its personal unsubscribe and
preference links. The excluded are counted by the rule that excluded them.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TextIO

from consentry.bootstrap import App
from consentry.domain.vocabulary import CHANNELS_BY_POINT, Activity, Channel, MessageKind, PointKind, Verdict
from consentry.policy.facts import Question
from consentry.policy.rules import evaluate
from consentry.services import public, states
from consentry.services.errors import InputError, choice
from consentry.services.setup import controller

COLUMNS = (
    "contact_point", "address", "name", "party", "rule", "basis", "obligations", "unsubscribe_url",
    "preferences_url",
)  # fmt: skip


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
) -> ExportReport:
    """Write a CSV of the contact points that may be reached; review is never treated as allow."""
    ch = choice(Channel, "channel", channel)
    mk = choice(MessageKind, "kind", kind)
    if links:
        app.signer()  # settle the signing key before the read transaction opens
    point_kind = next(k for k, chans in CHANNELS_BY_POINT.items() if ch in chans)
    moment = at or app.clock.now()
    report = ExportReport()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    with app.store.reader() as r:
        p = r.purpose(purpose)
        if p is None:
            raise InputError("purpose", f"unknown purpose {purpose!r}")
        ctl = controller(r)
        for ids in r.point_ids_of_kind(point_kind):
            for pid, state in states.load_many(r, ids, as_of=moment).items():
                d = evaluate(app.pack, state, Question(ch, p, moment, mk, Activity.CONTACT), ctl)
                report.considered += 1
                if d.verdict is Verdict.DENY:
                    report.excluded[d.rule] += 1
                    continue
                if d.verdict is Verdict.REVIEW:
                    report.review[d.rule] += 1
                    continue
                report.included += 1
                urls = public.links(app, pid, p.key) if links and point_kind is not PointKind.POSTAL else {}
                writer.writerow(
                    (
                        pid,
                        state.value,
                        state.display_name or "",
                        state.party.value,
                        d.rule,
                        d.basis.value,
                        " ".join(o.id for o in d.obligations),
                        urls.get("unsubscribe", ""),
                        urls.get("preferences", ""),
                    )
                )
            if progress:
                progress(len(ids))
    return report
