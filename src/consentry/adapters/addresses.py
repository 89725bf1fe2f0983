"""Normalising and classifying addresses and numbers (email-validator, phonenumbers)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from consentry.domain.classify import ROLE_LOCAL_PARTS
from consentry.domain.vocabulary import EEA_COUNTRIES, PointKind


class AddressError(ValueError):
    """An address or number cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Normalised:
    """A contact point value in its canonical form, with what could be read from it."""

    kind: PointKind
    value: str
    country: str | None = None
    role_address: bool = False

    @property
    def in_eea(self) -> bool | None:
        """EEA membership of the number's country, when known."""
        return None if self.country is None else self.country in EEA_COUNTRIES


#: The plain addresses nearly every list consists of: ASCII letters, digits and ._%+- in
#: the local part, LDH labels without "--" (no IDNA), an alphabetic top-level domain.
#: These are valid by any reading, so they skip email-validator's full (and, at
#: ~80 µs an address, import-dominating) check; anything else goes through it.
_PLAIN_EMAIL = re.compile(
    r"^(?=.{1,254}$)(?=[^@]{1,64}@)[a-z0-9%+_-]+(?:\.[a-z0-9%+_-]+)*"
    r"@(?:(?!-)(?!..--)[a-z0-9-]{1,63}(?<!-)\.)+[a-z]{2,63}$"
)
_SPECIAL_USE = tuple(f".{name}" for name in SPECIAL_USE_DOMAIN_NAMES)


def _plain(lowered: str) -> bool:
    return _PLAIN_EMAIL.match(lowered) is not None and not lowered.endswith(_SPECIAL_USE)


def normalise_email(raw: str) -> Normalised:
    """Validate an e-mail address (syntax only, no network) and lower-case it where ASCII."""
    lowered = raw.strip().lower()
    if _plain(lowered):
        local = lowered.partition("@")[0]
        # (positionally: a frozen dataclass's `__init__` takes keywords at a third more)
        return Normalised(PointKind.EMAIL, lowered, None, local in ROLE_LOCAL_PARTS)
    try:
        info = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise AddressError(f"{raw!r} is not a valid e-mail address: {exc}") from None
    local = info.local_part
    value = f"{local}@{info.domain}".lower() if local.isascii() else f"{local}@{info.domain}"
    return Normalised(PointKind.EMAIL, value, role_address=local.lower() in ROLE_LOCAL_PARTS)


def normalise_phone(raw: str, default_region: str = "NL") -> Normalised:
    """Parse a phone number to E.164; numbers without a country code are read as Dutch."""
    try:
        num = phonenumbers.parse(raw.strip(), default_region)
    except phonenumbers.NumberParseException as exc:
        raise AddressError(f"{raw!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(num):
        raise AddressError(f"{raw!r} is not a valid phone number")
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return Normalised(PointKind.PHONE, e164, country=phonenumbers.region_code_for_number(num))


_SPACES = re.compile(r"\s+")


def normalise_postal(raw: str) -> Normalised:
    """Tidy a postal address: one line per part, single spaces; needs at least two parts."""
    lines = [_SPACES.sub(" ", part).strip() for part in re.split(r"[\n;|]", raw)]
    lines = [line for line in lines if line]
    if len(lines) < 2:
        raise AddressError(
            f"{raw!r} is not a postal address: give at least street and town, separated by ';'"
        )
    return Normalised(PointKind.POSTAL, "\n".join(lines))


#: A Dutch postcode in a case-folded line: four digits (the first not 0), then two letters, with
#: or without a space, standing alone (not part of a longer number or word).
_POSTCODE = re.compile(r"(?<!\w)([1-9][0-9]{3}) ?([a-z]{2})(?!\w)")


def match_form(kind: PointKind | str, value: str) -> str:
    """The form a normalised value (`Normalised.value`) is compared in: what its blind index is made of.

    `Normalised.value` keeps the address as given, tidied (it is what is stored, shown and
    sent to, and what hashed registers hash: `policy.factrows.value_hash`). Two spellings
    of one address must still be one contact point and meet one suppression record, so:
    an e-mail address is lower-cased whole (an ASCII one already is; a non-ASCII local part
    keeps its case in the value), and a postal address is case-folded (NFC) with a Dutch
    postcode written `1234 ab` (`1234AB`, `1234 ab` and `1234 AB` are one postcode). A phone
    number's E.164 form is its own. Points and records indexed before this form existed were
    indexed by the value itself: `adapters.sql.sealing.Ciphers.lookups_for` finds both.
    """
    if kind == "email":
        return value if value.isascii() else value.lower()
    if kind == "postal":
        return _POSTCODE.sub(r"\1 \2", unicodedata.normalize("NFC", value.casefold()))
    return value


def normalise(kind: PointKind, raw: str, region: str = "NL") -> Normalised:
    """Normalise a value of a known kind; `region` is for numbers without a country code."""
    if kind is PointKind.EMAIL:
        return normalise_email(raw)
    if kind is PointKind.PHONE:
        return normalise_phone(raw, region)
    return normalise_postal(raw)


_PHONEISH = re.compile(r"^[+0-9][0-9 ()./-]{5,}$")


def guess_kind(ref: str) -> PointKind | None:
    """Say whether a reference looks like an e-mail address or a phone number."""
    if "@" in ref:
        return PointKind.EMAIL
    if _PHONEISH.match(ref.strip()):
        return PointKind.PHONE
    return None
