"""The upgrade of a populated v1 database (revision 0008) to storage v2 (migration 0009).

The v1 database is made as the 0008 code stored it: the demo's events (recorded once on a
scratch store, then read back with their personal fields) are written as v1 rows, their
payloads in clear and chained in the v1 canonical form (the v2 form without `sealed`),
with clear contact points, clear projection rows and a clear register. Then the schema is
upgraded to head, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import subprocess
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from alembic import command
from tests.conftest import NOW, make_app
from typer.testing import CliRunner

from consentry.adapters import signing
from consentry.adapters.sql import schema
from consentry.adapters.sql import tables as t
from consentry.adapters.sql.engine import create_engine
from consentry.adapters.sql.sealing import PERSONAL, contact_ref
from consentry.adapters.sql.upgrade_v2 import UpgradeRefused
from consentry.bootstrap import App, bootstrap
from consentry.domain.chain import GENESIS, epoch_genesis, link, payload_json
from consentry.domain.checkpoint import Checkpoint
from consentry.domain.clock import FixedClock
from consentry.domain.events import Event
from consentry.domain.fold import fold
from consentry.domain.ids import counting_ids
from consentry.domain.merkle import Frontier, leaf_of_chain_hash
from consentry.domain.vocabulary import CHANNELS_BY_POINT, PointKind
from consentry.entrypoints.cli import app as cli
from consentry.policy.facts.core import BEL_ME_NIET
from consentry.policy.rules import Decision
from consentry.services import audit, checkpoints, demo, integrity
from consentry.services.checkpoints import CheckpointRefused
from consentry.services.decide import decide
from consentry.settings import Settings

#: The moments decisions are compared at (the demo's tour asks some of these).
MOMENTS = (NOW, datetime(2019, 5, 1, tzinfo=UTC), datetime(2024, 9, 6, 12, tzinfo=UTC))
#: A clear (not hashed) do-not-contact register and the demo number it lists.
REGISTER, LISTED = BEL_ME_NIET, "+31623456789"


@dataclass
class Before:
    """What the v1 database held, and what its ledger decided."""

    events: list[Event]
    head: tuple[int, str]
    decisions: dict[tuple[str, str, str, datetime], Decision]
    personal: set[str]


def _settings(url: str) -> Settings:
    return Settings(database_url=url, secret_key="test-secret-key-0123456789")  # type: ignore[call-arg]


def _scratch(tmp_path: Path) -> App:
    """The demo recorded on a scratch store: the events, purposes and answers the v1 database gets."""
    app = make_app(f"sqlite:///{tmp_path / 'scratch.db'}")
    demo.load(app)
    with app.store.writer() as w:
        w.put_register(REGISTER, "Bel-me-niet Register", PointKind.PHONE, False, None, None)
        w.put_register_entries(REGISTER, [LISTED], None, None)
    return app


def _events(app: App) -> list[Event]:
    with app.store.reader() as r:
        found = r.events_for_many(r.point_ids())
    return sorted((e for evs in found.values() for e in evs), key=lambda e: e.seq or 0)


def _decisions(app: App, points: dict[str, PointKind]) -> dict[tuple[str, str, str, datetime], Decision]:
    out: dict[tuple[str, str, str, datetime], Decision] = {}
    for pid, kind in points.items():
        for channel in CHANNELS_BY_POINT[kind]:
            for purpose, *_ in demo.PURPOSES:
                for at in MOMENTS:
                    out[(pid, channel.value, purpose, at)] = decide(app, pid, channel, purpose, at=at)
    return out


def _personal(events: list[Event]) -> set[str]:
    """The clear personal values the v1 database holds (strings worth searching a dump for)."""
    found: set[str] = set()
    for e in events:
        for k, v in e.payload.items():
            if k in PERSONAL and isinstance(v, str) and len(v) >= 6:
                found.add(v)
            if k == "attributes" and isinstance(v, dict):
                found.update(str(x) for x in v.values() if len(str(x)) >= 6)
    return found


def _naive(d: datetime) -> datetime:
    return d.astimezone(UTC).replace(tzinfo=None)


def _filled(table: sa.Table, given: dict[str, Any]) -> dict[str, Any]:
    """A row for a v1 projection table: the given columns, a plain value in every other one."""
    row: dict[str, Any] = {}
    for c in table.columns:
        if c.name in given:
            row[c.name] = given[c.name]
        elif c.nullable:
            row[c.name] = None
        elif isinstance(c.type, sa.Boolean):
            row[c.name] = False
        elif isinstance(c.type, sa.Integer):
            row[c.name] = 0
        else:
            row[c.name] = "|"
    return row


def make_v1_database(url: str, scratch: App) -> Before:
    """A database at revision 0008 holding the scratch store's events as v1 stored them."""
    events = _events(scratch)
    points = {
        e.contact_point_id: PointKind(e.payload["kind"])
        for e in events
        if e.type == "contact_point.registered"
    }
    decisions = _decisions(scratch, points)
    engine = create_engine(url)
    schema.upgrade(engine, to="0008")
    v1 = sa.MetaData()
    v1.reflect(engine)
    with scratch.store.engine.connect() as src:
        copied = {
            name: [r._asdict() for r in src.execute(sa.select(t.metadata.tables[name]))]
            for name in ("purposes", "settings")
        }
    rows, prev = [], GENESIS
    for seq, e in enumerate(events, start=1):
        h = link(prev, e, seq)  # no `sealed`: the v1 canonical form
        rows.append(
            {
                "seq": seq,
                "id": e.id,
                "contact_point_id": e.contact_point_id,
                "type": e.type,
                "occurred_at": _naive(e.occurred_at),
                "recorded_at": _naive(e.recorded_at),
                "schema_version": e.schema_version,
                "payload": dict(e.payload),
                "prev_hash": prev,
                "hash": h,
            }
        )
        prev = h
    by_point: dict[str, list[Event]] = {}
    for e in events:
        by_point.setdefault(e.contact_point_id, []).append(e)
    with engine.begin() as conn:
        for name, found in copied.items():
            conn.execute(v1.tables[name].insert(), found)
        conn.execute(v1.tables["events"].insert(), rows)
        conn.execute(v1.tables["ledger_head"].update().values(seq=len(rows), hash=prev))
        conn.execute(
            v1.tables["contact_points"].insert(),
            [
                {
                    "id": e.contact_point_id,
                    "kind": e.payload["kind"],
                    "value": e.payload["value"],
                    "registered_seq": r["seq"],
                }
                for e, r in zip(events, rows, strict=True)
                if e.type == "contact_point.registered"
            ],
        )
        for pid, evs in by_point.items():
            s = fold(pid, evs)
            conn.execute(
                v1.tables["contact_state"]
                .insert()
                .values(_filled(v1.tables["contact_state"], {"contact_point_id": pid, "state": s.to_json()}))
            )
            conn.execute(
                v1.tables["point_facts"]
                .insert()
                .values(
                    _filled(
                        v1.tables["point_facts"],
                        {
                            "contact_point_id": pid,
                            "kind": s.kind.value,
                            "value": s.value,
                            "name": s.display_name,
                        },
                    )
                )
            )
        conn.execute(
            v1.tables["registers"]
            .insert()
            .values(
                key=REGISTER, name="Bel-me-niet Register", kind="phone", hashed=False, updated_at=_naive(NOW)
            )
        )
        conn.execute(v1.tables["register_entries"].insert().values(register=REGISTER, entry=LISTED))
    engine.dispose()
    return Before(events, (len(rows), prev), decisions, _personal(events))


def _upgraded(url: str, **settings: object) -> App:
    config = _settings(url).model_copy(update=settings)
    app = bootstrap(config, clock=FixedClock(NOW), ids=counting_ids())
    app.store.migrate()
    return app


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[App]:
    app = _scratch(tmp_path)
    yield app
    app.store.engine.dispose()


def test_a_populated_v1_database_is_upgraded_sealed_chained_to_its_old_head(
    store_url: str, scratch: App
) -> None:
    before = make_v1_database(store_url, scratch)
    app = _upgraded(store_url)
    try:
        assert schema.current_revision(app.store.engine) == schema.head_revision(app.store.engine)
        # Every event reads back as recorded: its clear fields and its sealed ones make the old payload.
        with app.store.reader() as r:
            read = r.events_for_many(r.point_ids())
            stored = {row.event.id: row for row in r.chain()}
        after = {e.id: e for evs in read.values() for e in evs}
        assert len(after) == len(before.events) == len(stored)
        for old in before.events:
            new, row = after[old.id], stored[old.id]
            assert (new.seq, new.type, new.contact_point_id) == (old.seq, old.type, old.contact_point_id)
            assert (new.occurred_at, new.recorded_at) == (old.occurred_at, old.recorded_at)
            assert dict(new.payload) == dict(old.payload)
            assert not PERSONAL & set(row.event.payload) or old.type == "contact_point.erased"
            assert (row.sealed is not None) == bool(PERSONAL & set(old.payload))
        # The same states, so the same decisions, for every point, channel, purpose and moment.
        points = {p: PointKind(e.payload["kind"]) for p, evs in read.items() for e in evs[:1]}
        assert _decisions(app, points) == before.decisions
        by_point: dict[str, list[Event]] = {}
        for e in before.events:
            by_point.setdefault(e.contact_point_id, []).append(e)
        assert {p: fold(p, evs).to_json() for p, evs in by_point.items()} == {
            p: fold(p, evs).to_json() for p, evs in read.items()
        }
        # The new chain verifies and starts from the old head, which chain_epochs records.
        report = integrity.verify_ledger(app)
        assert report.ok and report.events == len(before.events) and report.head_seq == before.head[0]
        assert report.epoch is not None
        assert (report.epoch.previous_head_seq, report.epoch.previous_head_hash) == before.head
        assert stored[before.events[0].id].prev_hash == epoch_genesis(before.head[1])
        assert audit.verify_projection(app).ok
        # Contacts own their keys: an importer's contact id is blinded, not kept.
        with app.store.reader() as r:
            refs = dict(
                r.conn.execute(sa.select(t.contact_points.c.id, t.contact_points.c.contact_ref)).all()
            )
            keys = set(r.conn.execute(sa.select(t.data_keys.c.contact_id)).scalars())
            entries = list(r.conn.execute(sa.select(t.register_entries.c.entry)).scalars())
            listed = r.listings([(PointKind.PHONE, LISTED)])
        for e in before.events:
            if e.type == "contact_point.registered":
                assert refs[e.contact_point_id] == contact_ref(
                    app.store.vault, e.contact_point_id, e.payload.get("contact_id")
                )
        assert keys == set(refs.values())
        # The clear register keeps the entry as a blind index, and still lists the number.
        assert entries == [app.store.vault.blind.index("phone", LISTED).hex()]
        assert [li.register for li in listed[(PointKind.PHONE, LISTED)]] == [REGISTER]
    finally:
        app.store.engine.dispose()
    # No clear personal data is left anywhere in the database.
    found = _dump(store_url)
    assert LISTED.encode() not in found
    left = sorted(v for v in before.personal if v.encode() in found)
    assert left == []


def _dump(url: str) -> bytes:
    """Every byte the database keeps: the SQLite file with its WAL, or a pg_dump."""
    u = sa.make_url(url)
    if u.drivername.startswith("sqlite"):
        path = Path(str(u.database))
        wal = Path(f"{path}-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    args = ["pg_dump", "-h", u.host or "127.0.0.1", "-U", u.username or "postgres", str(u.database)]
    return subprocess.run(args, check=True, capture_output=True).stdout


def _still_v1(url: str, before: Before) -> None:
    engine = create_engine(url)
    try:
        assert schema.current_revision(engine) == "0008"
        with engine.connect() as conn:
            names = set(sa.inspect(conn).get_table_names())
            payloads = conn.execute(sa.text("SELECT payload FROM events ORDER BY seq")).scalars().all()
        assert "v1_events" not in names and "chain_epochs" not in names
        assert [orjson.loads(p) if isinstance(p, str) else p for p in payloads] == [
            dict(e.payload) for e in before.events
        ]
    finally:
        engine.dispose()


def test_the_upgraded_chain_goes_back_to_0014_with_each_previous_hash_and_up_again(
    store_url: str, scratch: App
) -> None:
    before = make_v1_database(store_url, scratch)
    app = _upgraded(store_url)
    try:
        with app.store.reader() as r:
            chain = [(row.seq, row.prev_hash, row.hash) for row in r.chain()]
        assert chain[0][1] == epoch_genesis(before.head[1])
        cfg = schema.alembic_config(app.store.engine)
        with app.store.engine.connect() as conn, conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0014")  # 0015 keeps no previous hash: it is written back
        with app.store.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT seq, prev_hash, hash FROM events ORDER BY seq")).all()
        assert [tuple(row) for row in stored] == chain
        app.store.migrate()
        assert integrity.verify_ledger(app).ok
    finally:
        app.store.engine.dispose()


def test_without_the_keys_the_upgrade_is_refused_naming_the_settings_and_nothing_changes(
    store_url: str, scratch: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = make_v1_database(store_url, scratch)
    monkeypatch.delenv("CONSENTRY_MASTER_KEY")
    monkeypatch.delenv("CONSENTRY_BLIND_INDEX_KEY")
    engine = create_engine(store_url)
    try:
        with pytest.raises(UpgradeRefused) as refused:
            schema.upgrade(engine)  # as `alembic upgrade head` would: the keys from the settings
    finally:
        engine.dispose()
    message = str(refused.value)
    for named in (
        "CONSENTRY_MASTER_KEY",
        "CONSENTRY_BLIND_INDEX_KEY",
        "docs/privacy.md",
        "Nothing was changed",
    ):
        assert named in message
    _still_v1(store_url, before)


def test_a_broken_v1_chain_is_not_sealed_and_nothing_changes(store_url: str, scratch: App) -> None:
    before = make_v1_database(store_url, scratch)
    engine = create_engine(store_url)
    with engine.begin() as conn:  # an edit the v1 chain shows: the third event's payload
        third = before.events[2]
        edited = (
            {**third.payload, "source": "import"} if "source" in third.payload else {**third.payload, "x": 1}
        )
        conn.execute(sa.text("UPDATE events SET payload = :p WHERE seq = 3"), {"p": payload_json(edited)})
    engine.dispose()
    with pytest.raises(UpgradeRefused, match="broken at seq 3"):
        _upgraded(store_url)
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE events SET payload = :p WHERE seq = 3"), {"p": payload_json(dict(third.payload))}
        )
    engine.dispose()
    _still_v1(store_url, before)


def _signed(app: App, signer: signing.Signer, size: int, head: str, hashes: list[str]) -> Checkpoint:
    frontier = Frontier()
    for h in hashes[:size]:
        frontier.append(leaf_of_chain_hash(h))
    cp = Checkpoint(
        app.settings.checkpoint_origin, size, head, frontier.root().hex(), NOW - timedelta(days=1)
    )
    return replace(cp, key_id=signer.public.id, signature=b64encode(signer.sign(cp.signed_bytes())).decode())


def test_a_checkpoint_signed_before_the_upgrade_proves_the_continuity(
    sqlite_url: str, scratch: App, tmp_path: Path
) -> None:
    before = make_v1_database(sqlite_url, scratch)
    engine = create_engine(sqlite_url)
    with engine.connect() as conn:
        hashes = list(conn.execute(sa.text("SELECT hash FROM events ORDER BY seq")).scalars())
    engine.dispose()
    exported = tmp_path / "checkpoints.jsonl"
    app = _upgraded(sqlite_url, checkpoint_file=str(exported))
    try:
        signer = signing.generate(tmp_path / "checkpoint.key")
        n, head = before.head
        at_head = _signed(app, signer, n, head, hashes)
        prefix = _signed(app, signer, 10, hashes[9], hashes)
        held = audit.verify_checkpoints(app, [prefix, at_head], signer.public)
        assert held.ok, held.problems
        assert any(f"seq {n}, {head}" in note and "continues it" in note for note in held.notes)
        forged = _signed(app, signer, n, hashes[0], hashes)
        longer = _signed(app, signer, n + 1, head, hashes)
        assert len(audit.verify_checkpoints(app, [forged, longer], signer.public).problems) == 2
        # The next checkpoint is made on the new chain, held against the recorded head.
        exported.write_text(json.dumps(at_head.to_json()) + "\n", encoding="utf-8")
        fresh = checkpoints.make(app, signer)
        assert fresh.size == n and fresh.head != head
        assert audit.verify_checkpoints(app, [at_head, fresh], signer.public).ok
        exported.write_text(json.dumps(forged.to_json()) + "\n", encoding="utf-8")
        with pytest.raises(CheckpointRefused, match="changed before the upgrade"):
            checkpoints.make(app, signer)
    finally:
        app.store.engine.dispose()


def test_consentry_init_upgrades_and_ledger_verify_shows_the_old_head(sqlite_url: str, scratch: App) -> None:
    before = make_v1_database(sqlite_url, scratch)
    runner = CliRunner()
    done = runner.invoke(cli, ["--database-url", sqlite_url, "init"])
    assert done.exit_code == 0, done.stderr
    done = runner.invoke(cli, ["--database-url", sqlite_url, "ledger", "verify", "--quiet"])
    assert done.exit_code == 0, done.stderr
    n, head = before.head
    assert "chain epoch 2 (since " in done.stdout
    assert f"continues the earlier chain, whose head was seq {n} with hash {head}" in done.stdout
    assert f"ledger intact: {n} events, head at seq {n}" in done.stdout


def test_consentry_init_without_the_keys_says_which_settings_and_changes_nothing(
    sqlite_url: str, scratch: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = make_v1_database(sqlite_url, scratch)
    monkeypatch.delenv("CONSENTRY_MASTER_KEY")
    monkeypatch.delenv("CONSENTRY_BLIND_INDEX_KEY")
    done = CliRunner().invoke(cli, ["--database-url", sqlite_url, "init"])
    assert done.exit_code == 2
    assert "CONSENTRY_MASTER_KEY" in done.stderr and "CONSENTRY_BLIND_INDEX_KEY" in done.stderr
    assert "docs/privacy.md" in done.stderr
    _still_v1(sqlite_url, before)
