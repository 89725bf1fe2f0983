"""Two spellings of one address are one contact point and meet one suppression record
(`addresses.match_form`), on SQLite and PostgreSQL; points and records indexed before that form
are still found (`Ciphers.lookups_for`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command

from consentry.adapters.sql import schema, sealing
from consentry.bootstrap import App
from consentry.domain.vocabulary import PointKind, Source
from consentry.services import audit, erasure, imports, integrity, ledger
from consentry.services.decide import decide
from consentry.services.errors import FileRejected
from consentry.services.ledger import AlreadyRegistered, register_point

POSTAL = "Dorpsstraat 12; 1234 AB Dorp"
POSTAL_OTHER = "DORPSSTRAAT 12; 1234AB DORP"
EMAIL = "Jöhn.Doe@example.com"
EMAIL_OTHER = "JÖHN.DOE@example.com"
PRIOR = ("deny", "EU-GDPR-09.prior")


@contextmanager
def old_indexes() -> Iterator[None]:
    """Blind indexes made as before `match_form`: of the normalised value itself."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sealing, "match_form", lambda kind, value: value)
        yield


def register(app: App, kind: str, value: str, **more: object) -> None:
    record = {"type": "contact_point.registered", "kind": kind, "value": value, "source": "web_form", **more}
    ledger.append_records(app, [(1, record)])


def test_an_erased_postal_address_comes_back_in_capitals_and_stays_suppressed(app: App) -> None:
    register(app, "postal", POSTAL, stated_basis="legitimate_interest")
    # `erase` by the other spelling finds the point.
    report = erasure.erase(app, f"postal:{POSTAL_OTHER}")
    assert report.changed and len(report.erased) == 1
    register(app, "postal", POSTAL_OTHER, stated_basis="legitimate_interest")
    d = decide(app, "postal:dorpsstraat 12; 1234 ab dorp", "post", "aanbiedingen")
    assert (d.verdict.value, d.rule) == PRIOR
    assert audit.verify_projection(app).ok and integrity.verify_ledger(app).ok


def test_an_imported_postal_address_in_another_spelling_stays_suppressed(app: App, tmp_path: Path) -> None:
    register(app, "postal", POSTAL, stated_basis="legitimate_interest")
    erasure.erase(app, f"postal:{POSTAL}")
    csv = tmp_path / "post.csv"
    csv.write_text(f'Adres;Naam\n"{POSTAL_OTHER}";Jan\n', encoding="utf-8")
    spec = imports.CsvSpec(
        source=Source.WEB_FORM, basis="legitimate_interest", columns={"postal": "Adres", "name": "Naam"}
    )
    assert imports.run(app, csv, imports.CsvMapper(app, spec)).imported == 1
    d = decide(app, f"postal:{POSTAL}", "post", "aanbiedingen")
    assert (d.verdict.value, d.rule) == PRIOR


def test_an_erased_non_ascii_address_comes_back_in_another_case_and_stays_suppressed(
    app: App, tmp_path: Path
) -> None:
    register(app, "email", EMAIL)
    report = erasure.erase(app, "jöhn.doe@example.com")
    assert report.changed and len(report.erased) == 1
    csv = tmp_path / "lijst.csv"
    csv.write_text(f"E-mailadres;Aangemeld op\n{EMAIL_OTHER};2026-11-20 10:00\n", encoding="utf-8")
    spec = imports.CsvSpec(
        source=Source.WEB_FORM,
        basis="consent",
        purpose="nieuwsbrief",
        columns={"email": "E-mailadres", "consent_at": "Aangemeld op"},
    )
    assert imports.run(app, csv, imports.CsvMapper(app, spec)).imported == 1
    d = decide(app, EMAIL, "email", "nieuwsbrief")
    assert (d.verdict.value, d.rule) == PRIOR
    assert audit.verify_projection(app).ok


def test_another_spelling_is_the_same_point(app: App) -> None:
    first = register_point(app, {"kind": "postal", "value": POSTAL, "source": "web_form"})
    with pytest.raises(AlreadyRegistered) as again:
        register_point(
            app, {"kind": "postal", "value": "dorpsstraat 12 ; 1234ab  dorp", "source": "web_form"}
        )
    assert again.value.point_id == first
    mail = register_point(app, {"kind": "email", "value": EMAIL, "source": "web_form"})
    with pytest.raises(AlreadyRegistered):
        register_point(app, {"kind": "email", "value": EMAIL_OTHER, "source": "web_form"})
    with app.store.reader() as r:
        assert r.point_id(PointKind.EMAIL, "jöhn.doe@example.com") == mail
        found = r.find_points(
            [(PointKind.POSTAL, "DORPSSTRAAT 12\n1234AB DORP"), (PointKind.EMAIL, EMAIL_OTHER)]
        )
    assert found == {
        (PointKind.POSTAL, "DORPSSTRAAT 12\n1234AB DORP"): first,
        (PointKind.EMAIL, EMAIL_OTHER): mail,
    }
    # Within one file as well: the second spelling is the first's point.
    lines = [
        {"type": "contact_point.registered", "kind": "postal", "value": value, "source": "web_form"}
        for value in ("Kerkpad 1; 9999 ZZ Stad", "KERKPAD 1; 9999ZZ STAD")
    ]
    with pytest.raises(FileRejected) as twice:
        ledger.append_records(app, enumerate(lines, 1))
    assert [(p.line, p.field) for p in twice.value.problems] == [(2, "value")]
    assert "registered twice" in twice.value.problems[0].message


def test_a_point_indexed_before_is_found_and_not_registered_twice(app: App) -> None:
    with old_indexes():
        old_post = register_point(app, {"kind": "postal", "value": POSTAL, "source": "web_form"})
        old_mail = register_point(app, {"kind": "email", "value": EMAIL, "source": "web_form"})
    with app.store.reader() as r:
        assert r.point_id(PointKind.POSTAL, "Dorpsstraat 12\n1234 AB Dorp") == old_post
        assert r.point_id(PointKind.EMAIL, EMAIL) == old_mail
    # The same spelling again: found by its old index, not a second point.
    with pytest.raises(AlreadyRegistered) as again:
        register_point(app, {"kind": "postal", "value": POSTAL, "source": "web_form"})
    assert again.value.point_id == old_post
    with pytest.raises(AlreadyRegistered):
        register_point(app, {"kind": "email", "value": f" {EMAIL} ", "source": "web_form"})
    # A decision by the value finds it (one statement by either index).
    assert decide(app, EMAIL, "email", "nieuwsbrief").rule != "EU-GDPR-09.prior"
    assert audit.verify_projection(app).ok


def test_a_suppression_record_kept_before_still_suppresses_the_address(app: App) -> None:
    with old_indexes():
        register(app, "postal", POSTAL, stated_basis="legitimate_interest")
        register(app, "email", EMAIL)
        erasure.erase(app, f"postal:{POSTAL}")
        erasure.erase(app, EMAIL)
    # Its clear value is gone: the address as it was registered meets the record's old index.
    again = erasure.erase(app, f"postal:{POSTAL}")
    assert not again.changed and again.suppressed_since is not None
    register(app, "postal", POSTAL, stated_basis="legitimate_interest")
    register(app, "email", EMAIL)
    d = decide(app, f"postal:{POSTAL}", "post", "aanbiedingen")
    assert (d.verdict.value, d.rule) == PRIOR
    d = decide(app, EMAIL, "email", "nieuwsbrief")
    assert (d.verdict.value, d.rule) == PRIOR
    assert audit.verify_projection(app).ok


def _to(app: App, revision: str) -> None:
    cfg = schema.alembic_config(app.store.engine)
    with app.store.engine.connect() as conn, conn.begin():
        cfg.attributes["connection"] = conn
        cfg.attributes["vault"] = app.store.vault
        command.downgrade(cfg, revision)


def test_revision_0023_finds_points_indexed_before_by_every_spelling(app: App) -> None:
    with old_indexes():
        first = register_point(app, {"kind": "postal", "value": POSTAL, "source": "web_form"})
        # Before, another spelling was another point.
        other = register_point(app, {"kind": "postal", "value": POSTAL_OTHER, "source": "web_form"})
        mail = register_point(app, {"kind": "email", "value": EMAIL, "source": "web_form"})
        plain = register_point(app, {"kind": "email", "value": "jan@example.nl", "source": "web_form"})
    variant = (PointKind.POSTAL, "dorpsstraat 12\n1234ab dorp")
    with app.store.reader() as r:
        assert r.point_id(*variant) is None  # only its own spelling found it
    _to(app, "0022")  # nothing to take back: every point has its value's index
    app.store.migrate()
    assert schema.current_revision(app.store.engine) == schema.head_revision(app.store.engine)
    with app.store.reader() as r:
        assert r.point_id(*variant) == first
        assert r.point_id(PointKind.POSTAL, "DORPSSTRAAT 12\n1234AB DORP") == first  # the compared form's
        assert r.point_id(PointKind.EMAIL, "jöhn.doe@example.com") == mail
        assert r.point_id(PointKind.EMAIL, "jan@example.nl") == plain
        assert r.point_kind(other) is PointKind.POSTAL  # kept, with its own index: nothing merged
    with pytest.raises(AlreadyRegistered) as again:
        register_point(app, {"kind": "email", "value": EMAIL_OTHER, "source": "web_form"})
    assert again.value.point_id == mail
    assert audit.verify_projection(app).ok
    # Erased by a third spelling, the address stays suppressed when it comes back.
    report = erasure.erase(app, "postal:dorpsstraat 12; 1234ab dorp")
    assert [p.id for p in report.erased] == [first]
    register(app, "postal", "Dorpsstraat 12; 1234ab DORP", stated_basis="legitimate_interest")
    d = decide(app, "postal:Dorpsstraat 12; 1234ab DORP", "post", "aanbiedingen")
    assert (d.verdict.value, d.rule) == PRIOR
    # The downgrade gives live points their value's index again, as the code before looks them up.
    _to(app, "0022")
    with old_indexes(), app.store.reader() as r:
        assert r.point_id(PointKind.EMAIL, EMAIL) == mail
        assert r.point_id(PointKind.POSTAL, "DORPSSTRAAT 12\n1234AB DORP") == other
    app.store.migrate()
