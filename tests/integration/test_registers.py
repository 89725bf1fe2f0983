"""Do-not-contact registers: imported with their period, consulted at the decision's date."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consentry.bootstrap import App
from consentry.services import ledger, registers
from consentry.services.decide import Asked, decide, decide_many
from consentry.services.errors import InputError


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def register_points(app: App) -> None:
    def reg(kind: str, value: str, source: str) -> str:
        return json.dumps(
            {"type": "contact_point.registered", "kind": kind, "value": value, "source": source,
             "occurred_at": "2015-01-01"}
        )  # fmt: skip

    lines = [
        reg("phone", "06 12345678", "public_register"),
        reg("phone", "06 87654321", "public_register"),
        reg("postal", "Dorpsstraat 1; 1234 AB Dorp", "third_party_list_with_proof"),
    ]
    ledger.append_lines(app, lines)


def test_a_bel_me_niet_listing_denies_a_call_before_the_register_closed_and_not_after(
    app: App, tmp_path: Path
) -> None:
    register_points(app)
    path = tmp_path / "bmn.txt"
    path.write_text("0612345678\n\n+31 6 1234 5678\nniet-een-nummer\n")
    report = registers.import_file(app, path, "bel-me-niet", valid_from=at(2009, 1, 1).date())
    assert (report.entries, report.new) == (3, 1)
    assert [(p.line, p.field) for p in report.rejected] == [(4, "entry")]
    before = decide(app, "0612345678", "phone", "aanbiedingen", at=at(2021, 6, 30))
    after = decide(app, "0612345678", "phone", "aanbiedingen", at=at(2021, 7, 1))
    other = decide(app, "0687654321", "phone", "aanbiedingen", at=at(2021, 6, 30))
    assert (before.verdict.value, before.rule) == ("deny", "NL-TM-00.listed")
    assert after.rule == "NL-TM-01"
    assert (other.verdict.value, other.rule) == ("allow", "NL-TM-00")


def test_a_hashed_register_matches_the_sha256_of_the_normalised_value(app: App, tmp_path: Path) -> None:
    register_points(app)
    digest = hashlib.sha256(b"Dorpsstraat 1\n1234 AB Dorp").hexdigest()
    path = tmp_path / "postfilter.csv"
    path.write_text(f"hash;bron\n{digest.upper()};pf\nnot-a-hash;pf\n")
    report = registers.import_file(
        app, path, "postfilter", hashed=True, column="hash", valid_from=at(2020, 1, 1).date()
    )
    assert report.new == 1 and [p.line for p in report.rejected] == [3]
    listed = decide(app, "postal:Dorpsstraat 1; 1234 AB Dorp", "post", "aanbiedingen", at=at(2024, 5, 1))
    earlier = decide(app, "postal:Dorpsstraat 1; 1234 AB Dorp", "post", "aanbiedingen", at=at(2019, 5, 1))
    assert listed.rule == "NL-POST-01.postfilter" and earlier.rule == "NL-POST-01"


def test_batch_decisions_consult_the_registers_too(app: App, tmp_path: Path) -> None:
    register_points(app)
    path = tmp_path / "bmn.txt"
    path.write_text("0612345678\n")
    registers.import_file(app, path, "bel-me-niet")
    listed, free = decide_many(
        app,
        [Asked("0612345678", "phone", "aanbiedingen"), Asked("0687654321", "phone", "aanbiedingen")],
        at=at(2020, 3, 1),
    )
    assert not isinstance(listed, InputError) and listed.rule == "NL-TM-00.listed"
    assert not isinstance(free, InputError) and free.rule == "NL-TM-00"


def test_a_register_of_unknown_kind_or_with_an_inverted_period_is_refused(app: App, tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("0612345678\n")
    with pytest.raises(InputError, match="phone, email or postal"):
        registers.import_file(app, path, "eigen-lijst")
    with pytest.raises(InputError, match="before --from"):
        registers.import_file(
            app, path, "tps", valid_from=at(2020, 1, 1).date(), valid_until=at(2019, 1, 1).date()
        )
    assert registers.list_all(app) == []
