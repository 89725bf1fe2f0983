"""`consentry ledger`: append documented events, verify the chain against signed checkpoints and the
projections against the ledger, rebuild the state; make the checkpoint key, checkpoints and proofs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from consentry.adapters import signing
from consentry.domain.checkpoint import Checkpoint
from consentry.domain.merkle import ProofError
from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import lines
from consentry.entrypoints.cli.output import echo_json, err, handled, progress
from consentry.services import audit, checkpoints, integrity, ledger, proofs
from consentry.services.errors import InputError

app = typer.Typer(help="Append to, verify and rebuild the ledger.", no_args_is_help=True)
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


@app.command("append")
@handled
def ledger_append(
    file: Annotated[str, typer.Argument(help="JSON lines file (one event per line), or - for stdin.")],
    quiet: Quiet = False,
) -> None:
    """Append documented events (docs/events.md); all or nothing."""
    a = current()
    with lines(file) as (found, total), progress("appending", total, quiet) as advance:
        report = ledger.append_lines(a, found, advance)
    typer.echo(
        f"appended {report.appended} events ({report.registered} new contact points)"
        + (f", seq {report.first_seq}-{report.last_seq}" if report.first_seq else "")
    )


#: How many differing contact points `ledger verify` names (a wiped ledger makes them all differ).
SHOWN = 50


@app.command("verify")
@handled
def ledger_verify(
    quiet: Quiet = False,
    checkpoint: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoint",
            help="Signed checkpoint file (one checkpoint or a log of them); repeat for more. "
            "Default: the configured checkpoint_file.",
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option("--public-key", help="Base64 public key or key file; default: the configured key's."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="Fold a random sample of contact points, not all of them.")
    ] = False,
    sample: Annotated[int, typer.Option(help="How many contact points --quick folds.")] = 1000,
) -> None:
    """Recompute the hash chains of the ledger and of the admin audit log, hold both against signed
    checkpoints and the projections against the ledger; report every edited, removed, reordered or
    rewritten event or audit entry and every differing row."""
    a = current()
    with progress("verifying", None, quiet) as advance:
        report = integrity.verify_ledger(a, advance)
    bad = 0
    for p in report.problems:
        err(f"seq {p.seq} ({p.event_id}): {p.problem}")
    bad += len(report.problems)
    logged = integrity.verify_audit_log(a)
    for q in logged.problems:
        err(f"admin audit log, {q.where}: {q.problem}")
    bad += len(logged.problems)
    if logged.ok:
        typer.echo(f"admin audit log intact: {logged.entries} entries, head at #{logged.entries}")
    configured = Path(a.settings.checkpoint_file) if a.settings.checkpoint_file else None
    files = checkpoint or ([configured] if configured is not None and configured.exists() else [])
    found = [cp for f in files for cp in checkpoints.read_checkpoints(f)]
    if found:
        held = audit.verify_checkpoints(a, found, checkpoints.public_key(a.settings, public_key))
        for note in held.notes:
            typer.echo(note)
        for problem in held.problems:
            err(problem)
        bad += len(held.problems)
        if held.ok:
            typer.echo(f"checkpoints hold: {len(found)} signed, the last at #{max(c.size for c in found)}")
    else:
        err("no checkpoint given (--checkpoint FILE): a truncated or wiped ledger cannot be told from here")
    folded = audit.verify_projection(a, sample if quick else None)
    for difference in folded.differences[:SHOWN]:
        err(difference)
    if len(folded.differences) > SHOWN:
        err(f"... and {len(folded.differences) - SHOWN} more contact points whose projection differs")
    bad += len(folded.differences)
    if folded.ok:
        typer.echo(f"projection equals the ledger for {folded.checked} of {folded.of} contact points")
    if report.epoch is not None:
        e = report.epoch
        typer.echo(
            f"chain epoch {e.epoch} (since {e.started_at.isoformat()}) continues the earlier chain, whose "
            f"head was seq {e.previous_head_seq} with hash {e.previous_head_hash} (docs/ledger.md)"
        )
    if not bad:
        typer.echo(f"ledger intact: {report.events} events, head at seq {report.head_seq}")
        return
    err(f"ledger NOT intact: {bad} problem(s) in {report.events} events")
    raise typer.Exit(1)


@app.command("rebuild")
@handled
def ledger_rebuild() -> None:
    """Rebuild every contact point's current state from the ledger."""
    n = integrity.rebuild_projection(current())
    typer.echo(f"rebuilt the state of {n} contact points from the ledger")


KeyFile = Annotated[
    Path | None, typer.Option("--key-file", help="Where the private key goes; default: checkpoint_key_file.")
]


@app.command("keygen")
@handled
def ledger_keygen(key_file: KeyFile = None) -> None:
    """Make the Ed25519 key that signs checkpoints; prints its public half for verifiers."""
    path = key_file or _key_path()
    try:
        key = signing.generate(path)
    except signing.KeyFileError as exc:
        raise InputError("key-file", str(exc)) from None
    typer.echo(f"wrote {path} (keep it off the database server and out of its backups)")
    typer.echo(f"public key (id {key.public.id}), give it to whoever verifies:")
    typer.echo(key.public.text())


@app.command("public-key")
@handled
def ledger_public_key(key_file: KeyFile = None) -> None:
    """Print the checkpoint key's public half (base64), which verifiers need."""
    a = current()
    settings = (
        a.settings.model_copy(update={"checkpoint_key_file": str(key_file)}) if key_file else a.settings
    )
    typer.echo(checkpoints.signer_for(settings).public.text())


def _key_path() -> Path:
    name = current().settings.checkpoint_key_file
    if not name:
        raise InputError("key-file", "give --key-file or set CONSENTRY_CHECKPOINT_KEY_FILE")
    return Path(name)


@app.command("checkpoint")
@handled
def ledger_checkpoint(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing unless it fails.")] = False,
) -> None:
    """Sign a checkpoint of the ledger now and export it (file, webhook, mail); cron can run this."""
    a = current()
    done = checkpoints.checkpoint(a)
    for failure in done.failed:
        err(f"error: checkpoint not delivered to {failure}")
    if not done.sent_to:
        err("no checkpoint_file, checkpoint_webhook_url or checkpoint_mail_to set: keep this one yourself")
        typer.echo(checkpoints.pretty(done.checkpoint))
    elif not quiet:
        cp = done.checkpoint
        typer.echo(f"signed checkpoint #{cp.size} (root {cp.root[:16]}...) sent to {', '.join(done.sent_to)}")
    if done.failed:
        raise typer.Exit(1)


def _one_checkpoint(path: Path | None, what: str) -> Checkpoint:
    """The last checkpoint in a file, or the last exported one."""
    if path is not None:
        return checkpoints.read_checkpoints(path)[-1]
    cp = checkpoints.last_exported(current().settings)
    if cp is None:
        raise InputError(what, f"give {what} FILE (no checkpoint_file with checkpoints is configured)")
    return cp


@app.command("prove")
@handled
def ledger_prove(
    event: Annotated[str, typer.Option("--event", help="Id of the event (a consent, say) to prove.")],
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="Checkpoint file (its last); default the last exported."),
    ] = None,
) -> None:
    """Print the proof (JSON) that an event is in a signed checkpoint; `ledger check-proof` checks it."""
    a = current()
    proof = proofs.inclusion(a, event, _one_checkpoint(checkpoint, "--checkpoint"))
    echo_json(proof, indent=2)


@app.command("consistency")
@handled
def ledger_consistency(
    old: Annotated[Path, typer.Option("--old", help="The earlier checkpoint (a file; its last).")],
    new: Annotated[
        Path | None,
        typer.Option("--new", help="The later checkpoint (a file; its last); default the last exported."),
    ] = None,
) -> None:
    """Print the proof (JSON) that a later checkpoint holds an earlier one's events unchanged."""
    a = current()
    proof = proofs.consistency(a, _one_checkpoint(old, "--old"), _one_checkpoint(new, "--new"))
    echo_json(proof, indent=2)


@app.command("check-proof")
@handled
def ledger_check_proof(
    proof: Annotated[Path, typer.Argument(help="Proof file from `ledger prove` or `ledger consistency`.")],
    public_key: Annotated[str, typer.Option("--public-key", help="Base64 public key or key file.")],
) -> None:
    """Check a proof with the public key alone; the database is not opened."""
    try:
        key = signing.load_public(public_key)
    except signing.KeyFileError as exc:
        raise InputError("public-key", str(exc)) from None
    try:
        typer.echo(proofs.check(proof.read_text(encoding="utf-8"), key))
    except ProofError as exc:
        err(f"proof does NOT hold: {exc}")
        raise typer.Exit(1) from None
