"""Retention's reads, set-wise: the facts of many contact points from the audience projection.

`point_facts` already holds, per point, whether a consent holds (`c_valid`, and the end
days of those given for a time in `c_timed`), the purchases and the day the relationship
ended, the opt-outs and the objection flags. Points with an open consent or a running
contract are skipped as they are read: no policy can erase them. For the rest, one
grouped query over the batch's events gives the moments the periods count from (the last
event, the last opt-out); objections to direct marketing, which can be withdrawn, are
replayed from their few events; the data-subject requests not closed yet are read by their
state (a few, whatever the size of the database) and matched to the batch's points by point
and by contact. `domain.retention.facts_of`
reads the same facts from a folded state; the tests hold the two to each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa

from consentry.adapters.sql import tables as t
from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.projection import fact_bits
from consentry.adapters.sql.requests import open_request_kinds
from consentry.adapters.sql.stored import utc
from consentry.domain.retention import ALL, RetentionFacts
from consentry.domain.vocabulary import ObjectionScope
from consentry.policy.factrows import Numbering, pair

_OPT_OUT_TYPES = ("unsubscribed", "consent.withdrawn")
_OBJECTION_TYPES = ("objection.recorded", "objection.withdrawn")
_DIRECT_MARKETING = ObjectionScope.DIRECT_MARKETING.value
#: The opt-out token of an unsubscribe from every purpose on every channel.
_OUT_OF_ALL = pair(ALL, ALL)


def untok(text: str) -> str:
    """A token part as written before `factrows.tok` escaped it."""
    if "%" not in text:
        return text
    return text.replace("%7C", "|").replace("%2F", "/").replace("%3D", "=").replace("%25", "%")


def _timed_until(c_timed: str) -> date | None:
    """The latest end day among a row's consents given for a time (tokens `purpose/channel=a=DAY`)."""
    parts = [] if c_timed == "|" else c_timed.strip("|").split("|")
    days = [date.fromisoformat(p.rsplit("=", 1)[1]) for p in parts if "=a=" in p]
    return max(days) if days else None


def _purposes(bits: Numbering, subscribed: int, opt_outs: int, more: str) -> frozenset[str]:
    held = {untok(p) for p in bits.tokens("subscribed", subscribed, more)}
    held.update(untok(p.split("/", 1)[0]) for p in bits.tokens("opt_outs", opt_outs, more))
    return frozenset(held)


class RetentionReads(Connected):
    """The retention facts of the points that may be due (`services.ports.RetentionReads`)."""

    def retention_facts(self, after: str | None, limit: int) -> tuple[list[RetentionFacts], str | None]:
        """The next `limit` points after id `after`, in id order: the facts of those not erased and
        without an open consent or contract, and the last id read (None: there were no more)."""
        f = t.point_facts.c
        # The window is read by the primary key alone and filtered here: a filter in the query
        # lets PostgreSQL, misjudging how few rows pass it, scan and sort the table for each batch.
        q = (
            sa.select(
                f.contact_point_id,
                f.erased,
                f.c_valid,
                f.c_timed,
                f.bought_any,
                f.ended_day,
                f.opt_outs,
                f.objected_dm,
                f.subscribed,
                f.restricted,
                f.contact_id,
                f.more,
            )
            .order_by(f.contact_point_id)
            .limit(limit)
        )
        if after is not None:
            q = q.where(f.contact_point_id > after)
        window = self.conn.execute(q).all()
        if not window:
            return [], None
        last = window[-1].contact_point_id
        bits = fact_bits(self)
        rows = [
            r
            for r in window
            if not r.erased
            and not bits.tokens("c_valid", r.c_valid, r.more)
            and not (r.bought_any and r.ended_day is None)
        ]
        if not rows:
            return [], last
        ids = [r.contact_point_id for r in rows]
        moments = self._moments(ids)
        objected = self._dm_objections([r.contact_point_id for r in rows if r.objected_dm])
        held = open_request_kinds(self, {r.contact_point_id: r.contact_id for r in rows}, ids)
        facts = []
        for r in rows:
            m = moments.get(r.contact_point_id, {})
            outs = [at for kind, at in m.items() if kind in _OPT_OUT_TYPES]
            dm = objected.get(r.contact_point_id)
            if dm is not None:
                outs.append(dm)
            facts.append(
                RetentionFacts(
                    point_id=r.contact_point_id,
                    consent_until=_timed_until(r.c_timed),
                    customer=bool(r.bought_any),
                    ended_day=r.ended_day,
                    opted_out_all=_OUT_OF_ALL in bits.tokens("opt_outs", r.opt_outs, r.more),
                    objected=dm is not None,
                    opted_out_at=max(outs) if outs else None,
                    last_event_at=max(m.values()) if m else None,
                    open_requests=held.get(r.contact_point_id, frozenset()),
                    purposes=_purposes(bits, r.subscribed, r.opt_outs, r.more),
                    restricted=bool(r.restricted),
                )
            )
        return facts, last

    def _moments(self, ids: Sequence[str]) -> dict[str, dict[str, datetime]]:
        """Per point, the last moment of each event type: one grouped scan of the batch's id range
        on the events' point index (points of the range the batch skipped are read and dropped)."""
        wanted = set(ids)
        rows = self._plain(
            "SELECT contact_point_id, type, MAX(occurred_at) FROM events "
            "WHERE contact_point_id >= ? AND contact_point_id <= ? GROUP BY contact_point_id, type",
            (ids[0], ids[-1]),
        )
        found: dict[str, dict[str, datetime]] = defaultdict(dict)
        for point, kind, at in rows:
            if point in wanted:
                found[point][kind] = utc(at)
        return found

    def _dm_objections(self, ids: Sequence[str]) -> dict[str, datetime]:
        """When each point's standing objection to direct marketing was made (as the fold keeps it)."""
        if not ids:
            return {}
        e = t.events.c
        q = (
            sa.select(e.contact_point_id, e.type, e.occurred_at, e.payload)
            .where(e.contact_point_id.in_(ids), e.type.in_(_OBJECTION_TYPES))
            .order_by(e.contact_point_id, e.occurred_at, e.seq)
        )
        standing: dict[str, datetime] = {}
        for point, kind, at, payload in self.conn.execute(q):
            if payload.get("scope") != _DIRECT_MARKETING:
                continue
            if kind == "objection.recorded":
                standing.setdefault(point, at)
            else:
                standing.pop(point, None)
        return standing
