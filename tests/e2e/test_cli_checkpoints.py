"""`consentry ledger keygen | checkpoint | verify --checkpoint | prove | check-proof`, as an operator
runs them, on SQLite and on PostgreSQL: every attack of someone with database access fails verify."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from attacks import recompute_chain, sql, truncate, wipe
from consentry.bootstrap import App, bootstrap
from consentry.entrypoints.cli import app as cli_app
from consentry.settings import Settings

runner = CliRunner()


class Operator:
    """Runs `consentry` against one database, with the checkpoint key and file outside it."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.url = url
        self.key = tmp / "secrets" / "checkpoint.pem"
        self.log = tmp / "export" / "checkpoints.jsonl"
        self.size = 0
        self.env = {
            "CONSENTRY_CHECKPOINT_KEY_FILE": str(self.key),
            "CONSENTRY_CHECKPOINT_FILE": str(self.log),
        }

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        result = runner.invoke(
            cli_app, ["--database-url", self.url, *args], env=self.env if env is None else env
        )
        return result.exit_code, result.stdout, result.stderr

    def attacker(self) -> App:
        """The same database, opened by someone who bypasses consentry."""
        return bootstrap(Settings(database_url=self.url))


@pytest.fixture
def run(store_url: str, tmp_path: Path) -> Iterator[Operator]:
    """A demo ledger with a key made by `ledger keygen` and one signed, exported checkpoint."""
    op = Operator(store_url, tmp_path)
    code, out, err = op("demo")
    assert code == 0, err
    code, out, err = op("ledger", "keygen")
    assert code == 0, err
    assert f"wrote {op.key}" in out and len(out.splitlines()[-1]) == 44
    code, out, err = op("ledger", "checkpoint")
    assert code == 0 and out.startswith("signed checkpoint #"), err
    op.size = int(out.split("#")[1].split()[0])  # every event of the demo
    yield op


def public_key(run: Operator) -> str:
    code, out, _ = run("ledger", "public-key")
    assert code == 0
    return out.strip()


def test_verify_with_the_checkpoint_says_the_ledger_and_its_projection_hold(run: Operator) -> None:
    code, out, err = run(
        "ledger", "verify", "-q", "--checkpoint", str(run.log), "--public-key", public_key(run)
    )
    assert code == 0, err
    assert f"checkpoints hold: 1 signed, the last at #{run.size}" in out
    assert "projection equals the ledger for" in out
    assert f"ledger intact: {run.size} events" in out


def _objection_seq(app: App) -> int:
    with app.store.reader() as r:
        return next(row.seq for row in r.chain() if row.event.type == "objection.recorded")


#: Each attack, and what verify must say about it (N: the events the checkpoint covers).
ATTACKS: dict[str, tuple[Callable[[App], None], str]] = {
    "truncate": (lambda a: truncate(a, keep=20), "covers N events but the ledger has 20"),
    "wipe": (wipe, "covers N events but the ledger has none (head at seq 0): the ledger was wiped"),
    "drop an objection": (
        lambda a: recompute_chain(a, drop_seq=_objection_seq(a)),
        "covers N events but the ledger has N-1",
    ),
    "rewrite": (
        lambda a: (sql(a, "UPDATE events SET schema_version = 2 WHERE seq = 3"), recompute_chain(a)),
        "the ledger's first N events differ from what was signed: events in seq 1-N were changed",
    ),
    "projection edit": (
        lambda a: sql(a, "UPDATE point_facts SET objected_dm = false WHERE objected_dm = true"),
        "point_facts.objected_dm is",
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_verify_with_the_checkpoint_fails_on_every_attack_and_says_what_is_wrong(
    run: Operator, attack: str
) -> None:
    key = public_key(run)
    db = run.attacker()
    do, message = ATTACKS[attack]
    message = message.replace("N-1", str(run.size - 1)).replace("N", str(run.size))
    do(db)
    db.store.engine.dispose()
    code, _, err = run("ledger", "verify", "-q", "--checkpoint", str(run.log), "--public-key", key)
    assert code == 1 and message in err, err
    assert "ledger NOT intact" in err


def test_no_new_checkpoint_is_signed_over_a_truncated_ledger(run: Operator) -> None:
    db = run.attacker()
    truncate(db, keep=20)
    db.store.engine.dispose()
    code, _, err = run("ledger", "checkpoint")
    assert code == 1 and "events were deleted; not signing" in err


def test_decide_and_explain_on_a_wiped_ledger_refuse_with_a_message_not_a_traceback(run: Operator) -> None:
    db = run.attacker()
    wipe(db)
    db.store.engine.dispose()
    for command in ("decide", "explain"):
        code, out, err = run(
            command, "--contact", "sanne.visser@example.nl", "--channel", "email", "--purpose", "nieuwsbrief"
        )
        assert code == 1 and "the ledger head is missing: the ledger was wiped" in err
        assert "Traceback" not in out + err


def test_a_proof_of_one_consent_checks_with_the_public_key_alone(run: Operator, tmp_path: Path) -> None:
    key = public_key(run)
    db = run.attacker()
    with db.store.reader() as r:
        consent = next(row.event.id for row in r.chain() if row.event.type == "consent.given")
    db.store.engine.dispose()
    code, out, err = run("ledger", "prove", "--event", consent)
    assert code == 0, err
    proof = tmp_path / "proof.json"
    proof.write_text(out)
    # No database, no settings: only the proof and the public key.
    result = runner.invoke(cli_app, ["ledger", "check-proof", str(proof), "--public-key", key], env={})
    assert result.exit_code == 0 and f"event {consent}" in result.stdout
    doc = json.loads(out)
    doc["checkpoint"]["size"] = 28
    proof.write_text(json.dumps(doc))
    result = runner.invoke(cli_app, ["ledger", "check-proof", str(proof), "--public-key", key], env={})
    assert (
        result.exit_code == 1
        and "proof does NOT hold: checkpoint: the signature does not verify" in result.stderr
    )


def test_a_consistency_proof_between_two_checkpoints_checks_with_the_public_key(
    run: Operator, tmp_path: Path
) -> None:
    first = tmp_path / "first.jsonl"
    first.write_text(run.log.read_text())
    line = '{"type":"contact_point.registered","kind":"email","value":"nieuw@example.nl","source":"web_form"}'
    result = runner.invoke(
        cli_app, ["--database-url", run.url, "ledger", "append", "-"], input=line, env=run.env
    )
    assert result.exit_code == 0, result.stderr
    assert run("ledger", "checkpoint")[0] == 0
    code, out, err = run("ledger", "consistency", "--old", str(first))
    assert code == 0, err
    proof = tmp_path / "consistency.json"
    proof.write_text(out)
    result = runner.invoke(
        cli_app, ["ledger", "check-proof", str(proof), "--public-key", public_key(run)], env={}
    )
    assert result.exit_code == 0 and f"holds the {run.size} events of checkpoint #{run.size}" in result.stdout


def test_verify_without_a_checkpoint_says_a_truncation_cannot_be_told(run: Operator) -> None:
    code, _, err = run("ledger", "verify", "-q", env={})
    assert code == 0
    assert "no checkpoint given (--checkpoint FILE): a truncated or wiped ledger cannot be told" in err
