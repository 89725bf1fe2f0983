"""An in-memory store for service tests without a database (cosmicpython's fake unit of work).

`FakeStore` implements the ledger and catalog ports of `consentry.services.ports`
(and empty registers): enough for services to record events, decide, define
purposes and serve the public links. A write transaction works on a copy and
replaces the store's data only when it ends without an error, so a rejected file
leaves nothing behind, as a real rollback does. The hash chain is the domain's.
Campaigns and audiences are not faked: they are the SQL store's (tests/integration).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence, Set
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from consentry.adapters.mime import Mail
from consentry.domain import audit_chain
from consentry.domain.audit_chain import AuditRow
from consentry.domain.chain import GENESIS, ChainedRow, ChainEpoch, link, payload_json
from consentry.domain.dsr import CLOSED, DsrRequest, RequestState
from consentry.domain.erasure import SuppressionRecord
from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.ids import DerivedIds
from consentry.domain.purposes import Purpose
from consentry.domain.retention import RetentionFacts, facts_of
from consentry.domain.state import ContactState, Listing, PriorSuppression
from consentry.domain.users import AuditAction, AuditEntry
from consentry.domain.vocabulary import PointKind
from consentry.policy.factrows import terms as point_terms
from consentry.services.errors import AlreadyExists
from consentry.services.ports import DecisionBasis, FoundPoint, PointRef


@dataclass
class _Data:
    """Everything the fake store holds."""

    rows: list[ChainedRow] = field(default_factory=list)
    points: dict[str, tuple[PointKind, str]] = field(default_factory=dict)
    purposes: dict[str, Purpose] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    forms: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    api_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    #: Suppression records by (kind, value): the fake keeps no blind index, the store does.
    suppressions: dict[tuple[PointKind, str], PriorSuppression] = field(default_factory=dict)
    requests: dict[str, DsrRequest] = field(default_factory=dict)


class FakeTransaction:
    """A read or write transaction over `_Data`: the ledger and catalog of `Reading` and `Writing`."""

    def __init__(self, data: _Data, now: datetime) -> None:
        self.data = data
        self.now = now

    # -- the ledger ------------------------------------------------------------------------------

    def point_id(self, kind: PointKind, value: str) -> str | None:
        return next((pid for pid, key in self.data.points.items() if key == (kind, value)), None)

    def find_points(self, keys: Iterable[tuple[PointKind, str]]) -> dict[tuple[PointKind, str], str]:
        by_key = {key: pid for pid, key in self.data.points.items()}
        return {key: by_key[key] for key in keys if key in by_key}

    def event_exists(self, event_id: str) -> bool:
        return any(row.event.id == event_id for row in self.data.rows)

    def existing_event_ids(self, ids: Sequence[str]) -> set[str]:
        return {row.event.id for row in self.data.rows} & set(ids)

    def point_kind(self, point_id: str) -> PointKind | None:
        key = self.data.points.get(point_id)
        return None if key is None else key[0]

    def events_for(self, point_id: str, as_of: datetime | None = None) -> list[Event]:
        events = [r.event for r in self.data.rows if r.event.contact_point_id == point_id]
        if as_of is not None:
            events = [e for e in events if e.occurred_at <= as_of]
        return sorted(events, key=lambda e: (e.occurred_at, e.seq))

    def events_for_many(self, point_ids: Sequence[str]) -> dict[str, list[Event]]:
        return {pid: self.events_for(pid) for pid in dict.fromkeys(point_ids) if pid in self.data.points}

    def head(self) -> tuple[int, str]:
        last = self.data.rows[-1] if self.data.rows else None
        return (0, GENESIS) if last is None else (last.seq, last.hash)

    def chain(self, batch: int = 5000) -> Iterator[ChainedRow]:
        yield from self.data.rows

    def point_ids(self) -> list[str]:
        return sorted(self.data.points)

    def counts(self) -> dict[str, int]:
        return {"events": len(self.data.rows), "contact_points": len(self.data.points)}

    def heads(self, point_ids: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        states = {pid: fold(pid, self.events_for(pid)) for pid in point_ids if pid in self.data.points}
        return {pid: (s.last_seq, s.last_event_at) for pid, s in states.items()}

    def decision_basis(self, point: PointRef, purpose_key: str) -> DecisionBasis | None:
        point_id = point if isinstance(point, str) else self.point_id(*point)
        kind = None if point_id is None else self.point_kind(point_id)
        if point_id is None or kind is None:
            return None
        head = self.heads([point_id]).get(point_id)
        purpose = self.purpose(purpose_key)
        return DecisionBasis(
            point_id, kind, head, self.registers_version(), purpose, self.setting("controller")
        )

    def objecting_points(self, contact_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for pid in self.data.points:
            state = fold(pid, self.events_for(pid))
            if state.contact_id in contact_ids and any(
                e.type == "objection.recorded" for e in self.events_for(pid)
            ):
                out.setdefault(state.contact_id, []).append(pid)
        return out

    def _live(self) -> Iterator[ContactState]:
        """Every point's state, as the projection holds it: the erased ones are gone."""
        for pid in sorted(self.data.points):
            state = fold(pid, self.events_for(pid))
            if state.erased_at is None:
                yield state

    def points_with_terms(self, terms: Sequence[str], limit: int) -> list[str]:
        wanted = set(terms)
        return [s.id for s in self._live() if wanted <= set(point_terms(s))][:limit]

    def found_points(self, point_ids: Sequence[str]) -> list[FoundPoint]:
        states = {s.id: s for s in self._live()}
        return [
            FoundPoint(
                pid, s.kind, s.value, s.display_name, s.source.value, self.events_for(pid)[-1].occurred_at
            )
            for pid in point_ids
            if (s := states.get(pid)) is not None
        ]

    def person_point_ids(self, point_id: str, limit: int) -> list[str]:
        states = {s.id: s for s in self._live()}
        me = states.get(point_id)
        if me is None:
            return []
        if me.contact_id is None:
            return [point_id]
        return [pid for pid, s in states.items() if s.contact_id == me.contact_id][:limit]

    def notices_owed(self, sources: Sequence[str], cap: int) -> int:
        wanted = set(sources)
        return min(cap, sum(1 for s in self._live() if s.source.value in wanted and "14" not in s.notices))

    def contact_points_of(self, contact_ids: Sequence[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for pid in sorted(self.data.points):
            state = fold(pid, self.events_for(pid))
            contact = state.contact_id
            if contact in contact_ids and state.erased_at is None:  # an erased point has no projection
                out.setdefault(contact, []).append(pid)
        return out

    def prior_suppressions(
        self, keys: Iterable[tuple[PointKind, str]]
    ) -> dict[tuple[PointKind, str], PriorSuppression]:
        return {key: self.data.suppressions[key] for key in keys if key in self.data.suppressions}

    def suppression_of(self, kind: PointKind, value: str) -> PriorSuppression | None:
        return self.data.suppressions.get((kind, value))

    def is_erased(self, point_id: str) -> bool:
        return self.data.points.get(point_id, (None, ""))[1] == f"erased:{point_id}"

    def erase_points(self, records: Sequence[SuppressionRecord]) -> tuple[int, list[str]]:
        erased = {r.point_id for r in records}
        kept = [
            r.point_id
            for r in records
            if r.contact_id and set(self.contact_points_of([r.contact_id]).get(r.contact_id, [])) - erased
        ]
        for r in records:
            self.data.suppressions[(r.kind, r.value)] = PriorSuppression(
                r.what, r.channels, r.since, r.reason
            )
            self.data.points[r.point_id] = (r.kind, f"erased:{r.point_id}")
        return 0, kept

    def point_ids_of_kind(self, kind: PointKind, batch: int = 2000) -> Iterator[list[str]]:
        ids = sorted(pid for pid, key in self.data.points.items() if key[0] is kind)
        for start in range(0, len(ids), batch):
            yield ids[start : start + batch]

    def state(self, point_id: str) -> dict[str, Any] | None:
        if point_id not in self.data.points:
            return None
        return fold(point_id, self.events_for(point_id)).to_json()

    def states_from_sources(self, sources: Iterable[str]) -> Iterator[dict[str, Any]]:
        wanted = set(sources)
        for pid in sorted(self.data.points):
            state = fold(pid, self.events_for(pid))
            if state.source.value in wanted and state.erased_at is None:
                yield state.to_json()

    def projection_complete(self) -> bool:
        return True

    def retention_facts(self, after: str | None, limit: int) -> tuple[list[RetentionFacts], str | None]:
        window = sorted(p for p in self.data.points if after is None or p > after)[:limit]
        found = []
        held = self.open_requests_of(window)
        for pid in window:
            f = facts_of(fold(pid, self.events_for(pid)), held.get(pid, ()))
            if f is None or f.consent_open or (f.customer and f.ended_day is None):
                continue  # as the SQL store: no policy can erase these
            found.append(f)
        return found, window[-1] if window else None

    def next_seq(self) -> int:
        return self.head()[0] + 1

    def append(self, events: Sequence[Event], project: bool = True) -> range:
        seq, prev = self.head()
        chained = []
        for ev in events:
            seq += 1
            stored = Event(
                ev.id,
                ev.type,
                ev.contact_point_id,
                ev.occurred_at,
                ev.recorded_at,
                ev.payload,
                ev.schema_version,
                seq,
            )
            digest = link(prev, stored, seq, payload_json(ev.payload), ev.recorded_at.isoformat())
            chained.append(ChainedRow(seq, stored, prev, digest))
            if ev.type == "contact_point.registered":
                self.data.points[ev.contact_point_id] = (PointKind(ev.payload["kind"]), ev.payload["value"])
            prev = digest
        self.data.rows.extend(chained)
        return range(seq - len(chained) + 1, seq + 1)

    def project_pending(self) -> None:
        """Nothing to do: states are folded from the events when read."""

    def write_states(self, states: Iterable[ContactState], fresh: Set[str] = frozenset()) -> None:
        """Nothing to do: states are folded from the events when read."""

    def drop_caches(self) -> None:
        """Nothing to do: the fake caches nothing."""

    # -- the audit's reads -----------------------------------------------------------------------

    def chain_hashes(
        self, upto: int | None = None, after: int = 0, batch: int = 20_000
    ) -> Iterator[tuple[int, str]]:
        for row in self.data.rows:
            if row.seq > after and (upto is None or row.seq <= upto):
                yield row.seq, row.hash

    def event_by_id(self, event_id: str) -> ChainedRow | None:
        return next((row for row in self.data.rows if row.event.id == event_id), None)

    def projected_ids(self) -> set[str]:
        return set(self.data.points)

    def projection_differences(self, states: Sequence[ContactState]) -> list[tuple[str, str, str, Any, Any]]:
        return []  # states are folded when read: nothing is stored to differ

    def head_row(self) -> tuple[int, str] | None:
        return self.head()

    def chain_epoch(self) -> ChainEpoch | None:
        return None  # a fake ledger starts at the genesis

    def last_event(self) -> tuple[int, str] | None:
        return (self.data.rows[-1].seq, self.data.rows[-1].hash) if self.data.rows else None

    def hash_at(self, seq: int) -> str | None:
        return next((row.hash for row in self.data.rows if row.seq == seq), None)

    def any_point(self) -> bool:
        return bool(self.data.points)

    def audit_log_rows(self) -> Iterator[AuditRow]:
        prev = audit_chain.GENESIS
        for n, e in enumerate(self.data.audit, start=1):
            detail = orjson.loads(orjson.dumps(e.detail))  # as a store keeps it: JSON
            digest = audit_chain.link(
                prev, audit_chain.canonical(n, e.at, e.actor, e.action.value, e.subject, detail)
            )
            yield AuditRow(n, n, e.at, e.actor, e.action.value, e.subject, detail, prev, digest)
            prev = digest

    def audit_log_head(self) -> tuple[int, str] | None:
        last = list(self.audit_log_rows())[-1:]
        return (last[0].seq, last[0].hash) if last else (0, audit_chain.GENESIS)

    def audit_log_hash_at(self, seq: int) -> str | None:
        return next((row.hash for row in self.audit_log_rows() if row.seq == seq), None)

    # -- the catalog -----------------------------------------------------------------------------

    def purpose(self, key: str) -> Purpose | None:
        return self.data.purposes.get(key)

    def purposes(self) -> list[Purpose]:
        return [self.data.purposes[k] for k in sorted(self.data.purposes)]

    def put_purpose(self, p: Purpose, replace: bool = False) -> None:
        if p.key in self.data.purposes and not replace:
            raise AlreadyExists(f"purpose {p.key}")
        self.data.purposes[p.key] = p

    def setting(self, key: str) -> Any:
        return self.data.settings.get(key)

    def put_setting(self, key: str, value: Any) -> None:
        self.data.settings[key] = value

    def form(self, key: str, version: int | None = None) -> dict[str, Any] | None:
        versions = self.data.forms.get(key, {})
        if not versions:
            return None
        return versions.get(version if version is not None else max(versions))

    def forms(self) -> list[dict[str, Any]]:
        return [versions[max(versions)] for _, versions in sorted(self.data.forms.items())]

    def put_form(self, key: str, version: int, definition: dict[str, Any]) -> None:
        versions = self.data.forms.setdefault(key, {})
        if version in versions:
            raise AlreadyExists(f"form {key} version {version}")
        versions[version] = {**definition, "version": version}

    def api_key(self, key_id: str) -> dict[str, Any] | None:
        return self.data.api_keys.get(key_id)

    def api_keys(self) -> list[dict[str, Any]]:
        return list(self.data.api_keys.values())

    def put_api_key(self, key_id: str, name: str, secret_hash: str, scopes: list[str]) -> None:
        if key_id in self.data.api_keys:
            raise AlreadyExists(f"API key {key_id}")
        row = {"id": key_id, "name": name, "secret_hash": secret_hash, "scopes": scopes}
        self.data.api_keys[key_id] = {**row, "created_at": self.now, "revoked_at": None}

    def revoke_api_key(self, key_id: str) -> bool:
        row = self.data.api_keys.get(key_id)
        if row is None or row["revoked_at"] is not None:
            return False
        row["revoked_at"] = self.now
        return True

    def record_audit(self, entry: AuditEntry) -> None:
        self.data.audit.append(entry)

    def audit_entries(self, action: AuditAction, limit: int) -> list[AuditEntry]:
        return [e for e in self.data.audit[::-1] if e.action is action][:limit]

    # -- data-subject requests -------------------------------------------------------------------

    def dsr(self, request_id: str) -> DsrRequest | None:
        return self.data.requests.get(request_id)

    def dsr_requests(
        self,
        states: Set[RequestState] | None = None,
        deadline_before: datetime | None = None,
        contact_point_id: str | None = None,
        *,
        deadline_until: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[DsrRequest]:
        found = [
            q
            for q in self.data.requests.values()
            if (states is None or q.state in states)
            and (deadline_before is None or q.deadline < deadline_before)
            and (deadline_until is None or q.deadline <= deadline_until)
            and (contact_point_id is None or q.contact_point_id == contact_point_id)
        ]
        ordered = sorted(found, key=lambda q: (q.deadline, q.received_at, q.id))
        return ordered[offset:] if limit is None else ordered[offset : offset + limit]

    def count_dsr_requests(
        self, states: Set[RequestState] | None = None, *, deadline_until: datetime | None = None
    ) -> int:
        return len(self.dsr_requests(states, deadline_until=deadline_until))

    def person_points(self, point_id: str) -> tuple[str | None, list[str]]:
        contact = fold(point_id, self.events_for(point_id)).contact_id
        if contact is None:
            return None, [point_id]
        same = [p for p in self.data.points if fold(p, self.events_for(p)).contact_id == contact]
        return contact, sorted({point_id, *same})

    def open_requests_of(self, point_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {}
        open_ = [q for q in self.data.requests.values() if q.state not in CLOSED]
        for pid in point_ids:
            contact = fold(pid, self.events_for(pid)).contact_id
            for q in open_:
                if q.contact_point_id == pid or (contact is not None and q.contact_ref == contact):
                    found.setdefault(pid, set()).add(q.kind.value)
        return {pid: frozenset(kinds) for pid, kinds in found.items()}

    def add_dsr(self, request: DsrRequest) -> None:
        if request.id in self.data.requests:
            raise AlreadyExists(f"request {request.id}")
        self.data.requests[request.id] = request

    def put_dsr(self, request: DsrRequest) -> None:
        if request.id not in self.data.requests:
            raise LookupError(f"no stored request {request.id}")
        self.data.requests[request.id] = request

    # -- the registers: none ---------------------------------------------------------------------

    def registers_version(self) -> tuple[int, datetime | None]:
        return 0, None

    def listings(self, keys: Iterable[tuple[PointKind, str]]) -> dict[tuple[PointKind, str], list[Listing]]:
        return {}

    def register_definitions(self) -> list[dict[str, Any]]:
        return []

    def registers(self) -> list[dict[str, Any]]:
        return []


class FakeStore:
    """Transactions over data in memory; a write is all or nothing."""

    def __init__(self, now: Any) -> None:
        self._now = now
        self.data = _Data()
        self.committed = 0

    @contextmanager
    def reader(self) -> Iterator[FakeTransaction]:
        yield FakeTransaction(self.data, self._now())

    def statement_reader(self) -> AbstractContextManager[FakeTransaction]:
        """Memory has no snapshots to tell apart: the same as a read transaction."""
        return self.reader()

    def scrub_erased(self) -> bool:
        """Nothing stays behind in memory."""
        return True

    def derived_ids(self) -> DerivedIds:
        """Keyed by a fixed test key."""
        return DerivedIds(b"fake-store-derived-id-key-0123456789")

    @contextmanager
    def writer(self) -> Iterator[FakeTransaction]:
        work = copy.deepcopy(self.data)
        yield FakeTransaction(work, self._now())
        self.data = work  # reached only without an error: commit
        self.committed += 1


@dataclass
class FakeMailer:
    """Keeps the messages it is asked to send."""

    sent: list[Mail] = field(default_factory=list)

    def new_message(
        self, to: str, subject: str, text: str, html: str | None = None, lang: str = "nl"
    ) -> Mail:
        return Mail(
            sender="consentry@example.nl",
            to=to,
            subject=subject,
            text=text,
            html=html,
            message_id=f"m{len(self.sent)}@example.nl",
            date=datetime.now().astimezone(),
            lang=lang,
        )

    def send(self, msg: Mail) -> None:
        self.sent.append(msg)
