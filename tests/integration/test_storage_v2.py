"""Storage v2: personal fields sealed per contact, blind-index lookups, the keys' settings.

Every test that takes `app` runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from tests.conftest import define_purposes, make_app

from consentry.adapters.crypto.configured import KeySettingError
from consentry.adapters.crypto.vault import key_file_for, vault
from consentry.adapters.sql import sealing
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.data_keys import DataKeyExists, DataKeyStore, WrongMasterKey
from consentry.adapters.sql.sealing import contact_ref, event_field
from consentry.bootstrap import App, bootstrap
from consentry.domain.events import Event
from consentry.domain.validation import validate_payload
from consentry.domain.vocabulary import PointKind
from consentry.services import integrity, ledger
from consentry.settings import Settings

ADDRESS = "eva.hendriks@example.nl"


def _lines(*docs: dict[str, object]) -> list[str]:
    return [json.dumps(d) for d in docs]


def _register(app: App) -> None:
    report = ledger.append_lines(
        app,
        _lines(
            {
                "type": "contact_point.registered",
                "kind": "email",
                "value": ADDRESS,
                "source": "web_form",
                "display_name": "Eva Hendriks",
                "contact_id": "klant-4711",
                "attributes": {"woonplaats": "Zwolle"},
                "occurred_at": "2025-01-01T10:00:00+01:00",
            },
            {
                "type": "consent.given",
                "contact": ADDRESS,
                "purpose": "nieuwsbrief",
                "channels": ["email"],
                "method": "single_opt_in",
                "ip": "198.51.100.23",
                "occurred_at": "2025-01-01T10:00:00+01:00",
            },
        ),
    )
    assert report.appended == 2


def test_events_are_stored_sealed_and_read_back_as_recorded(app: App) -> None:
    _register(app)
    with app.store.engine.connect() as conn:
        rows = conn.execute(sa.select(t.events.c.type, t.events.c.payload, t.events.c.sealed)).all()
        points = conn.execute(sa.select(t.contact_points)).all()
    assert len(rows) == 2
    for _type, payload, sealed in rows:
        text = json.dumps(payload)
        for clear in (ADDRESS, "Eva", "Zwolle", "198.51.100.23", "klant-4711"):
            assert clear not in text
        assert sealed is not None and ADDRESS.encode() not in bytes(sealed)
    assert rows[1].payload["purpose"] == "nieuwsbrief"  # the rules' fields stay clear
    (point,) = points
    assert point.contact_ref == contact_ref(app.store.vault, point.id, "klant-4711") != point.id
    with app.store.reader() as r:
        assert r.point_id(PointKind.EMAIL, ADDRESS) == point.id
        assert r.find_points([(PointKind.EMAIL, ADDRESS), (PointKind.EMAIL, "x@example.nl")]) == {
            (PointKind.EMAIL, ADDRESS): point.id
        }
        registered, given = r.events_for(point.id)
    assert registered.payload["value"] == ADDRESS
    assert registered.payload["display_name"] == "Eva Hendriks"
    assert registered.payload["attributes"] == {"woonplaats": "Zwolle"}
    assert given.payload["ip"] == "198.51.100.23" and given.payload["method"] == "single_opt_in"


def test_the_chain_verifies_before_and_after_the_contacts_key_is_destroyed(app: App) -> None:
    _register(app)
    assert integrity.verify_ledger(app).ok
    with app.store.writer() as w:
        (pid,) = w.point_ids()
        ref = w.contact_refs([pid])[pid]
        assert DataKeyStore(w.conn, app.store.vault.keys).destroy([ref]) == 1
    app.store.vault.forget([ref])
    report = integrity.verify_ledger(app)
    assert report.ok and report.events == 2
    with app.store.reader() as r:
        registered, given = r.events_for(pid)
    assert "value" not in registered.payload and registered.payload["kind"] == "email"
    assert "ip" not in given.payload and given.payload["purpose"] == "nieuwsbrief"


def test_a_ledger_with_fields_sealed_before_and_in_the_numbered_form_verifies_and_reads_both(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first append seals a JSON object, as every row was sealed before `sealed_form`.
    with monkeypatch.context() as m:
        m.setattr(sealing, "coded", lambda personal: orjson.dumps(personal, option=orjson.OPT_SORT_KEYS))
        _register(app)
    fields = {"OPTIN_IP": "198.51.100.24", "OPTIN_TIME": "2025-02-01 10:00:00", "Bron": "beurs"}
    consent = {"type": "consent.given", "contact": ADDRESS, "purpose": "nieuwsbrief", "channels": ["email"],
               "method": "double_opt_in", "ip": "198.51.100.24", "source_fields": fields,
               "occurred_at": "2025-02-01T10:00:00+01:00"}  # fmt: skip
    assert ledger.append_lines(app, _lines(consent)).appended == 1
    assert integrity.verify_ledger(app).ok
    with app.store.reader() as r:
        (pid,) = r.point_ids()
        refs, ciphers = r.point_ciphers([pid])
        cipher = ciphers[refs[pid]]
        assert cipher is not None
        rows = r.conn.execute(sa.select(t.events.c.id, t.events.c.sealed).order_by(t.events.c.seq)).all()
        forms = [cipher.decrypt_bytes(event_field(eid), bytes(sealed))[:1] for eid, sealed in rows]
        registered, _given, again = r.events_for(pid)
    assert forms == [b"{", b"{", b"["]
    assert registered.payload["attributes"] == {"woonplaats": "Zwolle"}
    assert registered.payload["display_name"] == "Eva Hendriks" and registered.payload["value"] == ADDRESS
    assert again.payload["ip"] == "198.51.100.24"
    assert list(again.payload["source_fields"].items()) == sorted(fields.items())


def test_a_new_point_whose_id_already_has_a_data_key_is_refused_not_given_that_key(app: App) -> None:
    # The writer does not look for keys of points it registers as their own contact (none can
    # have one); were one there, the append stops and leaves nothing.
    at = datetime(2025, 1, 1, tzinfo=UTC)
    payload = validate_payload(
        "contact_point.registered", {"kind": "email", "value": ADDRESS, "source": "web_form"}
    )
    registered = Event("ev_1", "contact_point.registered", "cp_taken", at, at, payload)
    with app.store.writer() as w:
        DataKeyStore(w.conn, app.store.vault.keys).create("cp_taken", at)
    with pytest.raises(DataKeyExists), app.store.writer() as w:
        w.append([registered])
    with app.store.reader() as r:
        assert r.point_ids() == [] and r.counts()["events"] == 0
        assert r.ciphers(["cp_taken"])["cp_taken"] is not None  # the key there before, unchanged


def test_a_wrong_master_key_refuses_to_start(app: App, store_url: str) -> None:
    _register(app)
    other = make_settings(store_url, master_key="b3RoZXItbWFzdGVyLWtleS1vZi10aGlydHktdHdvISE=")
    with pytest.raises(WrongMasterKey, match="Refusing to start"), bootstrap(other).store.reader():
        pass


def make_settings(url: str, **given: object) -> Settings:
    return Settings(database_url=url, **given)  # type: ignore[arg-type]


def test_a_new_sqlite_database_gets_a_private_key_file_that_later_runs_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSENTRY_MASTER_KEY")
    monkeypatch.delenv("CONSENTRY_BLIND_INDEX_KEY")
    url = f"sqlite:///{tmp_path / 'new.db'}"
    first = vault(make_settings(url))
    path = key_file_for(url)
    assert path is not None and first.made_key_file == path
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    app = make_app(url)
    define_purposes(app)
    _register(app)
    again = vault(make_settings(url))
    assert again.made_key_file is None and again.keys.key_id == first.keys.key_id
    assert again.blind.index("email", ADDRESS) == first.blind.index("email", ADDRESS)
    path.unlink()
    with pytest.raises(KeySettingError, match="exists but its key file"):
        vault(make_settings(url))


def test_production_without_keys_refuses_naming_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENTRY_MASTER_KEY")
    monkeypatch.delenv("CONSENTRY_BLIND_INDEX_KEY")
    with pytest.raises(KeySettingError, match=r"CONSENTRY_MASTER_KEY.*CONSENTRY_BLIND_INDEX_KEY"):
        vault(Settings(env="production", database_url="sqlite:////tmp/x.db"))
    with pytest.raises(KeySettingError, match="only a local SQLite database"):
        vault(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1/x"))
