"""Normalising addresses and numbers."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.adapters.addresses import (
    AddressError,
    normalise_email,
    normalise_phone,
    normalise_postal,
)

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
