"""Checkpoints as files: JSON lines or one pretty object, signed and checked with Ed25519 keys."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consentry.adapters import signing
from consentry.domain.checkpoint import Checkpoint, CheckpointFormatError, read_lines
from consentry.services import checkpoints
from consentry.services.errors import InputError
from consentry.settings import Settings

CP = Checkpoint("consentry", 3, "a" * 64, "b" * 64, datetime(2026, 12, 6, 3, 0, tzinfo=UTC), "k", "c2ln")


def test_a_checkpoint_reads_back_from_a_line_and_from_a_pretty_printed_file() -> None:
    assert read_lines(CP.line() + "\n" + replace(CP, size=4).line(), "log") == [CP, replace(CP, size=4)]
    assert read_lines(json.dumps(CP.to_json(), indent=2), "one.json") == [CP]


def test_a_bad_line_is_named_by_file_and_line() -> None:
    with pytest.raises(CheckpointFormatError, match="log, line 2: not JSON"):
        read_lines(CP.line() + "\n{oops\n", "log")
    with pytest.raises(CheckpointFormatError, match="log, line 1: not a consentry-checkpoint"):
        read_lines('{"format": "other"}', "log")
    with pytest.raises(CheckpointFormatError, match="empty"):
        read_lines("\n", "log")


def test_the_signature_covers_every_field_but_itself(tmp_path: Path) -> None:
    key = signing.generate(tmp_path / "k.pem")
    signed = replace(CP, signature=base64.b64encode(key.sign(CP.signed_bytes())).decode())
    assert key.public.verifies(signed.signed_bytes(), signed.signature_bytes())
    for changed in (replace(signed, size=4), replace(signed, root="c" * 64), replace(signed, origin="x")):
        assert not key.public.verifies(changed.signed_bytes(), changed.signature_bytes())


def test_a_key_file_is_never_overwritten_and_its_public_half_loads_from_every_form(tmp_path: Path) -> None:
    key = signing.generate(tmp_path / "k.pem")
    with pytest.raises(signing.KeyFileError, match="already there"):
        signing.generate(tmp_path / "k.pem")
    assert (tmp_path / "k.pem").stat().st_mode & 0o777 == 0o600
    (tmp_path / "k.pub").write_text(key.public.text() + "\n")
    for given in (key.public.text(), str(tmp_path / "k.pub"), str(tmp_path / "k.pem")):
        assert signing.load_public(given) == key.public
    with pytest.raises(signing.KeyFileError, match="neither a key file nor a base64"):
        signing.load_public("not-a-key")


def test_the_last_exported_checkpoint_is_read_from_the_files_tail(tmp_path: Path) -> None:
    log = tmp_path / "cps.jsonl"
    settings = Settings(checkpoint_file=str(log))
    assert checkpoints.last_exported(settings) is None
    for n in range(1, 200):
        checkpoints.append_line(log, replace(CP, size=n).line())
    last = checkpoints.last_exported(settings)
    assert last is not None and last.size == 199
    log.write_text(json.dumps(CP.to_json(), indent=2))
    assert checkpoints.last_exported(settings) == CP
    log.write_text(CP.line() + "\nnot json\n")
    with pytest.raises(InputError, match="line 2: not JSON"):
        checkpoints.last_exported(settings)


def test_a_version_1_line_is_read_and_signed_over_as_it_was_before_the_audit_head() -> None:
    line = (
        '{"format":"consentry-checkpoint","head":"' + "a" * 64 + '","key_id":"k","origin":"consentry",'
        '"root":"' + "b" * 64 + '","signature":"c2ln","size":3,"time":"2026-12-06T03:00:00+00:00","v":1}'
    )
    (old,) = read_lines(line, "old.jsonl")
    assert old == CP and old.version == 1 and old.line() == line
    assert old.signed_bytes() == (
        b'{"format":"consentry-checkpoint","head":"' + b"a" * 64 + b'","origin":"consentry","root":"'
        + b"b" * 64 + b'","size":3,"time":"2026-12-06T03:00:00+00:00","v":1}'
    )  # fmt: skip


def test_a_version_2_checkpoint_signs_the_audit_head_and_reads_back() -> None:
    new = replace(CP, audit=(12, "d" * 64))
    assert new.version == 2 and new.line().startswith('{"format":"consentry-checkpoint","audit":')
    assert b'"audit":{"head":"' + b"d" * 64 + b'","size":12}' in new.signed_bytes()
    assert read_lines(new.line(), "log") == [new]
    assert replace(new, audit=(11, "d" * 64)).signed_bytes() != new.signed_bytes()
    broken = new.to_json() | {"audit": {"size": 12}}
    with pytest.raises(CheckpointFormatError, match="missing or bad field"):
        read_lines(json.dumps(broken), "log")
    with pytest.raises(CheckpointFormatError, match="audit log's size or head"):
        read_lines(json.dumps(new.to_json() | {"audit": {"size": 12, "head": "short"}}), "log")
