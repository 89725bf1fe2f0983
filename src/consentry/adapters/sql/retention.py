"""Retention's reads, set-wise: the facts of many contact points from the audience projection.

`point_facts` already holds, per point, whether a consent holds (`c_valid`, and the end
days of those given for a time in `c_timed`), the purchases and the day the relationship
ended, the opt-outs and the objection flags. Points with an open consent or a running
contract are skipped as they are read: no policy can erase them. For the rest, one
grouped query over the batch's events gives the moments the periods count from (the last
event, the last opt-out); objections to direct marketing, which can be withdrawn, are
replayed from their few events; the data-subject requests not closed yet are read by the
batch's range of point ids and by its points' contacts. `domain.retention.facts_of`
reads the same facts from a folded state; the tests hold the two to each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from consentry.adapters.sql.connected import Connected
from consentry.adapters.sql.projection import fact_bits
from consentry.adapters.sql.requests import open_request_kinds
from consentry.adapters.sql.stored import day, utc
from consentry.domain.retention import ALL, RetentionFacts
from consentry.domain.vocabulary import ObjectionScope
from consentry.policy.factrows import Numbering, pair, token_list

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
    days = [date.fromisoformat(p.rsplit("=", 1)[1]) for p in token_list(c_timed) if "=a=" in p]
    return max(days) if days else None


def _purposes(bits: Numbering, subscribed: int, opt_outs: int, more: str) -> frozenset[str]:
    held = {untok(p) for p in bits.tokens("subscribed", subscribed, more)}
    held.update(untok(p.split("/", 1)[0]) for p in bits.tokens("opt_outs", opt_outs, more))
    return frozenset(held)


#: The window's columns, in the order `retention_facts` unpacks them.
_WINDOW = (
    "SELECT contact_point_id, erased, c_valid, bought_any, ended_day, c_timed, opt_outs, objected_dm, "
    "subscribed, restricted, contact_id, more FROM point_facts {where}ORDER BY contact_point_id LIMIT ?"
)
#: How `more` starts a token of `c_valid` numbered beyond the mask's bits (`factrows.overflow_token`).
_MORE_VALID = "|c_valid."
_OPTED_OUT = ", ".join(f"'{kind}'" for kind in _OPT_OUT_TYPES)
_OBJECTIONS = ", ".join(f"'{kind}'" for kind in _OBJECTION_TYPES)


class RetentionReads(Connected):
    """The retention facts of the points that may be due (`services.ports.RetentionReads`)."""

    def retention_facts(self, after: str | None, limit: int) -> tuple[list[RetentionFacts], str | None]:
        """The next `limit` points after id `after`, in id order: the facts of those not erased and
        without an open consent or contract, and the last id read (None: there were no more)."""
        # The window is read by the primary key alone and filtered here: a filter in the query
        # lets PostgreSQL, misjudging how few rows pass it, scan and sort the table for each batch.
        # On the driver's cursor: SQLAlchemy's rows cost more than the rest of a point's facts.
        if after is None:
            window = self._plain(_WINDOW.format(where=""), (limit,))
        else:
            window = self._plain(_WINDOW.format(where="WHERE contact_point_id > ? "), (after, limit))
        if not window:
            return [], None
        last = window[-1][0]
        # Not erased, no valid consent without an end (a mask bit, or a token beyond the mask's
        # bits in `more`), no running contract: the points no policy can erase are skipped here.
        rows = [
            r
            for r in window
            if not r[1] and not r[2] and not (r[3] and r[4] is None) and _MORE_VALID not in r[11]
        ]
        if not rows:
            return [], last
        ids = [r[0] for r in rows]
        bits = fact_bits(self)
        moments = self._moments(ids)
        objected = self._dm_objections([r[0] for r in rows if r[7]])
        held = open_request_kinds(self, {r[0]: r[10] for r in rows}, ids, (ids[0], ids[-1]))
        # Rows share a few combinations of masks: each is read into tokens once.
        until_of: dict[str, date | None] = {}
        held_for: dict[tuple[int, int, str], tuple[frozenset[str], bool]] = {}
        facts = []
        for (
            point,
            _erased,
            _valid,
            bought,
            ended,
            timed,
            opt_outs,
            _dm,
            subscribed,
            restricted,
            _c,
            more,
        ) in rows:
            if timed not in until_of:
                until_of[timed] = _timed_until(timed)
            key = (subscribed, opt_outs, more)
            found = held_for.get(key)
            if found is None:
                found = held_for[key] = (
                    _purposes(bits, subscribed, opt_outs, more),
                    _OUT_OF_ALL in bits.tokens("opt_outs", opt_outs, more),
                )
            last_at, out_at = moments.get(point, (None, None))
            dm = objected.get(point)
            if dm is not None and (out_at is None or dm > out_at):
                out_at = dm
            facts.append(
                RetentionFacts(
                    point_id=point,
                    consent_until=until_of[timed],
                    customer=bool(bought),
                    ended_day=day(ended),
                    opted_out_all=found[1],
                    objected=dm is not None,
                    opted_out_at=out_at,
                    last_event_at=last_at,
                    open_requests=held.get(point, frozenset()),
                    purposes=found[0],
                    restricted=bool(restricted),
                )
            )
        return facts, last

    def _moments(self, ids: Sequence[str]) -> dict[str, tuple[datetime, datetime | None]]:
        """Per point, its last event's moment and its last opt-out's (None without one): one grouped
        scan of the batch's id range on the events' point index (points of the range the batch
        skipped are read and dropped)."""
        wanted = set(ids)
        rows = self._plain(
            f"SELECT contact_point_id, MAX(occurred_at), MAX(CASE WHEN type IN ({_OPTED_OUT}) "
            "THEN occurred_at END) FROM events "
            "WHERE contact_point_id >= ? AND contact_point_id <= ? GROUP BY contact_point_id",
            (ids[0], ids[-1]),
        )
        return {
            point: (utc(at), None if out is None else utc(out)) for point, at, out in rows if point in wanted
        }

    def _dm_objections(self, ids: Sequence[str]) -> dict[str, datetime]:
        """When each point's standing objection to direct marketing was made (as the fold keeps it)."""
        rows = self._rows_of(
            "SELECT contact_point_id, type, occurred_at, payload FROM events "
            f"WHERE type IN ({_OBJECTIONS}) AND contact_point_id {{set}} "
            "ORDER BY contact_point_id, occurred_at, seq",
            ids,
        )
        standing: dict[str, datetime] = {}
        for point, kind, at, payload in rows:
            if self._json(payload).get("scope") != _DIRECT_MARKETING:
                continue
            if kind == "objection.recorded":
                standing.setdefault(point, utc(at))
            else:
                standing.pop(point, None)
        return standing
