"""The plain CSV mapper: a contacts file's columns, with the batch's provenance and basis."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from consentry.adapters.addresses import Normalised
from consentry.adapters.classify import suggest
from consentry.adapters.csvfile import CsvFormat, Row
from consentry.domain.clock import MomentError
from consentry.domain.events import STATED_BASES
from consentry.domain.ids import derived_id
from consentry.domain.vocabulary import ConsentMethod, PartyKind, PointKind, Source
from consentry.services.app import App
from consentry.services.errors import InputError, LineProblem
from consentry.services.imports.dates import parse_dutch_moment
from consentry.services.imports.model import (
    IMPORTED,
    ImportContext,
    Records,
    RowRejected,
    profile_update,
    ref,
    registration_stub,
    split_tags,
    with_profile,
)

CONTACT_FIELDS = {"email": PointKind.EMAIL, "phone": PointKind.PHONE, "postal": PointKind.POSTAL}
FIELDS = (*CONTACT_FIELDS, "name", "party", "country", "consent_at", "consent_ip", "tags")
DEFAULT_CHANNELS = {PointKind.EMAIL: ["email"], PointKind.PHONE: ["sms"], PointKind.POSTAL: ["post"]}


@dataclass(frozen=True, slots=True)
class CsvSpec:
    """How to read a contacts CSV and what to say about the whole batch."""

    source: Source
    basis: str
    columns: Mapping[str, str]
    purpose: str | None = None
    consent_method: ConsentMethod = ConsentMethod.IMPORT
    channels: tuple[str, ...] | None = None
    party: PartyKind | None = None
    source_detail: str | None = None
    attribute_columns: tuple[str, ...] | None = None
    tags: tuple[str, ...] = ()


class CsvMapper:
    """Rows of a contacts CSV, mapped by column, with the batch's provenance and basis."""

    def __init__(self, app: App, spec: CsvSpec) -> None:
        if spec.basis not in STATED_BASES:
            raise InputError("basis", f"must be one of: {', '.join(STATED_BASES)}")
        unknown = sorted(set(spec.columns) - set(FIELDS))
        if unknown:
            raise InputError("map", f"unknown field(s) {', '.join(unknown)}; fields: {', '.join(FIELDS)}")
        if spec.basis == "consent":
            if not spec.purpose:
                raise InputError("purpose", "consent is for a purpose: give --purpose")
            with app.store.reader() as r:
                if r.purpose(spec.purpose) is None:
                    raise InputError("purpose", f"unknown purpose {spec.purpose!r}")
        self.spec = spec
        self.attribute_columns: tuple[str, ...] = ()

    def check(self, fmt: CsvFormat) -> list[str]:
        """Check the mapping against the header and say what proof the file lacks."""
        spec = self.spec
        missing = sorted(c for c in spec.columns.values() if c not in fmt.header)
        if missing:
            raise InputError("map", f"column(s) not in the file: {', '.join(missing)}")
        if not any(f in spec.columns for f in CONTACT_FIELDS):
            raise InputError("map", "map at least one of email, phone or postal to a column")
        mapped = set(spec.columns.values())
        if spec.attribute_columns is None:
            self.attribute_columns = tuple(h for h in fmt.header if h and h not in mapped)
        else:
            absent = sorted(c for c in spec.attribute_columns if c not in fmt.header)
            if absent:
                raise InputError("attributes", f"column(s) not in the file: {', '.join(absent)}")
            self.attribute_columns = spec.attribute_columns
        notes = []
        if spec.basis == "consent":
            if "consent_at" not in spec.columns:
                notes.append(
                    "no opt-in time column: consents are recorded at the import time; when the "
                    "person consented is not proven"
                )
            if "consent_ip" not in spec.columns:
                notes.append("no opt-in IP column: the consents carry no IP address")
            notes.append(
                f"consent text: not in the file; the consents record method {spec.consent_method.value} "
                f"and source {spec.source.value}"
            )
            if spec.source is Source.THIRD_PARTY_LIST_WITHOUT_PROOF:
                notes.append("consent claimed by a third party without proof: the rules deny (EU-GDPR-07)")
        return notes

    def records(self, row: Row, ctx: ImportContext) -> Records:
        """The records for one CSV row."""
        spec, values = self.spec, row.values

        def col(name: str) -> str:
            return values.get(spec.columns[name], "") if name in spec.columns else ""

        points = [
            ctx.point(kind, col(name), spec.columns[name])
            for name, kind in CONTACT_FIELDS.items()
            if col(name)
        ]
        if not points:
            raise RowRejected("contact", "no e-mail address, phone number or postal address on this row")
        party = self._party(col("party"), spec.columns.get("party", "party"))
        consent_at = None
        if col("consent_at"):
            try:
                consent_at = parse_dutch_moment(col("consent_at")).isoformat()
            except MomentError as exc:
                raise RowRejected(spec.columns["consent_at"], str(exc)) from None
        elif spec.basis == "consent" and "consent_at" in spec.columns:
            ctx.notes.append(LineProblem(row.line, spec.columns["consent_at"], "empty: opt-in time unknown"))
        attributes = {c: values[c] for c in self.attribute_columns if values.get(c)}
        tags = sorted({*spec.tags, *split_tags(col("tags"))})
        # Sealed in the registrations (`contact_id` is personal) and blinded where it is looked
        # up, so not keyed: rows imported by earlier versions grouped their points by this id.
        group = derived_id(IMPORTED, "contact", ref(points[0]))[3:] if len(points) > 1 else None
        attrs = dict(sorted(attributes.items()))
        out: Records = []
        for point in points:
            key = ref(point)
            if ctx.first_time(point, row.line):
                reg = self._registration(point, party, col, group, consent_at, ctx)
                out.append(with_profile(reg, attrs, tags, ctx.derive))
            else:
                # Seen before in this file: only what this row adds to the profile.
                seen = {(point.kind, point.value): ""}
                stub = with_profile(registration_stub(point), attrs, tags, ctx.derive)
                out.extend(profile_update(stub, seen, ctx.derive))
            if spec.basis == "consent" and spec.purpose:
                out.append(self._consent(point, key, consent_at, col("consent_ip"), ctx))
        return out

    def _party(self, raw: str, column: str) -> PartyKind | None:
        if not raw:
            return self.spec.party
        try:
            return PartyKind(raw.strip().lower())
        except ValueError:
            allowed = ", ".join(p.value for p in PartyKind)
            raise RowRejected(column, f"{raw!r} is not a party kind ({allowed})") from None

    def _registration(
        self,
        point: Normalised,
        party: PartyKind | None,
        col: Callable[[str], str],
        group: str | None,
        consent_at: str | None,
        ctx: ImportContext,
    ) -> dict[str, Any]:
        spec = self.spec
        hint = suggest(point)
        if hint.party is not None:
            ctx.suggestions[hint.party.value] += 1
        record: dict[str, Any] = {
            "id": ctx.derive(IMPORTED, "registered", ref(point)),
            "type": "contact_point.registered",
            "kind": point.kind.value,
            "value": point.value,
            "source": spec.source.value,
            "stated_basis": spec.basis,
            "role_address": point.role_address,
            "suggestion_reason": hint.reason,
        }
        for name, value in (
            ("party", party.value if party else None),
            ("suggested_party", hint.party.value if hint.party else None),
            ("source_detail", spec.source_detail),
            ("display_name", col("name") or None),
            ("country", (col("country") or point.country or "").upper() or None),
            ("contact_id", group),
            ("occurred_at", consent_at),
        ):
            if value:
                record[name] = value
        return record

    def _consent(
        self, point: Normalised, key: str, consent_at: str | None, ip: str, ctx: ImportContext
    ) -> dict[str, Any]:
        spec = self.spec
        assert spec.purpose is not None
        channels = list(spec.channels) if spec.channels else DEFAULT_CHANNELS[point.kind]
        record: dict[str, Any] = {
            "id": ctx.derive(IMPORTED, "consent", key, spec.purpose, consent_at or ""),
            "type": "consent.given",
            "contact": key,
            "purpose": spec.purpose,
            "channels": channels,
            "method": spec.consent_method.value,
            "source_fields": {k: v for k, v in (("consent_at", consent_at), ("consent_ip", ip)) if v},
        }
        if consent_at:
            record["occurred_at"] = consent_at
        if ip:
            record["ip"] = ip
        return record


def parse_map(pairs: Iterable[str]) -> dict[str, str]:
    """Read `field=Column` pairs as given on the command line."""
    out = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise InputError("map", f"{pair!r}: write field=Column, e.g. email=E-mailadres")
        out[name.strip()] = column.strip()
    return out


#: Column names files use for each field, written as `_plain` writes them (lower case,
#: letters and digits only): Dutch first, then English and other tools' exports.
_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email", "emailadres", "mail", "mailadres", "emailaddress", "e"),
    "phone": ("telefoon", "telefoonnummer", "tel", "telnr", "mobiel", "mobielnummer", "gsm", "phone",
              "phonenumber", "mobile", "mobilephone"),
    "postal": ("adres", "postadres", "postaladdress", "address", "postal", "woonadres"),
    "name": ("naam", "volledigenaam", "contactpersoon", "name", "fullname", "displayname"),
    "party": ("soort", "soortcontact", "relatie", "relatiesoort", "party", "partykind"),
    "country": ("land", "landcode", "country", "countrycode"),
    "consent_at": ("toestemmingop", "toestemmingsdatum", "datumtoestemming", "aangemeldop",
                   "ingeschrevenop", "inschrijfdatum", "aanmelddatum", "optindatum", "optin",
                   "optintijd", "optintime", "consentat", "consentdate", "subscribedat", "signupdate"),
    "consent_ip": ("ip", "ipadres", "optinip", "consentip", "ipaddress", "toestemmingip"),
    "tags": ("tags", "tag", "labels", "label", "groepen", "groep"),
}  # fmt: skip


def _plain(column: str) -> str:
    return "".join(ch for ch in column.lower() if ch.isalnum())


def guess_columns(header: Iterable[str]) -> dict[str, str]:
    """The mapping (field -> column) a file's header suggests, e.g. `E-mailadres` for email.

    Each field takes the first column whose name is one of its usual names; a column
    serves one field at most; fields no column names are left out.
    """
    columns = [c for c in header if c]
    plain = {c: _plain(c) for c in columns}
    out: dict[str, str] = {}
    for name in FIELDS:
        aliases = _ALIASES[name]
        found = next((c for c in columns if plain[c] in aliases and c not in out.values()), None)
        if found is not None:
            out[name] = found
    return out
