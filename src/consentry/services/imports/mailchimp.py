"""Moving from Mailchimp without losing proof: its audience exports, mapped to the ledger.

An export is a ZIP (or its CSV files) with one file per member status:
subscribed, unsubscribed and cleaned. Opt-in and confirmation times and IPs
become consent evidence (double opt-in where a confirmation time exists);
unsubscribes become unsubscribe events, cleaned addresses hard-bounce
suppressions, merge fields attributes and TAGS tags. Mailchimp writes its
times in UTC. What a file does not hold is reported as missing proof, never
invented.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from consentry.adapters.csvfile import CsvFormat, Row
from consentry.domain.vocabulary import PointKind
from consentry.services.app import App
from consentry.services.errors import InputError
from consentry.services.imports import runner
from consentry.services.imports.model import (
    IMPORTED,
    ImportContext,
    ImportReport,
    Records,
    RowRejected,
    ref,
    split_tags,
    with_profile,
)

EMAIL = "Email Address"
#: Columns Mailchimp adds itself; every other column is a merge field.
SYSTEM = frozenset(
    [
        "MEMBER_RATING",
        "OPTIN_TIME",
        "OPTIN_IP",
        "CONFIRM_TIME",
        "CONFIRM_IP",
        "LATITUDE",
        "LONGITUDE",
        "GMTOFF",
        "DSTOFF",
        "TIMEZONE",
        "CC",
        "REGION",
        "LAST_CHANGED",
        "LEID",
        "EUID",
        "NOTES",
        "TAGS",
        "UNSUB_TIME",
        "UNSUB_CAMPAIGN_TITLE",
        "UNSUB_CAMPAIGN_ID",
        "UNSUB_REASON",
        "UNSUB_REASON_OTHER",
        "CLEAN_TIME",
        "CLEAN_CAMPAIGN_TITLE",
        "CLEAN_CAMPAIGN_ID",
    ]
)
#: Kept with the consent as the original system's fields (RULES.md, evidence).
EVIDENCE = ("OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP", "LEID", "EUID", "LAST_CHANGED")
#: System columns kept as attributes (`mailchimp.CC` ...), beside the merge fields.
PROFILE_SYSTEM = ("MEMBER_RATING", "CC", "REGION", "TIMEZONE", "NOTES")
#: Mailchimp's member statuses, each a file of the export. `nonsubscribed` members never opted
#: in to marketing (transactional contacts, store customers): they are registered without a consent.
STATUSES = ("subscribed", "unsubscribed", "cleaned", "nonsubscribed")
NONSUBSCRIBED = "nonsubscribed"
#: What each status file needs for its own event, beyond the address.
STATUS_TIME = {"unsubscribed": "UNSUB_TIME", "cleaned": "CLEAN_TIME"}
#: The tally (`ImportContext.tally`) of members without an opt-in time.
MISSING_OPTIN = "mailchimp.no_optin_time"


def status_of(name: str) -> str | None:
    """The member status a file holds, from its name (unsubscribed_members_export_... ->)."""
    lower = name.lower()
    # "subscribed" is inside "unsubscribed" and "nonsubscribed": those are looked for first.
    for status in (NONSUBSCRIBED, "unsubscribed", "cleaned", "subscribed"):
        if status in lower:
            return status
    return None


def mc_time(raw: str, column: str) -> str | None:
    """A Mailchimp time (UTC, `2024-03-01 10:00:00`) as ISO 8601, or None when empty."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
        if moment.tzinfo is None:
            # What `moment.replace(tzinfo=UTC).isoformat()` writes, for a third of its cost.
            return moment.isoformat() + "+00:00"
        return moment.astimezone(UTC).isoformat()
    except (ValueError, OverflowError):  # not a time; or one its zone moves outside years 1-9999
        raise RowRejected(column, f"{raw!r} is not a time like 2024-03-01 10:00:00") from None


@dataclass
class MailchimpMapper:
    """Rows of one Mailchimp status file."""

    app: App
    purpose: str
    status: str
    audience: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise InputError("status", f"must be one of: {', '.join(STATUSES)}")
        with self.app.store.reader() as r:
            if r.purpose(self.purpose) is None:
                raise InputError("purpose", f"unknown purpose {self.purpose!r}")
        self.merge_fields: tuple[str, ...] = ()
        #: The columns a member's profile is read from, with the attribute each becomes, in
        #: the order of the attributes' names (a profile is sorted: its id covers it).
        self._profile: tuple[tuple[str, str], ...] = ()
        self._status_column = STATUS_TIME.get(self.status)
        self._detail = "Mailchimp" + (f" audience {self.audience}" if self.audience else "")
        self._collection_point = "mailchimp" + (f":{self.audience}" if self.audience else "")

    def check(self, fmt: CsvFormat) -> list[str]:
        """Check the header and say which evidence columns the file lacks."""
        if EMAIL not in fmt.header:
            raise InputError("FILE", f"not a Mailchimp export: no {EMAIL!r} column")
        self.merge_fields = tuple(h for h in fmt.header if h and h != EMAIL and h not in SYSTEM)
        # A system column after a merge field of the same attribute name: its value wins.
        columns = [(f, f) for f in self.merge_fields] + [(c, f"mailchimp.{c}") for c in PROFILE_SYSTEM]
        self._profile = tuple(sorted(columns, key=lambda c: c[1]))
        absent = [c for c in ("OPTIN_TIME", "OPTIN_IP", "CONFIRM_TIME", "CONFIRM_IP") if c not in fmt.header]
        notes = [f"no {c} column: that evidence is absent for every member" for c in absent]
        needed = STATUS_TIME.get(self.status)
        if needed and needed not in fmt.header:
            notes.append(f"no {needed} column: the {self.status} events are dated at the import")
        if self.status == NONSUBSCRIBED:
            notes.append(
                "nonsubscribed members never opted in to marketing: they are registered without "
                "a consent, so they are not mailed for this purpose"
            )
        return notes

    def records(self, row: Row, ctx: ImportContext) -> Records:
        """The records for one member."""
        v = row.values
        raw = v.get(EMAIL)
        if not raw:
            raise RowRejected(EMAIL, "empty")
        point = ctx.point(PointKind.EMAIL, raw, EMAIL)
        key = ref(point)
        optin = mc_time(v.get("OPTIN_TIME", ""), "OPTIN_TIME")
        confirm = mc_time(v.get("CONFIRM_TIME", ""), "CONFIRM_TIME")
        out: Records = []
        if ctx.first_time(point, row.line):
            # Registered at the earliest moment the export knows of this member.
            status_col = self._status_column
            status_at = mc_time(v.get(status_col, ""), status_col) if status_col else None
            known = [t for t in (optin, confirm, status_at) if t]
            out.append(self._registration(point, v, min(known) if known else None, ctx))
        if self.status == "subscribed" or (optin and self.status != NONSUBSCRIBED):
            out.extend(self._consent(key, v, optin, confirm, ctx))
        if self.status == "unsubscribed":
            at = mc_time(v.get("UNSUB_TIME", ""), "UNSUB_TIME")
            record: dict[str, Any] = {
                "id": ctx.derive(IMPORTED, "mc-unsub", key, self.purpose, at or ""),
                "type": "unsubscribed",
                "contact": key,
                "purpose": self.purpose,
                "via": "import",
            }
            extra = {
                "occurred_at": at,
                "campaign": v.get("UNSUB_CAMPAIGN_TITLE"),
                "reason": " — ".join(x for x in (v.get("UNSUB_REASON"), v.get("UNSUB_REASON_OTHER")) if x),
            }
            out.append({**record, **{k: x for k, x in extra.items() if x}})
        elif self.status == "cleaned":
            at = mc_time(v.get("CLEAN_TIME", ""), "CLEAN_TIME")
            campaign = v.get("CLEAN_CAMPAIGN_TITLE")
            record = {
                "id": ctx.derive(IMPORTED, "mc-clean", key, at or ""),
                "type": "bounce.recorded",
                "contact": key,
                "bounce_kind": "hard",
                "diagnostic": "cleaned by Mailchimp" + (f" after campaign {campaign}" if campaign else ""),
            }
            out.append({**record, **({"occurred_at": at} if at else {})})
        return out

    def _registration(
        self, point: Any, v: dict[str, str], first_seen: str | None, ctx: ImportContext
    ) -> dict[str, Any]:
        # Already in the order of the attributes' names (`check`): the profile as sorted.
        profile = {name: x for column, name in self._profile if (x := v.get(column))}
        leid = v.get("LEID")
        # The fields in their type's order (docs/events.md), which the ledger keeps: a
        # record in that order is not sorted again (`validate_payload`).
        record: dict[str, Any] = {
            "id": "",  # set below: with a profile, `with_profile` derives it
            "type": "contact_point.registered",
            "kind": "email",
            "value": point.value,
            "source": "import",
            "source_detail": f"{self._detail}, LEID {leid}" if leid else self._detail,
        }
        first, last = v.get("First Name"), v.get("Last Name")
        name = f"{first} {last}" if first and last else first or last
        if name:
            record["display_name"] = name
        if self.status != NONSUBSCRIBED:  # those never opted in: no basis is claimed for them
            record["stated_basis"] = "consent"
        record["role_address"] = point.role_address
        if first_seen:
            record["occurred_at"] = first_seen
        tags = split_tags(v.get("TAGS", ""))
        if not (profile or tags):
            record["id"] = ctx.derive(IMPORTED, "registered", ref(point))
        return with_profile(record, profile, tags, ctx.derive)

    def _consent(
        self,
        key: str,
        v: dict[str, str],
        optin: str | None,
        confirm: str | None,
        ctx: ImportContext,
    ) -> Records:
        if not optin:
            ctx.tally[MISSING_OPTIN] += 1
        evidence = {c: x for c in EVIDENCE if (x := v.get(c))}
        consent_id = ctx.derive(IMPORTED, "mc-consent", key, self.purpose, optin or "")
        given: dict[str, Any] = {
            "id": consent_id,
            "type": "consent.given",
            "contact": key,
            "purpose": self.purpose,
            "channels": ["email"],
            # A confirmation time is Mailchimp's double opt-in; without it, how the
            # consent was collected is not known, and the method says so.
            "method": "double_opt_in" if confirm else "import",
            "collection_point": self._collection_point,
        }
        # In the type's order, as the registration's fields (`_registration`).
        ip = v.get("OPTIN_IP")
        if ip:
            given["ip"] = ip
        given["source_fields"] = evidence
        if optin:
            given["occurred_at"] = optin
        if not confirm:
            return [given]
        confirmed: dict[str, Any] = {
            "id": ctx.derive(IMPORTED, "mc-confirm", key, self.purpose, confirm),
            "type": "consent.confirmed",
            "contact": key,
            "purpose": self.purpose,
            "consent_event": consent_id,
            "occurred_at": confirm,
        }
        ip = v.get("CONFIRM_IP")
        if ip:
            confirmed["ip"] = ip
        return [given, confirmed]


@contextmanager
def _files(path: Path) -> Iterator[list[tuple[Path, str]]]:
    """The status files of an export: a ZIP's members, or the file itself."""
    if zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(path) as z:
            found = []
            unknown = []
            for info in z.infolist():
                if info.is_dir() or not info.filename.lower().endswith(".csv"):
                    continue
                status = status_of(Path(info.filename).name)
                if status is None:
                    unknown.append(info.filename)
                    continue
                found.append((Path(z.extract(info, tmp)), status))
            if unknown:  # refused before anything is written: no member of the export is left out unsaid
                raise InputError(
                    "FILE",
                    f"{path.name}: cannot tell the member status of {', '.join(map(repr, unknown))} "
                    "from its name; import the ZIP's CSV files one by one, that one with --status",
                )
            if not found:
                raise InputError("FILE", f"{path.name}: no {'/'.join(STATUSES)} CSV in the ZIP")
            yield sorted(found, key=lambda f: STATUSES.index(f[1]))
        return
    status = status_of(path.name)
    if status is None:
        raise InputError("status", f"cannot tell the member status from {path.name!r}; give --status")
    yield [(path, status)]


class FileReport(NamedTuple):
    """The report of one status file of an export."""

    name: str
    status: str
    report: ImportReport


@dataclass(frozen=True, slots=True)
class MailchimpReport:
    """One report per status file."""

    files: list[FileReport]


def run(
    app: App,
    path: Path,
    purpose: str,
    *,
    audience: str | None = None,
    status: str | None = None,
    dry_run: bool = False,
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> MailchimpReport:
    """Import a Mailchimp export (ZIP or CSV) into `purpose`."""
    if not path.exists():
        raise InputError("FILE", f"{path} does not exist")
    reports = []
    with _files(path) if status is None else _single(path, status) as files:
        if strict and not dry_run and len(files) > 1:
            # Each file is one transaction: strict over the whole export checks every file
            # first, and writes none when one has a problem.
            checked = [
                (
                    file.name,
                    file_status,
                    runner.run(app, file, MailchimpMapper(app, purpose, file_status, audience), dry_run=True),
                )
                for file, file_status in files
            ]
            if any(report.rejected for _, _, report in checked):
                for _, _, report in checked:
                    report.dry_run = False  # a strict import that wrote nothing (`committed` is False)
                return MailchimpReport([FileReport(name, st, _noted(report)) for name, st, report in checked])
        for file, file_status in files:
            mapper = MailchimpMapper(app, purpose, file_status, audience)
            report = runner.run(app, file, mapper, dry_run=dry_run, strict=strict, progress=progress)
            reports.append(FileReport(file.name, file_status, _noted(report)))
    return MailchimpReport(reports)


def _noted(report: ImportReport) -> ImportReport:
    """The report with its file note on the members without an opt-in time."""
    missing = report.tally.get(MISSING_OPTIN, 0)
    if missing:
        report.file_notes.append(
            f"{missing} member(s) without OPTIN_TIME: their consent is "
            "dated at the import, when it was given is not proven"
        )
    return report


@contextmanager
def _single(path: Path, status: str) -> Iterator[list[tuple[Path, str]]]:
    yield [(path, status)]
