"""The ports: what the services need from storage, mail, tokens and rate limits.

Each port is a small Protocol named for what services do with it. A read
transaction (`Reading`) offers the ledger, the catalog, the registers, the
campaigns and the audience; a write transaction (`Writing`) adds their write
sides and the ledger lock. `adapters/sql/` implements them on SQLite and
PostgreSQL; `tests/unit/fakes.py` implements the ledger and catalog in memory,
so services run without a database. Services raise their own errors
(`services/errors.py`), and so do the ports: a duplicate key is `AlreadyExists`,
a refused message `MailError`, too many attempts `RateLimited`.
The token signer's port is in `services/tokens.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from consentry.adapters.mime import Mail
from consentry.domain.audit_chain import AuditRow
from consentry.domain.campaigns import Selection
from consentry.domain.chain import ChainedRow, ChainEpoch
from consentry.domain.erasure import SuppressionRecord
from consentry.domain.events import Event
from consentry.domain.ids import DerivedIds
from consentry.domain.purposes import Purpose
from consentry.domain.retention import RetentionFacts
from consentry.domain.state import ContactState, Listing, PriorSuppression
from consentry.domain.users import AuditAction, AuditEntry
from consentry.domain.vocabulary import PointKind
from consentry.policy.facts import Situation
from consentry.policy.rules import Rule, RulePack
from consentry.services.campaign_ports import CampaignQueue, CampaignReader, Claim, WorkerLock
from consentry.services.dsr_ports import RequestReader, RequestWriter

# Declared with the campaigns and the requests:
__all__ = ["CampaignQueue", "CampaignReader", "Claim", "RequestReader", "RequestWriter", "WorkerLock"]

# -- the ledger -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FoundPoint:
    """A contact point as a search lists it: its projection's facts, its value and name opened."""

    id: str
    kind: PointKind
    #: Empty when the contact's key is gone.
    value: str
    name: str | None
    source: str
    last_event_at: datetime | None


class LedgerReader(Protocol):
    """The ledger's events and contact points, and the projection of each point's state."""

    def point_id(self, kind: PointKind, value: str) -> str | None:
        """The id of a contact point, by kind and normalised value."""

    def find_points(self, keys: Iterable[tuple[PointKind, str]]) -> dict[tuple[PointKind, str], str]:
        """The ids of those of these points that exist."""

    def event_exists(self, event_id: str) -> bool:
        """Whether an event with this id was recorded."""

    def existing_event_ids(self, ids: Sequence[str]) -> set[str]:
        """Those of these event ids that were recorded."""

    def point_kind(self, point_id: str) -> PointKind | None:
        """The kind of a contact point; None when there is no such point."""

    def events_for(self, point_id: str, as_of: datetime | None = None) -> list[Event]:
        """A point's events in the order they are folded (occurred, then recorded)."""

    def events_for_many(self, point_ids: Sequence[str]) -> dict[str, list[Event]]:
        """The events of many points, each in folding order."""

    def head(self) -> tuple[int, str]:
        """The ledger's last sequence number and hash."""

    def chain(self, batch: int = 5000) -> Iterator[ChainedRow]:
        """Every event with its links, in sequence order."""

    def point_ids_of_kind(self, kind: PointKind, batch: int = 2000) -> Iterator[list[str]]:
        """The ids of every point of a kind, a batch at a time."""

    def point_ids(self) -> list[str]:
        """The ids of every contact point."""

    def counts(self) -> dict[str, int]:
        """How many events and contact points (and more) the store holds."""

    def heads(self, point_ids: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
        """Each projected point's last sequence number and last event moment."""

    def state(self, point_id: str) -> dict[str, Any] | None:
        """A point's projected state as JSON."""

    def states_from_sources(self, sources: Iterable[str]) -> Iterator[dict[str, Any]]:
        """The projected states of the points that came from these sources."""

    def projection_complete(self) -> bool:
        """Whether every projected point has its audience facts."""

    def objecting_points(self, contact_ids: Sequence[str]) -> dict[str, list[str]]:
        """Per contact, its points that ever had an objection recorded."""

    def points_with_terms(self, terms: Sequence[str], limit: int) -> list[str]:
        """Ids of up to `limit` projected points having all `terms` (`factrows.terms`), sorted."""

    def found_points(self, point_ids: Sequence[str]) -> list[FoundPoint]:
        """The projected points among `point_ids`, in that order, their value and name opened."""

    def person_point_ids(self, point_id: str, limit: int) -> list[str]:
        """Ids of up to `limit` projected points of `point_id`'s contact (itself too), by id."""

    def notices_owed(self, sources: Sequence[str], cap: int) -> int:
        """How many points (at most `cap`) from these sources, not erased, have had no Art. 14 notice."""

    def contact_points_of(self, contact_ids: Sequence[str]) -> dict[str, list[str]]:
        """Per contact (`contact_id`), the ids of its projected contact points."""

    def prior_suppressions(
        self, keys: Iterable[tuple[PointKind, str]]
    ) -> dict[tuple[PointKind, str], PriorSuppression]:
        """The suppression records erased points left for these (kind, normalised value) pairs."""

    def is_erased(self, point_id: str) -> bool:
        """Whether a registered contact point was erased (only its suppression record remains)."""

    def suppression_of(self, kind: PointKind, value: str) -> PriorSuppression | None:
        """The suppression record an erased point left for this address or number, if any."""


class LedgerWriter(LedgerReader, Protocol):
    """Appending to the ledger under its lock; the projection follows in the same transaction."""

    now: datetime

    def append(self, events: Sequence[Event], project: bool = True) -> range:
        """Chain, store and (unless deferred) project events; the sequence numbers they were given."""

    def next_seq(self) -> int:
        """The sequence number the next appended event gets (an event made with it is kept as made)."""

    def project_pending(self) -> None:
        """Project every point appended to since the last projection."""

    def write_states(self, states: Iterable[ContactState], fresh: Set[str] = frozenset()) -> None:
        """Replace the projection of these points (a rebuild)."""

    def drop_caches(self) -> None:
        """Forget what the transaction cached (ciphers, contacts, blind indexes with their clear
        values): a transaction over the whole ledger (a rebuild) bounds its memory so."""

    def erase_points(self, records: Sequence[SuppressionRecord]) -> tuple[int, list[str]]:
        """After their `contact_point.erased` events: keep a suppression record per point and
        forget the rest (lookup, projection rows, personal error text, data keys). Returns the
        data keys destroyed and the points whose contact keeps its key (other points of it remain)."""


# -- the catalog: purposes, forms, API keys, settings -------------------------------------------


class Catalog(Protocol):
    """What is defined: purposes, forms, API keys and settings."""

    def purpose(self, key: str) -> Purpose | None:
        """A purpose by key."""

    def purposes(self) -> list[Purpose]:
        """Every purpose."""

    def setting(self, key: str) -> Any:
        """A stored setting (JSON), or None."""

    def audit_entries(self, action: AuditAction, limit: int) -> list[AuditEntry]:
        """The newest `limit` entries of the admin audit log recording `action`, newest first."""

    def form(self, key: str, version: int | None = None) -> dict[str, Any] | None:
        """A form's definition, the newest version unless one is named."""

    def forms(self) -> list[dict[str, Any]]:
        """The newest version of every form."""

    def api_key(self, key_id: str) -> dict[str, Any] | None:
        """An API key's row."""

    def api_keys(self) -> list[dict[str, Any]]:
        """Every API key's row."""


class CatalogWriter(Catalog, Protocol):
    """Defining purposes, forms, API keys and settings; a duplicate key raises AlreadyExists."""

    def put_purpose(self, p: Purpose, replace: bool = False) -> None:
        """Define (or with `replace`, redefine) a purpose."""

    def put_form(self, key: str, version: int, definition: dict[str, Any]) -> None:
        """Store a form's new version."""

    def put_api_key(self, key_id: str, name: str, secret_hash: str, scopes: list[str]) -> None:
        """Store a new API key."""

    def revoke_api_key(self, key_id: str) -> bool:
        """Revoke an active key; False when there is none."""

    def put_setting(self, key: str, value: Any) -> None:
        """Store a setting."""

    def record_audit(self, entry: AuditEntry) -> None:
        """Add an entry to the admin audit log, in this transaction (with the change it records)."""


# -- the registers (Bel-me-niet and the like) ---------------------------------------------------


class Registers(Protocol):
    """Opt-out registers and their entries."""

    def registers_version(self) -> tuple[int, datetime | None]:
        """How many registers there are and when one last changed."""

    def listings(self, keys: Iterable[tuple[PointKind, str]]) -> dict[tuple[PointKind, str], list[Listing]]:
        """The register listings of these points (points on no register are absent)."""

    def register_definitions(self) -> list[dict[str, Any]]:
        """Every register's definition."""

    def registers(self) -> list[dict[str, Any]]:
        """Every register with its number of entries."""


class RegistersWriter(Registers, Protocol):
    """Defining registers and adding their entries."""

    def put_register(
        self,
        key: str,
        name: str,
        kind: PointKind,
        hashed: bool,
        valid_from: date | None,
        valid_until: date | None,
    ) -> None:
        """Define or redefine a register."""

    def put_register_entries(
        self, key: str, entries: Sequence[str], listed_from: date | None, listed_until: date | None
    ) -> int:
        """Add entries to a register; returns how many were new."""


class LedgerView(LedgerReader, Registers, Protocol):
    """The ledger with the registers: what a contact point's state is read from."""


# -- one decision ---------------------------------------------------------------------------------

#: A contact point as a question names it: (kind, normalised value), or its id.
PointRef = tuple[PointKind, str] | str


@dataclass(frozen=True, slots=True)
class DecisionBasis:
    """What one decision reads besides the point's state, read together (one query on SQL)."""

    point_id: str
    kind: PointKind
    #: The point's projection head (last seq, last occurred_at); None when it has no projection row.
    head: tuple[int, datetime | None] | None
    #: `Registers.registers_version`.
    registers: tuple[int, datetime | None]
    #: The purpose asked about; None when it is not defined.
    purpose: Purpose | None
    #: The stored controller setting (JSON), None when there is none.
    controller: Any


class Deciding(Protocol):
    """The reads one decision makes before it folds or takes a cached state."""

    def decision_basis(self, point: PointRef, purpose_key: str) -> DecisionBasis | None:
        """The point, its head, the registers' version, the purpose and the controller (None: no point)."""


# -- the audience ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AudienceAsk:
    """Whom to judge and how: the question (in its situation), the point kind and the selection."""

    pack: RulePack
    situation: Situation
    point_kind: PointKind
    selection: Selection


class Judging(Protocol):
    """An audience question compiled for the store: the rules that can decide it."""

    @property
    def rules(self) -> dict[str, Rule]:
        """The rules that can decide, by id."""

    @property
    def obligation_rules(self) -> tuple[Rule, ...]:
        """The obligation rules flagged per row, in order."""

    @property
    def pack(self) -> RulePack:
        """The rule pack the question was put to."""


class Audiences(Protocol):
    """Judging every considered contact point at once, in the store."""

    def judging(self, ask: AudienceAsk) -> Judging:
        """Compile the question for this store."""

    def judged_rows(
        self, judging: Judging, rules: Sequence[str] | None, after: str | None, limit: int | None
    ) -> Iterator[Sequence[Any]]:
        """Rows (id, value, name, party, rule, obligation flags...), optionally only some rules' or a page."""


# -- the audit's reads ----------------------------------------------------------------------------


class LedgerAudit(Protocol):
    """What an audit of the ledger reads: chain hashes alone, stored events, projection rows."""

    def chain_hashes(
        self, upto: int | None = None, after: int = 0, batch: int = 20_000
    ) -> Iterator[tuple[int, str]]:
        """(seq, stored chain hash) of the events after `after`, up to `upto` when given."""

    def event_by_id(self, event_id: str) -> ChainedRow | None:
        """One stored event with its links."""

    def projected_ids(self) -> set[str]:
        """The ids of every projected contact point."""

    def projection_differences(self, states: Sequence[ContactState]) -> list[tuple[str, str, str, Any, Any]]:
        """Where the stored projection differs from these folded states."""

    def head_row(self) -> tuple[int, str] | None:
        """The ledger head as stored, or None when its row is gone."""

    def chain_epoch(self) -> ChainEpoch | None:
        """The latest epoch the chain was started anew in (continuing an earlier chain), if any."""

    def last_event(self) -> tuple[int, str] | None:
        """(seq, chain hash) of the last stored event."""

    def hash_at(self, seq: int) -> str | None:
        """The stored chain hash at `seq`."""

    def any_point(self) -> bool:
        """Whether a contact point is registered."""

    def audit_log_rows(self) -> Iterator[AuditRow]:
        """Every entry of the admin audit log, by `seq`, with its hashes."""

    def audit_log_head(self) -> tuple[int, str] | None:
        """The audit log's head as stored (last entry's seq and hash), or None when its row is gone."""

    def audit_log_hash_at(self, seq: int) -> str | None:
        """The stored hash of the audit entry at `seq`."""


# -- retention ---------------------------------------------------------------------------------


class RetentionReads(Protocol):
    """What retention reads: the facts of the points a policy may erase, a batch at a time."""

    def retention_facts(self, after: str | None, limit: int) -> tuple[list[RetentionFacts], str | None]:
        """The next `limit` points after id `after`, in id order: the facts of those not erased and
        without an open consent or contract, and the last id read (None: there were no more)."""

    def open_requests_of(self, point_ids: Sequence[str]) -> dict[str, frozenset[str]]:
        """Per point, the kinds of the person's requests not closed yet (points without one absent):
        what `domain.retention.facts_of` judges a folded point with."""


# -- transactions and the store --------------------------------------------------------------------


class Reading(
    LedgerReader,
    Deciding,
    Catalog,
    Registers,
    CampaignReader,
    Audiences,
    LedgerAudit,
    RetentionReads,
    RequestReader,
    Protocol,
):
    """A read transaction on one snapshot."""


class Writing(Reading, LedgerWriter, CatalogWriter, RegistersWriter, CampaignQueue, RequestWriter, Protocol):
    """A write transaction holding the ledger lock; rolled back on any error."""


class Store(Protocol):
    """Transactions over the ledger and everything kept beside it."""

    def reader(self) -> AbstractContextManager[Reading]:
        """A read transaction."""

    def statement_reader(self) -> AbstractContextManager[Reading]:
        """Reads outside a transaction: each statement sees what was committed when it ran."""

    def writer(self) -> AbstractContextManager[Writing]:
        """A write transaction."""

    def bulk_writers(self) -> AbstractContextManager[Callable[[], AbstractContextManager[Writing]]]:
        """Write transactions for a bulk load, one after another."""

    def audience_counts(self, ask: AudienceAsk) -> tuple[Judging, dict[str, int]]:
        """How many considered points each rule decides."""

    def worker_lock(self, worker: str) -> WorkerLock:
        """The lock that announces a send worker."""

    @property
    def tells_live_workers(self) -> bool:
        """Whether claims of a live worker can be told from a dead one's (else one worker at a time)."""

    def scrub_erased(self) -> bool:
        """After an erasure: remove what deleted rows and keys leave in the database files."""

    def derived_ids(self) -> DerivedIds:
        """A keyed maker of the ids an import derives from a row (`domain.ids.DerivedIds`)."""

    def migrate(self) -> str:
        """Create or upgrade the schema; the revision."""


# -- mail and rate limits ----------------------------------------------------------------------


class Mailer(Protocol):
    """Sends single messages (the confirmation mails)."""

    def new_message(
        self, to: str, subject: str, text: str, html: str | None = None, lang: str = "nl"
    ) -> Mail:
        """A message from the configured sender."""

    def send(self, msg: Mail) -> None:
        """Deliver a message; MailError if the server fails."""


class Limiter(Protocol):
    """Counts attempts against a rate limit; RateLimited when one is exceeded."""

    def hit(self, rule: str, namespace: str, key: str) -> None:
        """Count one attempt."""
