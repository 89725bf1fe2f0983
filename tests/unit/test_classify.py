"""Address classification: the domain's suggestions, and the line type the adapter reads."""

from __future__ import annotations

import pytest

from consentry.adapters.addresses import normalise
from consentry.adapters.classify import line_type
from consentry.adapters.classify import suggest as suggest_normalised
from consentry.domain.classify import LineType, suggest
from consentry.domain.vocabulary import PartyKind, PointKind


def test_a_free_mail_address_suggests_a_consumer() -> None:
    s = suggest(PointKind.EMAIL, "jan@gmail.com")
    assert s.party is PartyKind.CONSUMER and "gmail.com" in s.reason


def test_a_role_address_at_an_organisation_suggests_a_legal_person() -> None:
    assert suggest(PointKind.EMAIL, "info@bakkerij.nl", role_address=True).party is PartyKind.LEGAL_PERSON


def test_a_personal_address_at_an_organisation_suggests_an_employee() -> None:
    assert suggest(PointKind.EMAIL, "jan@bakkerij.nl").party is PartyKind.EMPLOYEE


@pytest.mark.parametrize(
    ("line", "party"),
    [
        (LineType.MOBILE, PartyKind.CONSUMER),
        (LineType.SERVICE, PartyKind.LEGAL_PERSON),
        (LineType.FIXED, None),
    ],
)
def test_a_numbers_line_type_decides_what_it_suggests(line: LineType, party: PartyKind | None) -> None:
    assert suggest(PointKind.PHONE, "+31612345678", line=line).party is party


def test_a_postal_address_suggests_nothing() -> None:
    assert suggest(PointKind.POSTAL, "Dorpsstraat 1\n1234 AB Ergens").party is None


@pytest.mark.parametrize(
    ("raw", "line"),
    [("0612345678", LineType.MOBILE), ("0800 0123456", LineType.SERVICE), ("020 555 1234", LineType.FIXED)],
)
def test_the_adapter_reads_the_line_type_from_the_numbering_plan(raw: str, line: LineType) -> None:
    assert line_type(normalise(PointKind.PHONE, raw).value) is line


def test_the_adapter_flags_role_addresses_for_the_domain() -> None:
    assert suggest_normalised(normalise(PointKind.EMAIL, "Info@Bakkerij.nl")).party is PartyKind.LEGAL_PERSON
