"""Files uploaded to the admin app, kept on the server's disk until their import is done.

Each upload gets a directory of its own under the uploads root (a random name, so it
cannot be guessed), readable only by this process's user: the file as it came, under
its own name sanitised (a Mailchimp export's status is read from it), and `meta.json`
saying who uploaded it and what has been decided about it since (the column mapping).
An upload belongs to the user who made it; uploads older than `MAX_AGE_S` are removed
whenever another one comes in, so a file with personal data does not stay for good.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

#: How long an upload is kept when its import is never finished.
MAX_AGE_S = 24 * 60 * 60
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_CHUNK = 1 << 20


class UploadTooLarge(Exception):
    """The file is over the limit; nothing of it is kept."""


@dataclass(frozen=True, slots=True)
class Upload:
    """One uploaded file: where it is, who uploaded it, and what was noted about it."""

    id: str
    path: Path
    meta: dict[str, Any]

    @property
    def name(self) -> str:
        """The file's name as uploaded (sanitised)."""
        return self.path.name


def default_root() -> Path:
    """The uploads root when none is configured: a private directory in the system's temp dir."""
    return Path(tempfile.gettempdir()) / f"consentry-uploads-{os.getuid()}"


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._ -]+", "_", base).strip(" .")
    return cleaned[:120] or "upload.csv"


class Uploads:
    """The uploads under one root directory."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_root()

    def _dir(self) -> Path:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        return self.root

    def save(self, source: IO[bytes], name: str, owner: str, max_bytes: int) -> Upload:
        """Keep a file read from `source`; UploadTooLarge (and nothing kept) past `max_bytes`."""
        self.sweep()
        upload_id = secrets.token_urlsafe(18)
        folder = self._dir() / upload_id
        folder.mkdir(mode=0o700)
        path = folder / _safe_name(name)
        size = 0
        try:
            with path.open("xb") as out:
                os.chmod(path, 0o600)
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise UploadTooLarge
                    out.write(chunk)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        meta = {"owner": owner, "name": path.name, "bytes": size, "at": time.time()}
        self._write_meta(folder, meta)
        return Upload(upload_id, path, meta)

    def get(self, upload_id: str, owner: str) -> Upload | None:
        """The upload `owner` made with this id; None when there is none (or it is someone else's)."""
        if not _ID.match(upload_id):
            return None
        folder = self.root / upload_id
        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("owner") != owner:
            return None
        return Upload(upload_id, folder / str(meta["name"]), meta)

    def note(self, upload: Upload, **values: Any) -> Upload:
        """Add values to an upload's notes (e.g. the mapping chosen)."""
        meta = {**upload.meta, **values}
        self._write_meta(upload.path.parent, meta)
        return Upload(upload.id, upload.path, meta)

    def delete(self, upload_id: str) -> None:
        """Remove an upload and its notes."""
        if _ID.match(upload_id):
            shutil.rmtree(self.root / upload_id, ignore_errors=True)

    def sweep(self, max_age_s: float = MAX_AGE_S) -> None:
        """Remove uploads older than `max_age_s`."""
        cutoff = time.time() - max_age_s
        for folder in self._folders():
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                continue

    def _folders(self) -> Iterator[Path]:
        if self.root.is_dir():
            yield from (p for p in self.root.iterdir() if p.is_dir() and _ID.match(p.name))

    @staticmethod
    def _write_meta(folder: Path, meta: dict[str, Any]) -> None:
        tmp = folder / "meta.json.tmp"
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(folder / "meta.json")
