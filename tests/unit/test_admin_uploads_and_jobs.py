"""The admin app's uploads (kept per user, capped, swept), its background jobs, and the body caps."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from consentry.adapters.uploads import Uploads, UploadTooLarge
from consentry.domain import limits
from consentry.entrypoints.body_limit import _cap
from consentry.entrypoints.web.admin_jobs import Job, Jobs
from consentry.services.errors import InputError


def test_an_upload_is_kept_privately_under_a_safe_name_for_its_uploader_only(tmp_path: Path) -> None:
    uploads = Uploads(tmp_path / "up")
    kept = uploads.save(io.BytesIO(b"a;b\r\n1;2\r\n"), "../../etc/klanten lijst.csv", "u_1", 1000)
    assert kept.path.read_bytes() == b"a;b\r\n1;2\r\n"
    assert kept.name == "klanten lijst.csv" and kept.path.parent.parent == tmp_path / "up"
    assert os.stat(kept.path).st_mode & 0o777 == 0o600
    assert os.stat(tmp_path / "up").st_mode & 0o777 == 0o700
    assert uploads.get(kept.id, "u_1") == kept
    assert uploads.get(kept.id, "u_2") is None  # someone else's
    assert uploads.get("../" + kept.id, "u_1") is None
    noted = uploads.note(kept, kind="csv")
    assert uploads.get(kept.id, "u_1") == noted and noted.meta["kind"] == "csv"
    uploads.delete(kept.id)
    assert uploads.get(kept.id, "u_1") is None


def test_an_upload_over_the_limit_is_refused_and_nothing_of_it_stays(tmp_path: Path) -> None:
    uploads = Uploads(tmp_path)
    with pytest.raises(UploadTooLarge):
        uploads.save(io.BytesIO(b"x" * 5000), "groot.csv", "u_1", 4000)
    assert list(tmp_path.iterdir()) == []


def test_uploads_older_than_a_day_are_swept_when_another_comes_in(tmp_path: Path) -> None:
    uploads = Uploads(tmp_path)
    old = uploads.save(io.BytesIO(b"a\n"), "oud.csv", "u_1", 100)
    day_ago = time.time() - 25 * 60 * 60
    os.utime(old.path.parent, (day_ago, day_ago))
    new = uploads.save(io.BytesIO(b"b\n"), "nieuw.csv", "u_1", 100)
    assert uploads.get(old.id, "u_1") is None and uploads.get(new.id, "u_1") is not None


def _wait(job: Job) -> Job:
    deadline = time.monotonic() + 5
    while job.running:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    return job


def test_a_job_runs_in_the_background_once_and_keeps_its_result_or_its_input_error() -> None:
    jobs = Jobs()

    def work(job: Job) -> int:
        job.advance(3)
        time.sleep(0.05)
        return 42

    first = jobs.start("import:x", "u_1", "dry_run", work, total=3)
    assert jobs.start("import:x", "u_1", "dry_run", work) is first  # running: not started twice
    assert (_wait(first).state, first.result, first.done) == ("done", 42, 3)

    def bad(job: Job) -> None:
        raise InputError("purpose", "unknown purpose 'x'")

    failed = _wait(jobs.start("import:x", "u_1", "run", bad))
    assert (failed.state, failed.error) == ("failed", ("purpose", "unknown purpose 'x'"))

    def broken(job: Job) -> None:
        raise RuntimeError("disk full at /secret/path")

    crashed = _wait(jobs.start("import:y", "u_1", "run", broken))
    assert crashed.error == ("", "RuntimeError")  # no details on the page; they are in the log


def test_the_import_upload_and_the_admin_pages_may_post_more_than_the_public_pages() -> None:
    assert _cap({"path": "/admin/import"}) == limits.UPLOAD_BYTES
    assert _cap({"path": "/admin/campaigns/_new"}) == limits.ADMIN_BYTES
    assert _cap({"path": "/admin/import/abc"}) == limits.ADMIN_BYTES
    assert _cap({"path": "/f/nieuwsbrief"}) == limits.PAGE_BYTES
    assert _cap({"path": "/v1/events"}) == limits.REQUEST_BYTES
    assert limits.PAGE_BYTES < limits.ADMIN_BYTES < limits.REQUEST_BYTES < limits.UPLOAD_BYTES
