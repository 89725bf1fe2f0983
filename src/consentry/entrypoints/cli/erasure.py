"""`consentry erase`: erase a contact point or a whole contact, keeping a suppression record."""

from __future__ import annotations

from typing import Annotated

import typer

from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.options import Lang
from consentry.entrypoints.cli.output import echo_json, handled
from consentry.services import erasure
from consentry.services.errors import InputError


@handled
def erase(
    contact: Annotated[
        str,
        typer.Argument(
            help="Contact point id, e-mail address, phone number, postal:… or contact:<contact id>."
        ),
    ],
    reason: Annotated[
        str, typer.Option(help="Why, as a code: request (the person asked) or retention:<policy>.")
    ] = "request",
    whole_contact: Annotated[
        bool, typer.Option("--whole-contact", help="Erase every contact point of the point's contact.")
    ] = False,
    lang: Lang = "nl",
    as_json: Annotated[bool, typer.Option("--json", help="Print what was done as JSON.")] = False,
) -> None:
    """Erase a contact point (GDPR Art. 17): only a suppression record of its address remains.

    The address, name, attributes and IP can no longer be read; re-importing or signing up
    the same address leaves it suppressed until the person confirms a fresh opt-in.
    Erasing what is already erased changes nothing and says so.
    """
    if lang not in ("nl", "en"):
        raise InputError("lang", "must be nl or en")
    report = erasure.erase(current(), contact, reason=reason, whole_contact=whole_contact)
    if as_json:
        echo_json(
            {
                "changed": report.changed,
                "reason": report.reason,
                "erased": [_point(p) for p in report.erased],
                "already_erased": [_point(p) for p in report.already],
                "suppressed_since": report.suppressed_since.isoformat() if report.suppressed_since else None,
                "keys_destroyed": report.keys_destroyed,
                "keys_kept_for": list(report.keys_kept_for),
                "scrubbed": report.scrubbed,
            }
        )
        return
    for line in report.lines(lang):
        typer.echo(line)


def _point(p: erasure.ErasedPoint) -> dict[str, str]:
    return {"id": p.id, "kind": p.kind.value, "suppressed_for": p.what, "at": p.at.isoformat()}
