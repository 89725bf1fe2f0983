"""Signed checkpoints: sign the ledger's head and Merkle root, and export them out of the database.

A checkpoint is only worth something where the database's writers cannot reach it,
so each one goes, in this order, to the checkpoint file (appended, fsynced), to the
checkpoint webhook and to the privacy officer's mailbox, as configured. Before
signing, the ledger is held against the last exported checkpoint: a ledger that no
longer holds what was signed is refused a new signature (the old one would otherwise
be drowned out by new ones vouching for the rewritten history).
"""

from __future__ import annotations

import json
import os
import time
from base64 import b64encode
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from consentry.adapters import signing, webhook
from consentry.adapters.mailer import SmtpMailer
from consentry.domain.chain import ChainEpoch
from consentry.domain.checkpoint import Checkpoint, CheckpointFormatError, read_lines
from consentry.domain.merkle import Frontier, leaf_of_chain_hash
from consentry.services.app import App
from consentry.services.errors import InputError, MailError
from consentry.settings import Settings


class CheckpointRefused(RuntimeError):
    """The ledger cannot be vouched for: it no longer holds what an earlier checkpoint signed."""


@dataclass(frozen=True, slots=True)
class Exported:
    """A signed checkpoint and where it went (and where it could not go, and why)."""

    checkpoint: Checkpoint
    sent_to: list[str]
    failed: list[str]


def signer_for(settings: Settings) -> signing.Signer:
    """The checkpoint key named in the settings; a clear error when there is none."""
    if not settings.checkpoint_key_file:
        raise InputError(
            "checkpoint_key_file",
            "no checkpoint key: set CONSENTRY_CHECKPOINT_KEY_FILE (make one with `consentry ledger keygen`)",
        )
    try:
        return signing.load_signer(Path(settings.checkpoint_key_file))
    except signing.KeyFileError as exc:
        raise InputError("checkpoint_key_file", str(exc)) from None


def public_key(settings: Settings, given: str | None) -> signing.PublicKey:
    """The key checkpoints are checked with: the one given, else the configured key's public half."""
    if not given and not settings.checkpoint_key_file:
        raise InputError(
            "public-key",
            "give --public-key KEY (as `consentry ledger keygen` printed it) to check the checkpoints with",
        )
    try:
        return signing.load_public(given) if given else signer_for(settings).public
    except signing.KeyFileError as exc:
        raise InputError("public-key", str(exc)) from None


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint in a file (one JSON object, or a checkpoint log of JSON lines)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), f"cannot read ({exc.strerror})") from None
    try:
        return read_lines(text, str(path))
    except CheckpointFormatError as exc:
        raise InputError(str(path), str(exc)) from None


def last_exported(settings: Settings) -> Checkpoint | None:
    """The newest checkpoint in the configured checkpoint file, if there is one.

    Only the file's tail is read: a year of checkpoints every five minutes is 30 MB.
    """
    if not settings.checkpoint_file:
        return None
    path = Path(settings.checkpoint_file)
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - _TAIL))
            tail = f.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(str(path), f"cannot read ({exc.strerror})") from None
    lines = [line for line in tail.splitlines() if line.strip()]
    if not lines:
        return None
    if size <= _TAIL and not lines[-1].startswith("{"):  # one pretty-printed checkpoint
        return read_checkpoints(path)[-1]
    try:
        return read_lines(lines[-1], f"{path} (its last line)")[-1]
    except CheckpointFormatError as exc:
        raise InputError(str(path), str(exc)) from None


#: How much of the checkpoint file's end is read for its last checkpoint (a line is ~300 bytes).
_TAIL = 8192


def audit_head(app: App) -> tuple[int, str] | None:
    """The admin audit log's head (entries, last hash) as stored; None when its row is gone."""
    with app.store.reader() as r:
        return r.audit_log_head()


def sign(
    app: App, signer: signing.Signer, frontier: Frontier, head: str, audit: tuple[int, str] | None = None
) -> Checkpoint:
    """A checkpoint of a tree and of the admin audit log's head (`audit`, default: as it is now), signed."""
    audit = audit or audit_head(app)
    if audit is None:
        raise CheckpointRefused(
            "the admin audit log's head is missing; not signing: run `consentry ledger verify`"
        )
    cp = Checkpoint(
        origin=app.settings.checkpoint_origin,
        size=frontier.size,
        head=head,
        root=frontier.root().hex(),
        time=app.clock.now(),
        key_id=signer.public.id,
        audit=audit,
    )
    return replace(cp, signature=b64encode(signer.sign(cp.signed_bytes())).decode())


def make(app: App, signer: signing.Signer | None = None) -> Checkpoint:
    """Sign a checkpoint of the ledger as it is now, after holding it (and the admin audit log)
    against the last one exported."""
    signer = signer or signer_for(app.settings)
    frontier = Frontier()
    previous = last_exported(app.settings)
    head = grow(app, frontier, previous)
    if previous is not None and previous.audit is not None:
        with app.store.reader() as r:
            held = r.audit_log_hash_at(previous.audit[0]) if previous.audit[0] else "0" * 64
        if held != previous.audit[1]:
            raise CheckpointRefused(
                f"the admin audit log's first {previous.audit[0]} entries no longer match the last "
                f"checkpoint ({previous.time.isoformat()}): the audit log was rewritten or truncated; "
                "not signing"
            )
    return sign(app, signer, frontier, head)


def grow(app: App, frontier: Frontier, previous: Checkpoint | None) -> str:
    """Add the events after the frontier's size up to the ledger head; returns the head's hash.

    Refuses (CheckpointRefused) a ledger whose events have gaps, do not end at its
    head, or whose start no longer matches `previous`.
    """
    start = frontier.size
    last = ""
    with app.store.reader() as r:
        epoch = r.chain_epoch()
        if previous is not None and epoch is not None and previous.time < epoch.started_at:
            _hold_across(previous, epoch)
            previous = None  # it signed the chain before the upgrade: the new one starts afresh
        head_seq, head_hash = r.head()
        for seq, h in r.chain_hashes(head_seq, after=start):
            if seq != frontier.size + 1:
                raise CheckpointRefused(
                    f"events missing before seq {seq}: not signing; run `consentry ledger verify`"
                )
            frontier.append(leaf_of_chain_hash(h))
            last = h
            if previous is not None and frontier.size == previous.size:
                _hold_against(previous, frontier, h)
    if previous is not None and frontier.size < previous.size:
        raise CheckpointRefused(
            f"the ledger has {frontier.size} events but the last checkpoint ({previous.time.isoformat()}) "
            f"covered {previous.size}: events were deleted; not signing"
        )
    if frontier.size != head_seq or (last and last != head_hash):
        raise CheckpointRefused(
            f"the stored events do not end at the ledger head (seq {head_seq}); not signing"
        )
    return last or head_hash


def _hold_across(previous: Checkpoint, epoch: ChainEpoch) -> None:
    """Refuse unless a checkpoint of the chain before `epoch` agrees with the head it recorded."""
    seq, head = epoch.previous_head_seq, epoch.previous_head_hash
    if previous.size > seq or (previous.size == seq and previous.head != head):
        raise CheckpointRefused(
            f"the last checkpoint ({previous.time.isoformat()}) signed seq {previous.size} with hash "
            f"{previous.head}, but the chain upgraded on {epoch.started_at.isoformat()} ended at seq {seq} "
            f"with hash {head}: the chain was changed before the upgrade; not signing"
        )


def _hold_against(previous: Checkpoint, frontier: Frontier, head: str) -> None:
    if frontier.root().hex() != previous.root or head != previous.head:
        raise CheckpointRefused(
            f"the first {previous.size} events no longer match the last checkpoint "
            f"({previous.time.isoformat()}): the ledger was rewritten; not signing"
        )


def export(app: App, cp: Checkpoint) -> Exported:
    """Send a signed checkpoint everywhere the settings say; the file first."""
    s = app.settings
    sent: list[str] = []
    failed: list[str] = []
    if s.checkpoint_file:
        append_line(Path(s.checkpoint_file), cp.line())
        sent.append(s.checkpoint_file)
    if s.checkpoint_webhook_url:
        try:
            post(s, cp)
            sent.append(s.checkpoint_webhook_url)
        except httpx.HTTPError as exc:
            failed.append(f"{s.checkpoint_webhook_url}: {type(exc).__name__} {exc}")
    if s.checkpoint_mail_to:
        try:
            mail(app, cp)
            sent.append(s.checkpoint_mail_to)
        except MailError as exc:
            failed.append(f"{s.checkpoint_mail_to}: {exc}")
    return Exported(cp, sent, failed)


def append_line(path: Path, line: str) -> None:
    """Append one line to a file and make sure it is on disk before going on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def post(s: Settings, cp: Checkpoint) -> None:
    """POST the checkpoint as JSON, HMAC-signed as the webhook transport signs (when a secret is set)."""
    assert s.checkpoint_webhook_url
    body = cp.line().encode()
    headers = {"Content-Type": "application/json"}
    if s.webhook_secret:
        stamp = str(int(time.time()))
        headers[webhook.TIMESTAMP_HEADER] = stamp
        headers[webhook.SIGNATURE_HEADER] = webhook.sign(s.webhook_secret, stamp, body)
    response = httpx.post(s.checkpoint_webhook_url, content=body, headers=headers, timeout=s.webhook_timeout)
    response.raise_for_status()


def mail(app: App, cp: Checkpoint) -> None:
    """E-mail the checkpoint (as its JSON line, to keep and to give to `ledger verify --checkpoint`)."""
    assert app.settings.checkpoint_mail_to
    text = (
        "Ondertekend controlepunt van het consentry-grootboek: bewaar deze e-mail.\n"
        "Signed checkpoint of the consentry ledger: keep this e-mail.\n\n"
        f"{cp.size} events, {cp.time.isoformat()}\n\n"
        "consentry ledger verify --checkpoint FILE  (FILE: the line below)\n\n"
        f"{cp.line()}\n"
    )
    subject = f"consentry checkpoint {cp.origin} #{cp.size}"
    mailer = SmtpMailer(app.settings)  # the settings as they are now (a test or a run may change them)
    mailer.send(mailer.new_message(app.settings.checkpoint_mail_to, subject, text))


def checkpoint(app: App) -> Exported:
    """Sign a checkpoint of the ledger now and export it."""
    return export(app, make(app))


def pretty(cp: Checkpoint) -> str:
    """A checkpoint as indented JSON."""
    return json.dumps(cp.to_json(), indent=2, ensure_ascii=False)
