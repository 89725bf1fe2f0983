"""Appending events to the ledger: from JSON lines or records, all or nothing.

A record is one JSON object: the envelope (`type`, `contact`, `occurred_at`,
optional `id`) and the payload fields of its type (docs/events.md). A
`contact_point.registered` record names no `contact`: it creates one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from consentry.adapters.addresses import AddressError, Normalised, match_form, normalise
from consentry.domain.clock import MomentError, parse_moment
from consentry.domain.errors import FieldError
from consentry.domain.events import ERASURE_ONLY, SCHEMA_VERSION, SERVICE_ONLY, Event
from consentry.domain.limits import too_long
from consentry.domain.text import control_character
from consentry.domain.validation import validate_payload, with_fields
from consentry.domain.vocabulary import CHANNELS_BY_POINT, PointKind
from consentry.services.app import App
from consentry.services.collector import rare_collections
from consentry.services.contacts import point_key
from consentry.services.errors import FileRejected, InputError, LineProblem
from consentry.services.ports import Writing

#: A record without a `contact` (a registration must have none; `None` is one given).
_ABSENT: Any = object()
BATCH = 5000
MAX_PROBLEMS = 100
#: Clocks drift: an event may claim to be this far in the future, no further.
FUTURE_SLACK = timedelta(minutes=5)
#: The longest moment worth parsing (`2025-03-01T10:00:00.123456+01:00` is 32).
MOMENT_CHARS = 64
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,40}$")
#: The fields of `request.received` only the request services write.
_TRACKED = frozenset({"request_id", "due_at"})
#: The kinds of contact point by their value.
_POINT_KINDS = {kind.value: kind for kind in PointKind}
_PURPOSE_FIELDS = frozenset({"consent.given", "consent.confirmed", "consent.withdrawn", "unsubscribed"})

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class AppendReport:
    """What an append wrote."""

    appended: int
    registered: int
    first_seq: int | None
    last_seq: int | None


class _Batch:
    """Resolves references and checks records against the ledger and this batch so far."""

    def __init__(
        self,
        app: App,
        w: Writing,
        trusted_ids: bool = False,
        normalised: Mapping[tuple[PointKind, str], Normalised] | None = None,
        owned: bool = False,
    ) -> None:
        self.app, self.w = app, w
        self.trusted_ids = trusted_ids
        #: The records are this append's own (read from lines): their envelopes are popped from
        #: them instead of from a copy.
        self.owned = owned
        #: Values known to be in their normal form, with what normalising gives for them.
        self.normalised = normalised or {}
        self.now = app.clock.now()
        self.new_id = app.ids
        self.region = app.settings.default_region
        #: Points registered in this batch, by kind and compared form (`match_form`).
        self.new_points: dict[tuple[PointKind, str], str] = {}
        #: Registrations not yet checked against the store: checked in bulk at flush.
        self.unchecked: dict[tuple[PointKind, str], int] = {}
        self.refs: dict[str, tuple[str, PointKind]] = {}
        self.kinds: dict[str, PointKind] = {}
        self.purposes: dict[str, bool] = {}
        self.ids: set[str] = set()
        #: The last moment read, with its text (the same text is the same moment object).
        self.last_moment: tuple[Any, datetime] = (None, self.now)
        #: The sequence number the next event is likely to get: made with it, the writer keeps
        #: the event instead of copying it to number it (`Writer.next_seq`).
        self.seq = w.next_seq()
        self.latest = self.now + FUTURE_SLACK

    def point(self, ref: Any) -> tuple[str, PointKind]:
        # A file names the same contact many times: resolve each spelling once (a spelling
        # resolved before passed the checks below).
        found = self.refs.get(ref) if type(ref) is str else None
        if found is not None:
            return found
        if not isinstance(ref, str) or not ref.strip():
            raise InputError("contact", "is required: a contact point id, e-mail address or number")
        if problem := control_character(ref):  # before any look-up: PostgreSQL refuses NUL
            raise InputError("contact", problem)
        found = self.refs[ref] = self._resolve(ref)
        return found

    def _resolve(self, ref: str) -> tuple[str, PointKind]:
        key = point_key(ref, self.region)
        if isinstance(key, str):
            kind = self.kinds.get(key) or self.w.point_kind(key)
            if kind is None:
                raise InputError("contact", f"no contact point with id {key!r}")
            if key not in self.kinds and self.w.is_erased(key):
                raise InputError(
                    "contact",
                    f"contact point {key!r} was erased: nothing more is recorded for it (register the "
                    "address anew; it stays suppressed until the person confirms a fresh opt-in)",
                )
            self.kinds[key] = kind
            return key, kind
        pid = self.new_points.get((key[0], match_form(*key))) or self.w.point_id(*key)
        if pid is None:
            raise InputError(
                "contact",
                f"{key[1]!r} is not registered; register it first (contact_point.registered)",
            )
        return pid, key[0]

    def purpose_known(self, key: str) -> bool:
        known = self.purposes.get(key)
        if known is None:
            known = self.purposes[key] = self.w.purpose(key) is not None
        return known

    def event_id(self, given: Any) -> str:
        """An event id the record gives, checked (its own ids are made by `new_id`)."""
        if not isinstance(given, str) or not _ID.match(given):
            raise InputError("id", "must be 1-40 letters, digits or _ . : -")
        exists = not self.trusted_ids and self.w.event_exists(given)
        if given in self.ids or exists:
            raise InputError("id", f"an event with id {given!r} is already in the ledger")
        self.ids.add(given)
        return given

    def moment(self, raw: Any) -> datetime:
        if raw is None:
            return self.now
        if raw == self.last_moment[0]:  # the events of an imported row mostly share one
            return self.last_moment[1]
        if not isinstance(raw, str):
            raise InputError("occurred_at", "must be an ISO 8601 string")
        if len(raw) > MOMENT_CHARS:
            raise InputError("occurred_at", too_long(MOMENT_CHARS))
        try:
            at = parse_moment(raw)
        except MomentError as exc:
            raise InputError("occurred_at", str(exc)) from None
        if at > self.latest:
            raise InputError("occurred_at", f"{raw!r} is in the future")
        self.last_moment = (raw, at)
        return at

    def register(self, payload: dict[str, Any], line: int) -> tuple[str, Normalised]:
        kind = _POINT_KINDS.get(str(payload.get("kind")))  # `PointKind(...)`, for a fifth of its cost
        if kind is None:
            raise InputError("kind", "must be one of: email, phone, postal")
        raw = payload.get("value")
        if not isinstance(raw, str) or not raw.strip():
            raise InputError("value", "is required: the address or number")
        norm = self.normalised.get((kind, raw))
        if norm is None:
            try:
                norm = normalise(kind, raw, self.region)
            except AddressError as exc:
                raise InputError("value", str(exc)) from None
        key = (kind, norm.value)
        same = (kind, match_form(kind, norm.value))  # another spelling of it is the same point
        if same in self.new_points:
            raise InputError("value", f"{norm.value!r} is registered twice in this file")
        self.unchecked[key] = line
        pid = self.new_id("cp")
        self.new_points[same] = pid
        self.kinds[pid] = kind
        # Later lines mostly name the point by its normalised value: spare them normalising.
        self.refs[f"{kind}:{norm.value}"] = (pid, kind)  # a kind formats as its value (`StrEnum`)
        if kind is not PointKind.POSTAL:  # a postal address is only recognised with its prefix
            self.refs[norm.value] = (pid, kind)
        return pid, norm

    def already_registered(self) -> list[LineProblem]:
        """Registrations of values the store already holds (one query for the whole batch)."""
        found = self.w.find_points(self.unchecked)
        problems = [
            LineProblem(self.unchecked[key], "value", f"{key[1]!r} is already registered as {pid}")
            for key, pid in found.items()
        ]
        self.unchecked.clear()
        return sorted(problems, key=lambda p: p.line)

    def event(self, record: Any, line: int) -> Event:
        """Turn one record into an event, or raise InputError naming the field."""
        if not isinstance(record, dict):
            raise InputError("-", "each line must be one JSON object")
        # The payload is the record without its envelope (type, contact, occurred_at, id),
        # popped from it field by field: from the record itself when it is this append's own
        # (read from a line), else from a copy (the caller's dict is left as it was).
        payload = record if self.owned else dict(record)
        pop = payload.pop
        etype = pop("type", None)
        contact = pop("contact", _ABSENT)
        raw_moment = pop("occurred_at", None)
        given_id = pop("id", None)
        if not isinstance(etype, str):
            raise InputError("type", "is required (see docs/events.md)")
        if etype in SERVICE_ONLY or (etype == "request.received" and _TRACKED & payload.keys()):
            raise InputError(
                "type",
                f"{etype} with a tracked request is recorded by `consentry dsr` (or the API's "
                "/requests), which keeps the request and its ledger in step; it cannot be appended",
            )
        if etype in ERASURE_ONLY:
            raise InputError(
                "type",
                f"{etype} is recorded only by the erasure: use `consentry erase` (or the API's "
                "POST /v1/erasures), which also removes the address's lookup, keeps its suppression "
                "record and destroys its data key; it cannot be appended",
            )
        last = self.last_moment
        # `moment`'s first test without the call: an imported row's events mostly share one.
        occurred = last[1] if raw_moment == last[0] else self.moment(raw_moment)
        if etype == "contact_point.registered":
            if contact is not _ABSENT:
                raise InputError("contact", "a registration creates a contact point; give kind and value")
            # Every field is checked before the value is normalised (a wrong field is
            # named before an unusable address), and again with the normalised value.
            first = validate_payload(etype, payload if payload.get("value") else {**payload, "value": "-"})
            pid, norm = self.register(payload, line)
            kind = self.kinds[pid]
            # Only what normalising changed is checked again (a normal form is stripped: a
            # value it left as it was is in `first` as it is): the normal form, and the
            # country normalising found for a number, unless the record names one.
            changes: dict[str, Any] = {}
            if norm.value != payload.get("value"):
                changes["value"] = norm.value
            if norm.country and "country" not in payload:
                changes["country"] = norm.country
            clean = with_fields(etype, first, changes) if changes else first
        else:
            pid, kind = self.point(None if contact is _ABSENT else contact)
            clean = validate_payload(etype, payload)
        for ch in clean.get("channels", ()):
            if ch not in CHANNELS_BY_POINT[kind]:
                raise InputError("channels", f"a {kind.value} contact point cannot be reached by {ch}")
        if etype in _PURPOSE_FIELDS and "purpose" in clean and not self.purpose_known(clean["purpose"]):
            raise InputError(
                "purpose",
                f"unknown purpose {clean['purpose']!r}; define it with `consentry purposes add`",
            )
        event_id = self.new_id("ev") if given_id is None else self.event_id(given_id)
        seq = self.seq
        self.seq += 1
        return Event(event_id, etype, pid, occurred, self.now, clean, SCHEMA_VERSION, seq)


def append_records(
    app: App,
    records: Iterable[tuple[int, Any]],
    progress: Progress | None = None,
    owned: bool = False,
) -> AppendReport:
    """Validate and append numbered records in one transaction; FileRejected if any is bad.

    A record may be an InputError already (a line that could not be parsed): it
    is reported in its place like any other problem. With `owned` the records are the
    append's to change (nothing else holds them, as `_decode`'s): their envelope fields are
    popped from them instead of from a copy; without it they are left as they were.
    """
    with app.store.writer() as w:
        return append_in(app, w, records, progress, owned=owned)


def append_in(
    app: App,
    w: Writing,
    records: Iterable[tuple[int, Any]],
    progress: Progress | None = None,
    trusted_ids: bool = False,
    normalised: Mapping[tuple[PointKind, str], Normalised] | None = None,
    owned: bool = False,
    hold: bool = False,
) -> AppendReport:
    """`append_records` inside a transaction the caller holds (and rolls back on FileRejected).

    With `trusted_ids` the caller has already made sure given event ids and
    registered values are new (the importer checks a whole block at once), so
    they are not looked up again. `normalised` maps values the caller has already
    normalised, in their normal form, to what `normalise` gives for them (the importer
    normalises every address it reads): a registration of such a value is not
    normalised again (`normalise` gives the same for a normal form).

    Records are written in batches of `BATCH` as they are checked, so a record refused after a
    batch leaves that batch in the transaction. With `hold` nothing is written until every
    record is checked: a caller that goes on in the same transaction after a FileRejected
    (the importer, which leaves out the refused rows and appends the rest of its block) finds
    it as it was. It holds the records' events in memory, so it is for bounded inputs.
    """
    with rare_collections():
        return _append_in(app, w, records, progress, trusted_ids, normalised, owned, hold)


def _append_in(
    app: App,
    w: Writing,
    records: Iterable[tuple[int, Any]],
    progress: Progress | None,
    trusted_ids: bool,
    normalised: Mapping[tuple[PointKind, str], Normalised] | None,
    owned: bool,
    hold: bool,
) -> AppendReport:
    problems: list[LineProblem] = []
    truncated = False
    appended = registered = 0
    first = last = None
    batch = _Batch(app, w, trusted_ids, normalised, owned)
    pending: list[Event] = []

    def flush() -> None:
        nonlocal appended, registered, first, last
        clashes = [] if trusted_ids else batch.already_registered()
        if clashes:
            problems.extend(clashes)
            pending.clear()
            return
        seqs = w.append(pending, project=False)
        if seqs:
            first = first or seqs[0]
            last = seqs[-1]
        appended += len(seqs)
        registered += sum(1 for ev in pending if ev.type == "contact_point.registered")
        if progress:
            progress(len(seqs))
        pending.clear()

    for line, record in records:
        try:
            if isinstance(record, InputError):
                raise record
            ev = batch.event(record, line)
        except FieldError as exc:
            if len(problems) >= MAX_PROBLEMS:
                truncated = True
                break
            problems.append(LineProblem(line, exc.field, exc.message))
            continue
        if not problems:
            pending.append(ev)
            if len(pending) >= BATCH and not hold:
                flush()
    if not problems:
        flush()
        w.project_pending()
    else:
        problems.extend(batch.already_registered())
    if problems:
        problems.sort(key=lambda p: p.line)
        raise FileRejected(problems[:MAX_PROBLEMS], truncated or len(problems) > MAX_PROBLEMS)
    return AppendReport(appended, registered, first, last)


def _decode(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """Numbered JSON objects; a line that is not JSON becomes an InputError in its place.

    orjson reads a line in a quarter of the time `json` takes (about 3 against 12 µs an
    event). It is stricter (no NaN, no lone surrogate escapes), so a line it refuses is
    read again by `json`, which accepts what it always accepted and words the refusal as
    before. It reads an integer past 64 bits (below -2**63 or above 2**64 - 1) as a float:
    such an integer is written with at least 19 digits in a row, so a line with a run of 19
    digits anywhere (`_DIGITS_AS_NINES`) is read by `json` alone, which reads it exactly.
    Every other number reads the same in both.
    """
    for n, line in enumerate(lines, 1):
        # A lone surrogate encodes too (orjson refuses those bytes; `json` reads the line).
        utf8 = line.encode("utf-8", "surrogatepass")
        # `.find`, not `in`: `bytes.__contains__` first tries its operand as an integer (`65 in
        # b"A"`), so a bytes operand raises a TypeError it formats and drops (~1,100 instructions
        # a line) before the same search.
        if utf8.translate(_DIGITS_AS_NINES).find(_NINETEEN) < 0:
            try:
                value = orjson.loads(utf8)
            except orjson.JSONDecodeError:
                pass
            else:
                yield n, value
                continue
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, InputError("-", f"not valid JSON ({exc.msg}, column {exc.colno})")


#: Every ASCII digit made a nine and every other byte a space: a run of 19 digits in a line's
#: UTF-8 becomes `_NINETEEN` (a multi-byte character's bytes are never ASCII digits). One
#: `bytes.translate` (a C loop) and one search cost half of walking each parsed value for a
#: float of at least 2**63, the form in which orjson returns an integer past 64 bits.
_DIGITS_AS_NINES = bytes(0x39 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_NINETEEN = b"9" * 19


def append_lines(app: App, lines: Iterable[str], progress: Progress | None = None) -> AppendReport:
    """Append JSON lines (one event per line); all or nothing. The records are this append's
    own (decoded here, read by nothing else): their envelopes are popped from them in place."""
    return append_records(app, _decode(lines), progress, owned=True)


class AlreadyRegistered(InputError):
    """The value is registered already; `point_id` names its contact point."""

    def __init__(self, value: str, point_id: str) -> None:
        super().__init__("value", f"{value!r} is already registered as {point_id}")
        self.point_id = point_id


def register_point(app: App, fields: dict[str, Any]) -> str:
    """Register one contact point (a `contact_point.registered` event); returns its id."""
    record = {**fields, "type": "contact_point.registered"}
    try:
        kind = PointKind(str(fields.get("kind")))
        value = normalise(kind, str(fields.get("value") or ""), app.settings.default_region).value
    except (ValueError, AddressError):
        kind, value = PointKind.EMAIL, ""  # append_records names the field at fault
    with app.store.reader() as r:
        existing = r.point_id(kind, value) if value else None
    if existing is not None:
        raise AlreadyRegistered(value, existing)
    try:
        append_records(app, [(1, record)])
    except FileRejected as exc:
        first = exc.problems[0]
        with app.store.reader() as r:
            existing = r.point_id(kind, value) if value else None
        if existing is not None:  # registered by someone else in the meantime
            raise AlreadyRegistered(value, existing) from None
        raise InputError(first.field, first.message) from None
    with app.store.reader() as r:
        point_id = r.point_id(kind, value)
    assert point_id is not None
    return point_id
