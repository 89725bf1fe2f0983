"""Finding contact points by what people type: an id, an e-mail address or a phone number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from consentry.adapters.addresses import AddressError, guess_kind, normalise
from consentry.domain import limits
from consentry.domain.events import Event
from consentry.domain.vocabulary import PointKind
from consentry.services.app import App
from consentry.services.errors import InputError
from consentry.services.ports import LedgerReader

_KINDS = frozenset(k.value for k in PointKind)


class UnknownContact(InputError):
    """A well-formed reference to a contact point that is not registered."""


def point_key(ref: str, region: str = "NL") -> tuple[PointKind, str] | str:
    """A reference as (kind, normalised value), or as an id when it is one.

    A reference may name its kind (`postal:Dorpsstraat 12; 1234 AB Dorp`); e-mail
    addresses and phone numbers are recognised without one.
    """
    if len(ref) > limits.CONTACT:
        raise InputError("contact", limits.too_long(limits.CONTACT))
    ref = ref.strip()
    if ref.startswith("cp_"):
        return ref
    prefix, sep, rest = ref.partition(":")
    if sep and prefix in _KINDS:
        kind: PointKind | None = PointKind(prefix)
        ref = rest
    else:
        kind = guess_kind(ref)
    if kind is None:
        raise InputError(
            "contact",
            f"{ref!r} is not a contact point id, e-mail address or phone number "
            "(write a postal address as postal:street; town)",
        )
    try:
        return kind, normalise(kind, ref, region).value
    except AddressError as exc:
        raise InputError("contact", str(exc)) from None


def resolve(reader: LedgerReader, ref: str, region: str = "NL") -> tuple[str, PointKind]:
    """The id and kind of the contact point a reference names; InputError when there is none."""
    key = point_key(ref, region)
    if isinstance(key, str):
        kind = reader.point_kind(key)
        if kind is None:
            raise unknown(key)
        return key, kind
    point_id = reader.point_id(*key)
    if point_id is None:
        raise unknown(key)
    return point_id, key[0]


def unknown(key: tuple[PointKind, str] | str) -> UnknownContact:
    """The error for a reference (`point_key`) that names no registered contact point."""
    if isinstance(key, str):
        return UnknownContact("contact", f"no contact point with id {key!r}")
    return UnknownContact("contact", f"no contact point {key[1]!r} is registered")


@dataclass(frozen=True, slots=True)
class PointView:
    """A contact point as stored: its projection and its ledger timeline."""

    id: str
    kind: PointKind
    state: dict[str, Any]
    events: list[Event]


def view(app: App, ref: str) -> PointView:
    """The stored state of the contact point a reference names, with its events in fold order."""
    with app.store.reader() as r:
        point_id, kind = resolve(r, ref, app.settings.default_region)
        return PointView(point_id, kind, r.state(point_id) or {}, r.events_for(point_id))
