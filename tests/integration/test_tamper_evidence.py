"""Tamper evidence against someone who can write to the database (issue 18, part 2).

Each attack is what a database writer can do: edit an event, delete the tail and move
the head back, wipe every event and the head, delete one objection and recompute the
chain, edit a projection row. The hash chain alone misses most of them; a signed
checkpoint, whose key the database never held, catches every one. Every test runs on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from attacks import recompute_chain, sql, truncate, wipe
from consentry.adapters import signing
from consentry.bootstrap import App
from consentry.domain.campaigns import CampaignStatus
from consentry.domain.merkle import ProofError
from consentry.domain.vocabulary import PointKind
from consentry.entrypoints.http import create_app
from consentry.services import (
    apikeys,
    audit,
    campaigns,
    checkpoints,
    integrity,
    ledger,
    ledger_guard,
    proofs,
    sending,
)
from consentry.services.checkpointing import PeriodicCheckpoints
from consentry.services.decide import Asked, decide, decide_many

A = "a@example.nl"
B = "b@example.nl"


def line(**fields: object) -> str:
    """One JSON line of `ledger append`."""
    return json.dumps(fields)


def register(value: str) -> str:
    return line(type="contact_point.registered", kind="email", value=value, source="web_form",
                occurred_at="2025-01-01T10:00:00+01:00")  # fmt: skip


def consent(contact: str) -> str:
    return line(type="consent.given", contact=contact, purpose="nieuwsbrief", channels=["email"],
                method="single_opt_in", occurred_at="2025-01-01T10:00:00+01:00")  # fmt: skip


def objection(contact: str) -> str:
    return line(type="objection.recorded", contact=contact, scope="direct_marketing",
                occurred_at="2025-06-01T12:00:00+02:00")  # fmt: skip


@pytest.fixture
def keyed(app: App, tmp_path: Path) -> App:
    """The app with a checkpoint key and a checkpoint file, both outside the database."""
    signing.generate(tmp_path / "keys" / "checkpoint.pem")
    app.settings = app.settings.model_copy(
        update={
            "checkpoint_key_file": str(tmp_path / "keys" / "checkpoint.pem"),
            "checkpoint_file": str(tmp_path / "export" / "checkpoints.jsonl"),
        }
    )
    return app


@pytest.fixture
def signed(keyed: App) -> App:
    """Two people with a consent each, A has objected; a checkpoint signed and exported."""
    ledger.append_lines(keyed, [register(A), consent(A), register(B), consent(B), objection(A)])
    done = checkpoints.checkpoint(keyed)
    assert done.sent_to == [keyed.settings.checkpoint_file] and done.checkpoint.size == 5
    return keyed


def verdict(app: App) -> tuple[bool, list[str]]:
    """What `ledger verify --checkpoint` concludes: the chain, every exported checkpoint, the projections."""
    chain = integrity.verify_ledger(app)
    found = checkpoints.read_checkpoints(Path(str(app.settings.checkpoint_file)))
    held = audit.verify_checkpoints(app, found, checkpoints.public_key(app.settings, None))
    folded = audit.verify_projection(app)
    problems = [p.problem for p in chain.problems] + held.problems + folded.differences
    return not problems, problems


def test_an_untouched_ledger_holds_its_checkpoint_and_its_projection(signed: App) -> None:
    assert verdict(signed) == (True, [])


def test_a_truncated_ledger_passes_the_chain_but_fails_its_checkpoint(signed: App) -> None:
    truncate(signed, keep=3)
    assert integrity.verify_ledger(signed).ok  # the chain alone cannot tell
    ok, problems = verdict(signed)
    assert not ok
    assert any("covers 5 events but the ledger has 3" in p and "truncated" in p for p in problems)


def test_a_wiped_ledger_fails_its_checkpoint(signed: App) -> None:
    wipe(signed)
    assert integrity.verify_ledger(signed).ok  # "0 events", intact
    ok, problems = verdict(signed)
    assert not ok and any("the ledger has none" in p and "wiped" in p for p in problems)


def test_an_objection_deleted_with_the_chain_recomputed_fails_its_checkpoint(signed: App) -> None:
    assert decide(signed, A, "email", "nieuwsbrief").verdict.value == "deny"
    recompute_chain(signed, drop_seq=5)
    assert integrity.verify_ledger(signed).ok
    assert decide(signed, A, "email", "nieuwsbrief").verdict.value == "allow"  # the attack worked...
    ok, problems = verdict(signed)  # ...and is found
    assert not ok
    assert any("covers 5 events but the ledger has 4" in p for p in problems)


def test_an_event_rewritten_in_the_middle_with_the_chain_recomputed_fails_its_checkpoint(
    signed: App,
) -> None:
    later = (signed.clock.now() - timedelta(days=400)).isoformat()
    cast = "::timestamp" if signed.store.engine.dialect.name == "postgresql" else ""
    sql(signed, f"UPDATE events SET occurred_at = '{later[:19]}'{cast} WHERE seq = 2")
    assert not integrity.verify_ledger(signed).ok  # an edit alone breaks the chain
    recompute_chain(signed)
    assert integrity.verify_ledger(signed).ok  # the recomputed chain is whole again
    ok, problems = verdict(signed)
    assert not ok
    assert any("first 5 events differ from what was signed" in p and "seq 1-5" in p for p in problems)


def test_a_rewrite_is_located_between_the_last_checkpoint_that_holds_and_the_first_that_does_not(
    signed: App,
) -> None:
    ledger.append_lines(signed, [register("c@example.nl"), consent("c@example.nl")])
    checkpoints.checkpoint(signed)
    sql(signed, "UPDATE events SET schema_version = 2 WHERE seq = 7")
    recompute_chain(signed)
    ok, problems = verdict(signed)
    held = [p for p in problems if "checkpoint #" in p]  # #5 still holds: only #7 is named
    assert not ok and len(held) == 1
    assert "the ledger's first 7 events differ from what was signed: events in seq 6-7" in held[0]


def test_an_edited_projection_is_named_by_table_column_and_contact_point(signed: App) -> None:
    with signed.store.reader() as r:
        a_id = r.point_id(*_email(A))
    sql(signed, f"UPDATE point_facts SET objected_dm = false WHERE contact_point_id = '{a_id}'")
    ok, problems = verdict(signed)
    assert not ok
    assert problems == [f"{a_id}: point_facts.objected_dm is {_false(signed)}, the ledger says True"]


def test_a_projection_row_for_no_contact_point_and_a_missing_row_are_both_reported(signed: App) -> None:
    with signed.store.reader() as r:
        b_id = r.point_id(*_email(B))
    sql(signed, f"UPDATE point_facts SET contact_point_id = 'cp_ghost' WHERE contact_point_id = '{b_id}'")
    report = audit.verify_projection(signed)
    assert report.differences == [
        "cp_ghost: has projection rows but is not a contact point in the ledger",
        f"{b_id}: no point_facts row, the ledger has events for it",
    ]


def test_a_quick_check_folds_a_sample_and_says_how_many_of_how_many(signed: App) -> None:
    report = audit.verify_projection(signed, sample=1, seed=7)
    assert (report.checked, report.of, report.ok) == (1, 2, True)


def test_a_checkpoint_with_a_changed_field_or_from_another_key_is_refused(
    signed: App, tmp_path: Path
) -> None:
    cp = checkpoints.last_exported(signed.settings)
    assert cp is not None
    key = checkpoints.public_key(signed.settings, None)
    forged = replace(cp, size=3)
    report = audit.verify_checkpoints(signed, [forged], key)
    assert report.problems == [
        f"checkpoint #3 of {cp.time.isoformat()}: "
        "the signature does not verify: the checkpoint was forged or altered"
    ]
    other = signing.generate(tmp_path / "other.pem")
    report = audit.verify_checkpoints(signed, [cp], other.public)
    assert "not by the given key" in report.problems[0]


def test_no_new_checkpoint_is_signed_over_a_rewritten_ledger(signed: App) -> None:
    recompute_chain(signed, drop_seq=5)
    with pytest.raises(checkpoints.CheckpointRefused, match="events were deleted; not signing"):
        checkpoints.checkpoint(signed)
    ledger.append_lines(signed, [register("c@example.nl")])  # back to five events, other ones
    with pytest.raises(checkpoints.CheckpointRefused, match="the ledger was rewritten; not signing"):
        checkpoints.checkpoint(signed)


def test_an_inclusion_proof_checks_with_the_public_key_alone_and_an_altered_one_does_not(signed: App) -> None:
    cp = checkpoints.last_exported(signed.settings)
    assert cp is not None
    with signed.store.reader() as r:
        consent_id = next(row.event.id for row in r.chain() if row.seq == 2)
    proof = proofs.inclusion(signed, consent_id, cp)
    key = checkpoints.public_key(signed.settings, None)
    assert proofs.check(json.dumps(proof), key).startswith(f"event {consent_id} (seq 2) is in checkpoint #5")
    altered = dict(proof, canonical=proof["canonical"].replace("single_opt_in", "double_opt_in"))
    with pytest.raises(ProofError, match="does not hash to its chain hash"):
        proofs.check(json.dumps(altered), key)
    moved = dict(proof, path=list(reversed(proof["path"])))
    with pytest.raises(ProofError, match="root"):
        proofs.check(json.dumps(moved), key)


def test_a_consistency_proof_links_two_checkpoints_without_the_database(signed: App) -> None:
    old = checkpoints.last_exported(signed.settings)
    ledger.append_lines(signed, [register("c@example.nl"), consent("c@example.nl"), register("d@example.nl")])
    new = checkpoints.checkpoint(signed).checkpoint
    assert old is not None and new.size == 8
    proof = proofs.consistency(signed, old, new)
    key = checkpoints.public_key(signed.settings, None)
    assert "holds the 5 events of checkpoint #5" in proofs.check(json.dumps(proof), key)
    swapped = dict(proof, old=dict(proof["old"], root=new.root))
    with pytest.raises(ProofError, match="signature"):
        proofs.check(json.dumps(swapped), key)


def test_the_serving_process_signs_only_when_the_ledger_grew_and_reads_only_the_new_events(
    signed: App,
) -> None:
    periodic = PeriodicCheckpoints(signed, checkpoints.signer_for(signed.settings), every_s=60)
    assert periodic.tick() is None  # the CLI already signed this head
    ledger.append_lines(signed, [register("c@example.nl")])
    done = periodic.tick()
    assert done is not None and done.checkpoint.size == 6
    assert periodic.tick() is None
    ledger.append_lines(signed, [consent("c@example.nl")])
    grown = periodic.tick()
    assert grown is not None and grown.checkpoint.root == checkpoints.make(signed).root
    assert len(checkpoints.read_checkpoints(Path(str(signed.settings.checkpoint_file)))) == 3
    assert verdict(signed) == (True, [])


def _email(value: str) -> tuple[PointKind, str]:
    return PointKind.EMAIL, value


def _false(app: App) -> str:
    return "False" if app.store.engine.dialect.name == "postgresql" else "0"


CAMPAIGN = {
    "key": "najaar",
    "name": "Najaarsactie",
    "purpose": "nieuwsbrief",
    "channel": "email",
    "sender": {
        "name": "De Boon",
        "email": "nieuws@deboon.example",
        "legal_name": "De Boon B.V.",
        "address": "Markt 1, 3511 AA Utrecht",
        "kvk": "12345678",
    },
    "content": {"nl": {"subject": "Koffie", "body": "Hallo {{ name }}"}},
}


def test_a_decision_on_a_wiped_ledger_is_refused_with_what_is_wrong(signed: App) -> None:
    wipe(signed)
    with pytest.raises(ledger_guard.LedgerDamaged, match="the ledger head is missing: the ledger was wiped"):
        decide(signed, A, "email", "nieuwsbrief")
    with pytest.raises(ledger_guard.LedgerDamaged, match="the ledger head is missing"):
        decide_many(signed, [Asked(A, "email", "nieuwsbrief")])


def test_recording_on_a_wiped_ledger_says_it_was_wiped_not_to_run_init(signed: App) -> None:
    wipe(signed)
    with pytest.raises(ledger_guard.LedgerDamaged, match="the ledger head is missing: the ledger was wiped"):
        ledger.append_records(
            signed, [(1, {"type": "objection.recorded", "contact": A, "scope": "direct_marketing"})]
        )


def test_a_decision_on_a_ledger_wiped_with_its_head_kept_is_refused(signed: App) -> None:
    sql(signed, "DELETE FROM events")
    with pytest.raises(
        ledger_guard.LedgerDamaged, match="head says seq 5 but the last stored event is seq 0"
    ):
        decide(signed, A, "email", "nieuwsbrief")


def test_a_decision_on_a_truncated_ledger_is_refused_by_the_last_exported_checkpoint(signed: App) -> None:
    recompute_chain(signed, drop_seq=5)  # the objection is gone, the chain and head are whole
    with (
        signed.store.reader() as r,
        pytest.raises(ledger_guard.LedgerDamaged, match="covers 5: events were deleted"),
    ):
        ledger_guard.check(signed, r)


def test_the_api_answers_503_with_the_reason_on_a_wiped_ledger(signed: App) -> None:
    _, token = apikeys.create(signed, "tests", ["read", "write"])
    wipe(signed)
    client = TestClient(create_app(signed))
    auth = {"Authorization": f"Bearer {token}"}
    asked = {"contact": A, "channel": "email", "purpose": "nieuwsbrief"}
    answer = client.get("/v1/decision", params=asked, headers=auth)
    assert answer.status_code == 503, answer.text
    assert "the ledger was wiped" in answer.text
    answer = client.post("/v1/decisions", json={"questions": [asked]}, headers=auth)
    assert answer.status_code == 503 and "the ledger was wiped" in answer.text
    recorded = {"type": "objection.recorded", "contact": A, "scope": "direct_marketing"}
    answer = client.post("/v1/events", json={"events": [recorded]}, headers=auth)
    assert answer.status_code == 503 and "the ledger head is missing" in answer.text


def test_a_campaign_is_not_sent_on_a_wiped_ledger_and_nothing_is_queued(signed: App) -> None:
    campaigns.define(signed, CAMPAIGN)
    wipe(signed)
    with pytest.raises(ledger_guard.LedgerDamaged, match="the ledger was wiped"):
        sending.send(signed, "najaar")
    assert campaigns.progress(signed, "najaar").status is CampaignStatus.DRAFT
