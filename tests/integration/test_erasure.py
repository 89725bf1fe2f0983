"""Erasure on SQLite and PostgreSQL: nothing personal left in the database files, the chain still
verifies, the address stays suppressed when it comes back, and a crash leaves all or nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from consentry.bootstrap import App
from consentry.domain.ids import derived_id
from consentry.domain.vocabulary import PointKind, Source
from consentry.entrypoints.http import create_app
from consentry.services import apikeys, audit, erasure, imports, integrity, ledger
from consentry.services.decide import decide

ADDRESS = "anneke.verhoeven@example.nl"
PHONE = "+31612345678"
NAME = "Anneke Verhoeven"
IP = "198.51.100.77"
AGENT = "Mozilla/5.0 (AnnekeBrowser)"


def person(app: App) -> None:
    """Anneke: an address and a number of one contact, with a name, attributes and evidence."""
    who = {"source": "web_form", "contact_id": "klant-anneke", "display_name": NAME}
    ledger.append_records(
        app,
        enumerate(
            [
                {"type": "contact_point.registered", "kind": "email", "value": ADDRESS,
                 "attributes": {"voornaam": "Anneke", "woonplaats": "Zwolle"}, **who},
                {"type": "contact_point.registered", "kind": "phone", "value": PHONE, **who},
                {"type": "consent.given", "contact": ADDRESS, "purpose": "nieuwsbrief", "channels": ["email"],
                 "method": "double_opt_in", "ip": IP, "user_agent": AGENT, "id": "anneke-doi"},
                {"type": "consent.confirmed", "contact": ADDRESS, "purpose": "nieuwsbrief", "ip": IP},
                {"type": "unsubscribed", "contact": ADDRESS, "ip": IP},
            ],
            1,
        ),
    )  # fmt: skip


def personal_bytes() -> dict[str, bytes]:
    return {
        "address": ADDRESS.encode(),
        "phone": PHONE.encode(),
        "phone (national)": b"0612345678",
        "name": NAME.encode(),
        "surname": b"Verhoeven",
        "IP": IP.encode(),
    }


def database_bytes(app: App) -> bytes:
    """Every byte the database keeps: the SQLite file with its WAL, or a pg_dump."""
    url = app.store.engine.url
    if url.get_backend_name() == "sqlite":
        main = Path(str(url.database))
        return b"".join(p.read_bytes() for p in (main, Path(f"{main}-wal")) if p.exists())
    dump = shutil.which("pg_dump")
    if dump is None:
        pytest.skip("pg_dump is not installed")
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return subprocess.run([dump, "--no-owner", plain], check=True, capture_output=True).stdout


def found_in(app: App) -> list[str]:
    data = database_bytes(app)
    return [what for what, raw in personal_bytes().items() if raw in data]


def test_the_search_reads_what_the_database_holds(app: App) -> None:
    """The search below can fail: it finds what is stored in clear (an event id, a purpose), also
    while it is only in SQLite's write-ahead log; storage v2 keeps no personal field in clear."""
    person(app)
    data = database_bytes(app)
    assert b"anneke-doi" in data and b"nieuwsbrief" in data
    assert found_in(app) == []  # sealed even before the erasure


def test_after_erasure_nothing_personal_is_left_the_chain_verifies_and_the_address_stays_suppressed(
    app: App, tmp_path: Path
) -> None:
    person(app)
    report = erasure.erase(app, "contact:klant-anneke")
    assert report.changed and len(report.erased) == 2 and report.keys_destroyed >= 1
    assert {p.what for p in report.erased} == {"unsubscribed", "erased"}
    assert found_in(app) == []
    assert integrity.verify_ledger(app).ok
    assert audit.verify_projection(app).ok
    # Rebuilding the projection from the ledger brings nothing back.
    integrity.rebuild_projection(app)
    assert app.store.scrub_erased()
    assert found_in(app) == [] and audit.verify_projection(app).ok
    # The same address comes back in a CSV import, with the list's consent: still suppressed.
    csv = tmp_path / "lijst.csv"
    csv.write_text(f"E-mailadres;Naam;Aangemeld op\n{ADDRESS};{NAME};2026-11-20 10:00\n", encoding="utf-8")
    spec = imports.CsvSpec(
        source=Source.WEB_FORM,
        basis="consent",
        purpose="nieuwsbrief",
        columns={"email": "E-mailadres", "name": "Naam", "consent_at": "Aangemeld op"},
    )
    imported = imports.run(app, csv, imports.CsvMapper(app, spec))
    assert imported.imported == 1
    d = decide(app, ADDRESS, "email", "nieuwsbrief")
    assert (d.verdict.value, d.rule) == ("deny", "EU-GDPR-09.prior")
    assert "23 november 2026" in d.reasons[0].nl and "na een afmelding" in d.reasons[0].nl
    assert audit.verify_projection(app).ok and integrity.verify_ledger(app).ok


def _keyed_contacts(app: App) -> set[str]:
    with app.store.engine.connect() as c:
        return {r[0] for r in c.execute(sa.text("SELECT contact_id FROM data_keys"))}


def test_an_erasure_leaves_no_unwrapped_key_of_the_person_in_the_process(app: App) -> None:
    person(app)
    decide(app, ADDRESS, "email", "nieuwsbrief")
    before = _keyed_contacts(app)
    assert set(app.store.vault._unwrapped) & before  # writing and deciding unwrapped their keys
    erasure.erase(app, "contact:klant-anneke")
    destroyed = before - _keyed_contacts(app)
    assert destroyed and not destroyed & set(app.store.vault._unwrapped)


def test_an_api_registration_of_an_erased_number_stays_suppressed_and_erasing_twice_says_so(app: App) -> None:
    person(app)
    _, token = apikeys.create(app, "test", ["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(app)) as client:
        first = client.post("/v1/erasures", json={"contact": PHONE, "lang": "en"}, headers=headers)
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["changed"] and body["erased"][0]["kind"] == "phone"
        assert body["keys_kept_for"]  # Anneke's address is not erased: the contact's key stays
        again = client.post("/v1/erasures", json={"contact": PHONE, "lang": "en"}, headers=headers)
        assert again.status_code == 200 and not again.json()["changed"]
        assert "only its suppression record remains" in again.json()["messages"][0]
        registered = client.post(
            "/v1/events",
            json={"events": [{"type": "contact_point.registered", "kind": "phone", "value": "06 12345678",
                              "source": "web_form"},
                             {"type": "consent.given", "contact": PHONE, "purpose": "nieuwsbrief",
                              "channels": ["sms"], "method": "single_opt_in"}]},
            headers=headers,
        )  # fmt: skip
        assert registered.status_code == 201, registered.text
        refused = client.post("/v1/erasures", json={"contact": "nobody@example.nl"}, headers=headers)
        assert refused.status_code == 404
        bad = client.post("/v1/erasures", json={"contact": PHONE, "reason": "he phoned us"}, headers=headers)
        assert bad.status_code == 422
        _, reader = apikeys.create(app, "reader", ["write"])
        denied = client.post(
            "/v1/erasures", json={"contact": ADDRESS}, headers={"Authorization": f"Bearer {reader}"}
        )
        assert denied.status_code == 403
    d = decide(app, PHONE, "sms", "nieuwsbrief")
    assert (d.verdict.value, d.rule) == ("deny", "EU-GDPR-09.prior")
    assert decide(app, ADDRESS, "email", "nieuwsbrief").rule != "EU-GDPR-09.prior"


def _keys(app: App) -> int:
    with app.store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM data_keys")).scalar_one())


def _counts(app: App) -> tuple[int, int, int]:
    with app.store.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("data_keys", "suppressions", "events")
        )


CRASH = textwrap.dedent(
    """
    import os, sys
    from conftest import make_app
    from consentry.bootstrap import bootstrap
    from consentry.settings import Settings
    from consentry.services import erasure

    app = bootstrap(Settings(database_url=sys.argv[1], secret_key="test-secret-key-0123456789"))
    erasure.before_commit = lambda: os._exit(3)
    erasure.erase(app, "contact:klant-anneke")
    os._exit(0)
    """
)


def test_a_process_killed_mid_erasure_leaves_the_key_and_everything_else_as_it_was(app: App) -> None:
    person(app)
    before = _counts(app)
    url = app.store.engine.url.render_as_string(hide_password=False)
    app.store.engine.dispose()
    tests = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(tests)}
    done = subprocess.run([sys.executable, "-c", CRASH, url], env=env, capture_output=True, timeout=120)
    assert done.returncode == 3, done.stderr.decode()[-2000:]
    assert _counts(app) == before  # the key, no suppression record, no erasure event
    d = decide(app, ADDRESS, "email", "nieuwsbrief")
    assert d.rule != "EU-GDPR-09"  # still there, still readable
    with app.store.reader() as r:  # the address still finds its point, whose fields still open
        state = r.state(str(r.point_id(PointKind.EMAIL, ADDRESS)))
    assert state is not None and state["value"] == ADDRESS
    # Run again without the crash: all of it happens.
    report = erasure.erase(app, "contact:klant-anneke")
    assert report.changed and _counts(app)[1] == 2 and _counts(app)[0] < before[0]
    assert integrity.verify_ledger(app).ok


def test_an_erasure_appended_by_hand_is_refused_on_the_api_and_the_cli(app: App, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from consentry.entrypoints.cli import app as cli_app

    person(app)
    before = _counts(app)
    erased = {"type": "contact_point.erased", "contact": ADDRESS, "reason": "request"}
    _, token = apikeys.create(app, "test", ["admin"])
    with TestClient(create_app(app)) as client:
        r = client.post("/v1/events", json={"events": [erased]}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422, r.text
    assert "`consentry erase`" in r.text and "POST /v1/erasures" in r.text
    lines = tmp_path / "erased.jsonl"
    lines.write_text(f'{{"type": "contact_point.erased", "contact": "{ADDRESS}"}}\n', encoding="utf-8")
    url = app.store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli_app, ["--database-url", url, "ledger", "append", str(lines)])
    assert result.exit_code != 0 and "`consentry erase`" in result.stderr
    assert _counts(app) == before  # nothing written: no event, no record, the key stays
    with app.store.reader() as r:
        assert r.point_id(PointKind.EMAIL, ADDRESS) is not None


def test_an_imported_contact_leaves_no_id_a_guess_of_its_address_or_number_can_find(
    app: App, tmp_path: Path
) -> None:
    """An import names its events by ids derived from the row (a file imported twice adds nothing).
    Derived by a plain hash of the address, an id would stay in the ledger after the erasure and
    give the number away to ~10**8 guesses; keyed, it gives nothing to someone holding the database."""
    csv = tmp_path / "klanten.csv"
    csv.write_text(
        f"E-mailadres;Telefoon;Naam;Aangemeld op\n{ADDRESS};0612345678;{NAME};2026-11-20 10:00\n",
        encoding="utf-8",
    )
    spec = imports.CsvSpec(
        source=Source.WEB_FORM,
        basis="consent",
        purpose="nieuwsbrief",
        columns={"email": "E-mailadres", "phone": "Telefoon", "name": "Naam", "consent_at": "Aangemeld op"},
    )
    assert imports.run(app, csv, imports.CsvMapper(app, spec)).imported == 1
    with app.store.reader() as r:
        imported = {e.id for point in (ADDRESS, PHONE) for e in r.events_for(r.point_id(*_point(point)))}
    assert len(imported) == 4 and all(i.startswith("im_") for i in imported)
    moment = "2026-11-20T10:00:00+01:00"
    guesses = {
        derived_id("im", "registered", f"{kind}:{value}", *more)
        for kind, value in (("email", ADDRESS), ("phone", PHONE))
        for more in ((), (repr({}),))
    } | {
        derived_id("im", "consent", f"{kind}:{value}", "nieuwsbrief", moment)
        for kind, value in (("email", ADDRESS), ("phone", PHONE))
    }
    erasure.erase(app, f"email:{ADDRESS}")
    data = database_bytes(app)
    assert all(i.encode() in data for i in imported)  # the ledger keeps its events' ids
    assert [g for g in guesses if g.encode() in data] == []
    assert found_in(app) == [] and integrity.verify_ledger(app).ok


def _point(value: str) -> tuple[PointKind, str]:
    return (PointKind.EMAIL, value) if "@" in value else (PointKind.PHONE, value)
