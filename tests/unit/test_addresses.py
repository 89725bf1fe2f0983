"""Normalising addresses and numbers."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.adapters import addresses
from consentry.adapters.addresses import (
    AddressError,
    normalise,
    normalise_email,
    normalise_phone,
    normalise_postal,
)
from consentry.domain.vocabulary import PointKind

_local = st.text(alphabet="abcXYZ019._%+-", min_size=1, max_size=20)
_label = st.text(alphabet="abz09-", min_size=1, max_size=10)
_domain = st.lists(_label, min_size=1, max_size=3).map(".".join)
_tld = st.sampled_from(["nl", "com", "be", "test", "localhost", "x1", "de", "co"])


@settings(max_examples=400, deadline=None)
@given(_local, _domain, _tld)
def test_the_fast_path_agrees_with_email_validator(local: str, domain: str, tld: str) -> None:
    address = f"{local}@{domain}.{tld}"
    try:
        expected: str | None = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        expected = None
    try:
        got: str | None = normalise_email(address).value
    except AddressError:
        got = None
    assert got == expected


@pytest.mark.parametrize(
    ("raw", "value", "role"),
    [
        ("  Jan.De.Vries@Example.NL ", "jan.de.vries@example.nl", False),
        ("INFO@bedrijf.nl", "info@bedrijf.nl", True),
        ("jörg@bücher.de", "jörg@bücher.de", False),
    ],
)
def test_e_mail_addresses_are_normalised_and_role_addresses_flagged(raw: str, value: str, role: bool) -> None:
    n = normalise_email(raw)
    assert (n.value, n.role_address) == (value, role)


@pytest.mark.parametrize("raw", ["jan", "jan@", "a..b@x.nl", "x@a-.nl", "a@x.localhost", '"q"@x.nl'])
def test_invalid_e_mail_addresses_are_refused_with_a_reason(raw: str) -> None:
    with pytest.raises(AddressError, match="not a valid e-mail address"):
        normalise_email(raw)


def test_phone_numbers_become_e164_with_their_country() -> None:
    nl = normalise_phone("06-12345678")
    be = normalise_phone("+32 470 12 34 56")
    us = normalise_phone("+1 415 555 2671")
    assert (nl.value, nl.country, nl.in_eea) == ("+31612345678", "NL", True)
    assert (be.value, be.country, be.in_eea) == ("+32470123456", "BE", True)
    assert (us.country, us.in_eea) == ("US", False)
    with pytest.raises(AddressError):
        normalise_phone("12")


def test_postal_addresses_need_street_and_town() -> None:
    assert normalise_postal("Dorpsstraat  12;  1234 AB  Dorp").value == "Dorpsstraat 12\n1234 AB Dorp"
    with pytest.raises(AddressError):
        normalise_postal("Dorpsstraat 12")


def _fresh(kind: PointKind, raw: str, region: str) -> addresses.Normalised | str:
    """What normalising gives without the memo of recent values (or the refusal's text)."""
    try:
        if kind is PointKind.EMAIL:
            return normalise_email(raw)
        return normalise_phone(raw, region)
    except AddressError as exc:
        return str(exc)


def _remembered(kind: PointKind, raw: str, region: str) -> addresses.Normalised | str:
    try:
        return normalise(kind, raw, region)
    except AddressError as exc:
        return str(exc)


_emails = st.one_of(
    st.builds("{}@{}.{}".format, _local, _domain, _tld),
    st.sampled_from(
        ["  Jan.De.Vries@Example.NL ", "INFO@bedrijf.nl", "jörg@bücher.de", "Jörg@Bücher.DE", "a@x.test"]
    ),
)
_phones = st.builds(
    "{}{}".format,
    st.sampled_from(["", "0", "06", "+31 ", "+32 ", "+1 ", "+44 ", "+39 0", "0031"]),
    st.text(alphabet="0123456789 -", min_size=4, max_size=14),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_emails.map(lambda e: (PointKind.EMAIL, e)), _phones.map(lambda p: (PointKind.PHONE, p))),
       st.sampled_from(["NL", "BE", "US"]))  # fmt: skip
def test_a_remembered_value_and_its_normal_form_read_as_normalising_anew(
    case: tuple[PointKind, str], region: str
) -> None:
    # An import normalises a value, then the ledger the normal form it recorded: both may
    # come from the memo of recent values, and must be what normalising anew gives.
    kind, raw = case
    addresses._recent.clear()
    first = _remembered(kind, raw, region)
    assert first == _fresh(kind, raw, region)
    assert _remembered(kind, raw, region) == first
    if isinstance(first, addresses.Normalised):
        for again in ("NL", "BE", "US") if kind is PointKind.PHONE else (region,):
            assert _remembered(kind, first.value, again) == _fresh(kind, first.value, again)


def test_the_memo_of_recent_values_stays_bounded() -> None:
    addresses._recent.clear()
    for n in range(addresses._RECENT * 2):
        normalise(PointKind.EMAIL, f"person{n}@example.nl")
    assert len(addresses._recent) <= addresses._RECENT + 1
