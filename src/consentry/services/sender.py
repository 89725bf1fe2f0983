"""Who the sender is: the identity the public pages and mails show, and the confirmation mail's From.

Both are kept in the settings table (keys `sender`, `sender_logo` and `mail_sender`; the
identity's name is also the controller profile's, `consentry init --name`) and
changed on the admin app's Instellingen page; each change is recorded in the admin audit
log with the acting user, in the same transaction. Without a stored identity the pages
show none and the mails name `settings.mail_from_name`, as before.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from consentry.adapters.addresses import AddressError, normalise_email
from consentry.domain import limits
from consentry.domain.users import AuditAction, AuditEntry
from consentry.domain.vocabulary import Sector
from consentry.services.app import App
from consentry.services.errors import InputError
from consentry.services.setup import controller

IDENTITY = "sender"
CONTROLLER = "controller"
LOGO = "sender_logo"
MAIL = "mail_sender"
DEFAULT_COLOUR = "#1d4ed8"
#: A logo is shown small: this is plenty, and keeps the settings row small.
LOGO_MAX_BYTES = 200 * 1024
#: Raster images only: an SVG can carry scripts.
_LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_KVK = re.compile(r"^[0-9]{8}$")
#: White text on the colour (buttons, the header bar) must reach WCAG's 4.5:1.
MIN_CONTRAST = 4.5


@dataclass(frozen=True, slots=True)
class Identity:
    """The sender as people see it on the public pages and in mails."""

    name: str = ""
    kvk: str = ""
    address: str = ""
    privacy_url: str = ""
    colour: str = DEFAULT_COLOUR
    has_logo: bool = False

    def to_json(self) -> dict[str, Any]:
        """As stored in the settings table."""
        return {
            "name": self.name,
            "kvk": self.kvk,
            "address": self.address,
            "privacy_url": self.privacy_url,
            "colour": self.colour,
        }


@dataclass(frozen=True, slots=True)
class MailSender:
    """The From of confirmation mails (None: the settings' `mail_from_name` and `mail_from`)."""

    name: str
    email: str


def identity(app: App) -> Identity:
    """The stored identity, or an empty one."""
    with app.store.reader() as r:
        raw = r.setting(IDENTITY) or {}
        logo = r.setting(LOGO)
    return Identity(
        name=str(raw.get("name", "")),
        kvk=str(raw.get("kvk", "")),
        address=str(raw.get("address", "")),
        privacy_url=str(raw.get("privacy_url", "")),
        colour=str(raw.get("colour", DEFAULT_COLOUR)),
        has_logo=bool(logo),
    )


def controller_name(app: App) -> str:
    """The name in the controller profile (what the identity's name starts from)."""
    with app.store.reader() as r:
        return controller(r).name


def logo(app: App) -> tuple[str, bytes] | None:
    """The logo's media type and bytes, if one was uploaded."""
    with app.store.reader() as r:
        raw = r.setting(LOGO)
    if not raw:
        return None
    return str(raw["type"]), base64.b64decode(raw["data"])


def save_identity(
    app: App,
    actor: str,
    name: str,
    kvk: str,
    address: str,
    privacy_url: str,
    colour: str,
    logo_bytes: bytes | None = None,
    remove_logo: bool = False,
) -> Identity:
    """Check and store the identity (and a new logo, or remove it); InputError names the field."""
    new = Identity(
        name=_text("name", name, required=True),
        kvk=_kvk(kvk),
        address=_text("address", address),
        privacy_url=_url(privacy_url),
        colour=_colour(colour),
    )
    stored_logo = _logo(logo_bytes) if logo_bytes else None
    with app.store.writer() as w:
        w.put_setting(IDENTITY, new.to_json())
        # The controller profile (`consentry init --name`) names the same organisation.
        profile = w.setting(CONTROLLER) or {"sector": Sector.COMMERCIAL.value}
        w.put_setting(CONTROLLER, {**profile, "name": new.name})
        if stored_logo is not None:
            w.put_setting(LOGO, stored_logo)
        elif remove_logo:
            w.put_setting(LOGO, {})
        detail = {**new.to_json(), "logo": "new" if stored_logo else "removed" if remove_logo else "kept"}
        w.record_audit(AuditEntry(app.clock.now(), actor, AuditAction.SETTINGS_CHANGED, IDENTITY, detail))
    return identity(app)


def mail_sender(app: App) -> MailSender | None:
    """The stored From of confirmation mails, if one was set here."""
    with app.store.reader() as r:
        raw = r.setting(MAIL)
    return MailSender(str(raw["name"]), str(raw["email"])) if raw else None


def save_mail_sender(app: App, actor: str, name: str, email: str) -> MailSender:
    """Check and store the From of confirmation mails."""
    try:
        address = normalise_email(email).value
    except AddressError as exc:
        raise InputError("mail_from", str(exc)) from None
    sender = MailSender(_text("mail_from_name", name, required=True), address)
    with app.store.writer() as w:
        w.put_setting(MAIL, {"name": sender.name, "email": sender.email})
        detail = {"name": sender.name, "email": sender.email}
        w.record_audit(AuditEntry(app.clock.now(), actor, AuditAction.SETTINGS_CHANGED, MAIL, detail))
    return sender


def contrast_on_white(colour: str) -> float:
    """The WCAG contrast ratio of white text on `colour` (#rrggbb)."""

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def _text(field: str, value: str, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise InputError(field, "is required")
    if len(value) > limits.NAME:
        raise InputError(field, limits.too_long(limits.NAME))
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        # A name ends up in a mail header: a line break there would add headers.
        raise InputError(field, "must be one line without control characters")
    return value


def _kvk(value: str) -> str:
    value = value.strip().replace(" ", "")
    if value and not _KVK.match(value):
        raise InputError("kvk", "is the 8-digit number in the Dutch trade register (KvK)")
    return value


def _url(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    if not value.startswith("https://") or len(value) > limits.URL or any(c.isspace() for c in value):
        raise InputError("privacy_url", "must be an https:// address of at most 2048 characters")
    return value


def _colour(value: str) -> str:
    value = value.strip() or DEFAULT_COLOUR
    if not _COLOUR.match(value):
        raise InputError("colour", "must be a colour as #rrggbb")
    if contrast_on_white(value) < MIN_CONTRAST:
        ratio = f"{contrast_on_white(value):.1f}:1"
        raise InputError("colour", f"is too light: white text on it has {ratio}, at least 4.5:1 is needed")
    return value.lower()


def _logo(data: bytes) -> dict[str, str]:
    if len(data) > LOGO_MAX_BYTES:
        raise InputError("logo", f"is {len(data) // 1024} KB; at most {LOGO_MAX_BYTES // 1024} KB")
    kind = next((t for magic, t in _LOGO_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise InputError("logo", "must be a PNG or JPEG image")
    return {"type": kind, "data": base64.b64encode(data).decode()}
