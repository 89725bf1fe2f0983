"""Normalising addresses and numbers."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.adapters.addresses import (
    AddressError,
    match_form,
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


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("email", " Info@Example.NL "),
        ("email", "jan@Bücher.de"),
        ("email", "Zoë@exämple.nl"),
        ("email", "ÉMILE@xn--bcher-kva.de"),
        ("email", "ÅNGSTRÖM@exAmple.org"),
        ("email", "test@ＥＸＡＭＰＬＥ.com"),
        ("email", "ﬁ@example.nl"),
        ("email", "a.b+c@sub.Example.com"),
        ("phone", "06 12345678"),
        ("phone", "0031201234567"),
        ("phone", "+1 650 253 0000"),
        ("phone", "+32 470 12 34 56"),
        ("phone", "+44 20 7946 0958"),
        ("postal", "Dorpsstraat 1; 1234 AB  Ergens"),
        ("postal", "a|b\n c ;d"),
    ],
)
def test_a_normal_form_normalises_to_itself(kind: str, raw: str) -> None:
    """The importer hands the ledger the normal forms it made with what normalising gave
    (`append_in(normalised=...)`), and the ledger does not normalise them again: that is
    only the same when normalising a normal form gives it back, with the same details."""
    from consentry.adapters.addresses import normalise
    from consentry.domain.vocabulary import PointKind

    once = normalise(PointKind(kind), raw, "NL")
    assert normalise(PointKind(kind), once.value, "NL") == once
    assert normalise(PointKind(kind), once.value, "BE") == once  # a number's normal form has its country


@given(
    st.text(alphabet="abcXYZéÅßﬁ019._+- ", min_size=1, max_size=12),
    st.text(alphabet="abzÜö09-", min_size=1, max_size=10),
    _tld,
    st.text(alphabet="ab \n;|", max_size=12),
)
@settings(max_examples=400, deadline=None)
def test_an_e_mail_or_postal_address_normal_form_is_a_fixed_point(
    local: str, label: str, tld: str, rest: str
) -> None:
    from consentry.adapters.addresses import normalise
    from consentry.domain.vocabulary import PointKind

    for kind, raw in ((PointKind.EMAIL, f"{local}@{label}.{tld.upper()}"), (PointKind.POSTAL, local + rest)):
        try:
            once = normalise(kind, raw, "NL")
        except AddressError:
            continue
        assert normalise(kind, once.value, "NL") == once


def _postal_key(raw: str) -> str:
    return match_form("postal", normalise_postal(raw).value)


@pytest.mark.parametrize(
    "raw",
    [
        "Dorpsstraat 12; 1234 AB Dorp",
        "DORPSSTRAAT 12; 1234AB DORP",
        "dorpsstraat 12;1234ab dorp",
        "  Dorpsstraat   12 |1234 ab   Dorp ",
        "Dorpsstraat 12\n1234\tAb\u00a0Dorp",
    ],
)
def test_spellings_of_one_postal_address_compare_as_one(raw: str) -> None:
    assert _postal_key(raw) == "dorpsstraat 12\n1234 ab dorp"


def test_the_postal_value_keeps_its_spelling_tidied() -> None:
    # What is stored, shown and hashed for registers (`value_hash`) is the address as given.
    assert normalise_postal("DORPSSTRAAT  12; 1234AB DORP").value == "DORPSSTRAAT 12\n1234AB DORP"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Kerkweg 3; Dorp", "kerkweg 3\ndorp"),  # no postcode: case only
        ("Grote Markt 1; 1000 Brussel", "grote markt 1\n1000 brussel"),  # Belgian: four digits, left as is
        ("Rue Haute 5; B-1000 Bruxelles", "rue haute 5\nb-1000 bruxelles"),
        ("Hoofdstraat 12345 ab; Stad", "hoofdstraat 12345 ab\nstad"),  # five digits: no postcode
        ("Laan 1234abc; 1234 AB Dorp", "laan 1234abc\n1234 ab dorp"),  # three letters: no postcode
        ("Straße 1; 9999ZZ Köln", "strasse 1\n9999 zz köln"),
        ("Postbus 1; 0123AB Dorp", "postbus 1\n0123ab dorp"),  # no Dutch postcode starts with 0
    ],
)
def test_the_compared_form_of_postal_addresses(raw: str, key: str) -> None:
    assert _postal_key(raw) == key
    assert match_form(PointKind.POSTAL, key) == key  # its own compared form (as 0023 relies on)


def test_an_e_mail_address_compares_lower_cased_with_its_value_as_given() -> None:
    upper, lower = normalise_email("Jöhn.Doe@Example.COM"), normalise_email("jöhn.doe@example.com")
    assert upper.value == "Jöhn.Doe@example.com"  # the value as given (hashed registers match it)
    assert match_form("email", upper.value) == match_form("email", lower.value) == "jöhn.doe@example.com"
    plain = normalise_email("Jan@Example.NL").value
    assert match_form("email", plain) is plain  # an ASCII address is its own compared form


def test_a_phone_number_is_its_own_compared_form() -> None:
    value = normalise(PointKind.PHONE, "06-12345678").value
    assert match_form(PointKind.PHONE, value) == value == "+31612345678"
