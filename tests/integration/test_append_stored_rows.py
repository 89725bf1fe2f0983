"""An append stores the same rows however its work is cut up: batches, parts of the events'
stream, chunks of set queries. Both stores.

The writer sends a batch's new data keys and contact points ahead of its events (on
PostgreSQL without waiting: `stored.sent_inserts`), streams the events a part at a time
(`writer._PART`) and the projection's facts rows as the points are folded
(`stored.row_stream`). The same records appended in one batch with the default sizes and in
tiny batches, parts and chunks must leave the same tables: every column as stored, except the random
bytes (nonces, data keys), which are compared opened (the sealed fields, the sealed value and
name) or left out (wrapped keys; the chain's hashes, checked by `ledger verify`).
(Refreshing the projection more often is not among the cuts: `fact_bits` numbers the tokens
in the order the refreshes meet them.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import _reset_pg, define_purposes, make_app
from consentry.adapters.sql import connected, stored, writer
from consentry.adapters.sql.sealing import open_payload
from consentry.bootstrap import App
from consentry.services import integrity, ledger


def _records() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(60):
        kind, value, ref = (
            ("phone", f"06 2{i:07d}", f"+3162{i:07d}") if i % 5 == 4 else ("email", f"P.{i}@Example.nl", "")
        )
        reg: dict[str, Any] = {
            "type": "contact_point.registered",
            "kind": kind,
            "value": value,
            "source": "import" if i % 2 else "web_form",
            "display_name": f"Persoon {i}",
            "occurred_at": f"2024-01-{1 + i % 28:02d}T09:00:00+01:00",
        }
        if i % 3 == 0:
            reg["contact_id"] = f"klant-{i // 6}"  # two points a contact
        if i % 7 == 0:
            reg["attributes"] = {"woonplaats": "Zwolle", "tags": "vip"}
        out.append(reg)
        ref = ref or value.lower()
        channel = "sms" if kind == "phone" else "email"
        out.append(
            {
                "type": "consent.given",
                "contact": ref,
                "purpose": "nieuwsbrief",
                "channels": [channel],
                "method": "double_opt_in",
                "ip": f"198.51.100.{i}",
                "occurred_at": f"2024-02-{1 + i % 28:02d}T10:00:00Z",
            }
        )
        out.append({"type": "consent.confirmed", "contact": ref, "purpose": "nieuwsbrief"})
        out.append(
            {
                "type": "purchase.recorded",
                "contact": ref,
                "categories": ["koffie"],
                "opt_out_offered": True,
                "order_ref": f"W-{i}",
            }
        )
        if i % 4 == 1:
            out.append({"type": "unsubscribed", "contact": ref, "purpose": "nieuwsbrief", "via": "link"})
        if i % 6 == 0:
            out.append({"type": "objection.recorded", "contact": ref, "scope": "direct_marketing"})
        if kind == "phone" and i % 10 == 4:
            out.append(
                {
                    "type": "register.listed",
                    "contact": ref,
                    "register": "bel-me-niet",
                    "listed_from": "2015-03-01",
                }
            )
        if i % 9 == 2:
            out.append({"type": "contact_point.updated", "contact": ref, "display_name": f"Persoon {i} (b)"})
    return out


def _dump(app: App) -> dict[str, Any]:
    """Every table an append writes, as stored; random bytes opened or left out."""
    with app.store.reader() as r:
        q = r._plain
        refs = dict(q("SELECT id, contact_ref FROM contact_points"))
        ciphers = r.ciphers(set(refs.values()))
        events = []
        for row in q(
            "SELECT seq, id, contact_point_id, type, occurred_at, recorded_at, schema_version, payload, "
            "sealed FROM events ORDER BY seq"
        ):
            clear = r._json(row[7])
            opened = open_payload(ciphers[refs[row[2]]], row[1], clear, row[8])
            events.append((*row[:7], clear, dict(opened), row[8] is None))
        facts = q("SELECT * FROM point_facts ORDER BY point_no")
        names = [d[0] for d in r._cursor.description]
        value, name, contact = names.index("value_ct"), names.index("name_ct"), names.index("contact_id")
        opened_facts = []
        for row in facts:
            cipher = ciphers[row[contact]]
            assert cipher is not None
            plain = list(row)
            plain[value] = cipher.decrypt("value", bytes(row[value]))
            plain[name] = None if row[name] is None else cipher.decrypt("name", bytes(row[name]))
            opened_facts.append(tuple(plain))
        return {
            "events": events,
            "contact_points": q("SELECT * FROM contact_points ORDER BY id"),
            "data_keys": q("SELECT contact_id, key_id, created_at FROM data_keys ORDER BY contact_id"),
            "point_facts": opened_facts,
            "point_terms": q("SELECT point_no, term FROM point_terms ORDER BY point_no, term"),
            "point_listings": q("SELECT * FROM point_listings ORDER BY contact_point_id, register"),
            "contact_objections": q("SELECT * FROM contact_objections ORDER BY contact_point_id, scope"),
            "fact_bits": q("SELECT * FROM fact_bits ORDER BY col, token"),
            "head": q("SELECT seq FROM ledger_head"),
        }


def _appended(url: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    app = make_app(url)
    try:
        define_purposes(app)
        report = ledger.append_records(app, enumerate(records, 1))
        assert report.appended == len(records)
        check = integrity.verify_ledger(app)
        assert check.ok and check.events == len(records)
        return _dump(app)
    finally:
        app.store.engine.dispose()


def test_the_same_records_store_the_same_rows_in_one_batch_and_in_tiny_batches_and_parts(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = _records()
    whole = _appended(store_url, records)
    assert len(whole["events"]) == len(records) and len(whole["point_facts"]) == 60
    assert whole["point_terms"] and whole["point_listings"] and whole["contact_objections"]
    monkeypatch.setattr(ledger, "BATCH", 7)  # a batch: new keys and points sent ahead of its events
    monkeypatch.setattr(writer, "_PART", 2)  # the events' stream
    monkeypatch.setattr(
        stored, "CHUNK", 4
    )  # the set queries' chunks (`stored.chunks`: the refresh's deletes)
    monkeypatch.setattr(connected, "CHUNK", 4)  # and SQLite's look-ups (`Connected._in`, its own name)
    if store_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'cut.db'}"
    else:
        _reset_pg(store_url)
        url = store_url
    cut = _appended(url, records)
    for table, rows in whole.items():
        assert cut[table] == rows, table


def test_the_chain_hash_and_the_sealed_bytes_are_stored_as_the_bytes_they_always_were(store_url: str) -> None:
    """The writer hands SQLite the chain hash and the sealed fields as `bytearray`s (bound without
    an adapter look-up): stored as the same blobs, read back as bytes; the hash the 32 bytes of
    the chain's hex (the head keeps the last one's hex)."""
    app = make_app(store_url)
    try:
        define_purposes(app)
        records = _records()[:40]
        ledger.append_records(app, enumerate(records, 1))
        with app.store.reader() as r:
            q = r._plain
            sqlite = store_url.startswith("sqlite")
            kind = "typeof({})" if sqlite else "pg_typeof({})::text"
            types = f"{kind.format('hash')}, {kind.format('sealed')}"
            rows = q(f"SELECT hash, sealed, {types} FROM events ORDER BY seq")
            facts = q(f"SELECT value_ct, {kind.format('value_ct')}, name_ct FROM point_facts")
            ((head,),) = q("SELECT hash FROM ledger_head")
        blob = "blob" if sqlite else "bytea"
        assert len(rows) == len(records) and facts
        for digest, sealed, digest_type, sealed_type in rows:
            assert type(digest) is bytes and len(digest) == 32
            assert digest_type == blob
            assert sealed is None or (sealed_type == blob and type(sealed) is type(digest))
        assert bytes(rows[-1][0]) == bytes.fromhex(head)
        assert any(s is not None for _, s, _, _ in rows)
        for value_ct, value_type, name_ct in facts:
            assert value_type == blob and type(value_ct) is type(rows[0][0])
            assert name_ct is None or type(name_ct) is type(rows[0][0])
        assert integrity.verify_ledger(app).ok
    finally:
        app.store.engine.dispose()
