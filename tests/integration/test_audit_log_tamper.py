"""The admin audit log against someone who can write to the database (issue 19).

Every entry is hash-chained to the one before (`domain/audit_chain.py`) and the log's head is
signed in checkpoints, so `consentry ledger verify` finds an entry edited, deleted or inserted
and names it; a log rewritten with every hash recomputed, or cut short with its head moved back,
fails the checkpoint signed before. A checkpoint signed before the log was chained (version 1)
still holds. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from attacks import sql
from conftest import NOW, make_app
from consentry.adapters import signing
from consentry.adapters.sql import schema
from consentry.adapters.sql.engine import create_engine
from consentry.adapters.sql.users import SqlUsers
from consentry.bootstrap import App
from consentry.domain.audit_chain import GENESIS, canonical, link
from consentry.domain.checkpoint import from_json
from consentry.domain.users import AuditAction, AuditEntry
from consentry.services import audit, checkpoints, integrity

ADMIN = "beheer@koffie.example"


def entry(action: AuditAction, minutes: int, subject: str | None = None, **detail: object) -> AuditEntry:
    return AuditEntry(NOW + timedelta(minutes=minutes), ADMIN, action, subject, dict(detail))


@pytest.fixture
def logged(app: App, tmp_path: Path) -> App:
    """Five audit entries, written both ways the app writes them; a checkpoint key and file."""
    users = SqlUsers(app.store.engine)
    users.record(entry(AuditAction.LOGIN, 1, ADMIN, client="203.0.113.9"))
    with app.store.writer() as w:
        w.record_audit(entry(AuditAction.ACCESS_EXPORTED, 2, "cp_0001"))
    users.record(entry(AuditAction.CAMPAIGN_SENT, 3, "nieuwsbrief-december"))
    users.record(entry(AuditAction.ROLE_CHANGED, 4, "mia@koffie.example", old="marketeer", new="beheerder"))
    with app.store.writer() as w:
        w.record_audit(entry(AuditAction.RETENTION_RUN, 5, None, policies={"prospect-stil": {"erased": 3}}))
    signing.generate(tmp_path / "keys" / "checkpoint.pem")
    app.settings = app.settings.model_copy(
        update={
            "checkpoint_key_file": str(tmp_path / "keys" / "checkpoint.pem"),
            "checkpoint_file": str(tmp_path / "export" / "checkpoints.jsonl"),
        }
    )
    return app


def problems(app: App) -> list[str]:
    """What `ledger verify` says of the audit log: its chain, and every exported checkpoint."""
    found = [f"{p.where}: {p.problem}" for p in integrity.verify_audit_log(app).problems]
    path = Path(str(app.settings.checkpoint_file))
    if path.exists():
        held = audit.verify_checkpoints(
            app, checkpoints.read_checkpoints(path), checkpoints.public_key(app.settings, None)
        )
        found += held.problems
    return found


def rows(app: App) -> list[sa.Row[tuple[int, str, str]]]:
    with app.store.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT seq, prev_hash, hash FROM admin_audit ORDER BY seq")))


def test_an_untouched_audit_log_verifies_and_names_its_size(logged: App) -> None:
    report = integrity.verify_audit_log(logged)
    assert report.ok and report.entries == 5 and report.head == (5, rows(logged)[-1].hash)
    checkpoints.checkpoint(logged)
    assert problems(logged) == []


def test_an_edited_entry_is_named(logged: App) -> None:
    sql(logged, "UPDATE admin_audit SET actor = 'iemand@anders.example' WHERE seq = 2")
    found = problems(logged)
    assert len(found) == 1
    assert "audit entry #2" in found[0] and "access_exported" in found[0] and "edited" in found[0]


def test_an_edited_detail_is_named(logged: App) -> None:
    with logged.store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE admin_audit SET detail = :d WHERE seq = 4"),
            {"d": json.dumps({"old": "marketeer", "new": "alleen_lezen"})},
        )
    (found,) = problems(logged)
    assert "audit entry #4" in found and "edited" in found


def test_a_deleted_entry_is_named_by_the_one_after_it(logged: App) -> None:
    sql(logged, "DELETE FROM admin_audit WHERE seq = 3")
    found = problems(logged)
    assert any("audit entry #4" in p and "expected #3: entries missing" in p for p in found)
    assert any("audit entry #4" in p and "removed or reordered" in p for p in found)


def test_an_entry_inserted_with_a_right_hash_breaks_the_link_after_it(logged: App) -> None:
    before = rows(logged)
    forged_at = NOW + timedelta(minutes=3, seconds=30)
    digest = link(before[2].hash, canonical(4, forged_at, ADMIN, "login", ADMIN, {}))
    with logged.store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE admin_audit SET seq = seq + 10 WHERE seq >= 4"))
        conn.execute(sa.text("UPDATE admin_audit SET seq = seq - 9 WHERE seq >= 14"))
        conn.execute(
            sa.text(
                "INSERT INTO admin_audit (at, actor, action, subject, detail, seq, prev_hash, hash) "
                "VALUES (:at, :actor, 'login', :actor, :detail, 4, :prev, :hash)"
            ),
            {
                "at": forged_at.replace(tzinfo=None),
                "actor": ADMIN,
                "detail": "{}",
                "prev": before[2].hash,
                "hash": digest,
            },
        )
    found = problems(logged)
    assert found and all("#4" not in p.split(":")[0] for p in found)  # the forged entry itself links
    assert any("audit entry #5" in p and "removed or reordered" in p for p in found)


def test_a_missing_head_is_reported(logged: App) -> None:
    sql(logged, "DELETE FROM admin_audit_head")
    assert problems(logged) == ["the audit log's head: is missing: removed from the database"]


def test_the_tail_cut_with_the_head_moved_back_passes_the_chain_but_fails_the_checkpoint(logged: App) -> None:
    checkpoints.checkpoint(logged)
    kept = rows(logged)[2].hash
    sql(
        logged,
        "DELETE FROM admin_audit WHERE seq > 3",
        f"UPDATE admin_audit_head SET seq = 3, hash = '{kept}'",
    )
    assert integrity.verify_audit_log(logged).ok  # the chain alone cannot tell
    (found,) = problems(logged)
    assert "signed 5 admin audit entries but entry #5 is gone" in found
    with pytest.raises(checkpoints.CheckpointRefused, match="audit log was rewritten or truncated"):
        checkpoints.make(logged)


def test_a_log_rewritten_with_every_hash_recomputed_fails_the_checkpoint(logged: App) -> None:
    checkpoints.checkpoint(logged)
    with logged.store.engine.begin() as conn:
        stored = list(
            conn.execute(
                sa.text("SELECT id, at, actor, action, subject, detail FROM admin_audit ORDER BY seq")
            )
        )
        conn.execute(sa.text("DELETE FROM admin_audit WHERE seq = 2"))  # the access export, gone
        prev, seq = GENESIS, 0
        for row in stored:
            if row.action == "access_exported":
                continue
            seq += 1
            detail = json.loads(row.detail) if isinstance(row.detail, str) else row.detail
            at = row.at if not isinstance(row.at, str) else datetime.fromisoformat(row.at)
            digest = link(
                prev,
                canonical(seq, at.replace(tzinfo=NOW.tzinfo), row.actor, row.action, row.subject, detail),
            )
            conn.execute(
                sa.text("UPDATE admin_audit SET seq = :s, prev_hash = :p, hash = :h WHERE id = :i"),
                {"s": seq, "p": prev, "h": digest, "i": row.id},
            )
            prev = digest
        conn.execute(sa.text("UPDATE admin_audit_head SET seq = :s, hash = :h"), {"s": seq, "h": prev})
    assert integrity.verify_audit_log(logged).ok  # the chain alone cannot tell
    (found,) = problems(logged)
    assert "signed 5 admin audit entries but entry #5 is gone" in found


def test_a_checkpoint_signs_the_audit_head_and_one_signed_before_the_log_was_chained_still_holds(
    logged: App,
) -> None:
    cp = checkpoints.make(logged)
    assert cp.version == 2 and cp.audit == (5, rows(logged)[-1].hash)
    assert from_json(json.loads(cp.line())) == cp
    signer = checkpoints.signer_for(logged.settings)
    old = replace(cp, audit=None, signature="")
    old = replace(old, signature=base64.b64encode(signer.sign(old.signed_bytes())).decode())
    assert "audit" not in old.to_json() and old.to_json()["v"] == 1
    read = from_json(json.loads(old.line()))
    held = audit.verify_checkpoints(logged, [read], signer.public)
    assert held.ok, held.problems
    # a v2 checkpoint whose audit head was changed after signing does not verify
    forged = replace(cp, audit=(4, cp.audit[1] if cp.audit else ""))
    assert not audit.verify_checkpoints(logged, [forged], signer.public).ok


def test_ledger_verify_reports_the_audit_log(logged: App, monkeypatch: pytest.MonkeyPatch) -> None:
    from consentry.entrypoints.cli import app as cli
    from consentry.entrypoints.cli import context

    monkeypatch.setattr(context, "current", lambda: logged)
    monkeypatch.setattr("consentry.entrypoints.cli.ledger.current", lambda: logged)
    ok = CliRunner().invoke(cli, ["ledger", "verify", "-q"])
    assert ok.exit_code == 0, ok.output
    assert "admin audit log intact: 5 entries" in ok.output
    sql(logged, "UPDATE admin_audit SET subject = 'cp_0002' WHERE seq = 2")
    bad = CliRunner().invoke(cli, ["ledger", "verify", "-q"])
    assert bad.exit_code == 1
    assert "admin audit log, audit entry #2 (id" in bad.output and "edited" in bad.output


def test_entries_written_before_the_chain_are_chained_in_order_by_the_migration(store_url: str) -> None:
    engine = create_engine(store_url)
    schema.upgrade(engine, to="0010")
    with engine.begin() as conn:
        for i, (action, subject) in enumerate(
            [("login", ADMIN), ("imported", "klanten.csv"), ("logout", ADMIN)]
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO admin_audit (at, actor, action, subject, detail) "
                    "VALUES (:at, :actor, :action, :subject, :detail)"
                ),
                {"at": (NOW + timedelta(minutes=i, microseconds=7)).replace(tzinfo=None), "actor": ADMIN,
                 "action": action, "subject": subject, "detail": json.dumps({"rows": i, "naam": "één"})},
            )  # fmt: skip
    engine.dispose()
    app = make_app(store_url)
    try:
        report = integrity.verify_audit_log(app)
        assert report.ok and report.entries == 3, report.problems
        SqlUsers(app.store.engine).record(entry(AuditAction.LOGIN, 10, ADMIN))
        after = integrity.verify_audit_log(app)
        assert after.ok and after.entries == 4
        actions = [a.action.value for a in SqlUsers(app.store.engine).audit_log()]
        assert actions == ["login", "logout", "imported", "login"]
    finally:
        app.store.engine.dispose()


def test_the_serving_process_signs_again_when_only_the_audit_log_grew(logged: App) -> None:
    from consentry.services.checkpointing import PeriodicCheckpoints

    checkpoints.checkpoint(logged)
    periodic = PeriodicCheckpoints(logged, checkpoints.signer_for(logged.settings), every_s=60)
    assert periodic.tick() is None  # the CLI already signed this ledger and this audit head
    SqlUsers(logged.store.engine).record(entry(AuditAction.LOGOUT, 9, ADMIN))
    done = periodic.tick()
    assert done is not None and done.checkpoint.audit == (6, rows(logged)[-1].hash)
    assert periodic.tick() is None
    assert problems(logged) == []


def test_the_overview_shows_an_audit_log_cut_short_or_rewritten(logged: App) -> None:
    from consentry.services import overview

    checkpoints.checkpoint(logged)
    assert overview.overview(logged).damage is None
    sql(logged, "DELETE FROM admin_audit WHERE seq = 5")
    damage = overview.overview(logged).damage
    assert damage is not None and "admin audit log's head (#5) is not its last entry" in damage
    kept = rows(logged)[-1].hash
    sql(logged, f"UPDATE admin_audit_head SET seq = 4, hash = '{kept}'")
    damage = overview.overview(logged).damage
    assert damage is not None and "no longer matches the checkpoint" in damage and "entry #5" in damage


def test_concurrent_appends_keep_one_unbroken_audit_chain(logged: App) -> None:
    from concurrent.futures import ThreadPoolExecutor

    users = SqlUsers(logged.store.engine)

    def append(n: int) -> None:
        for i in range(10):
            if i % 2:
                users.record(entry(AuditAction.LOGIN, 100 + n, ADMIN, n=n, i=i))
            else:
                with logged.store.writer() as w:
                    w.record_audit(entry(AuditAction.LIST_EXPORTED, 100 + n, "email:nieuwsbrief", n=n, i=i))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(append, range(4)))
    report = integrity.verify_audit_log(logged)
    assert report.ok and report.entries == 45, report.problems
