"""`decide` and `explain`: may we contact this person, and why (not)."""

from __future__ import annotations

from typing import Annotated

import typer

from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import moment
from consentry.entrypoints.cli.options import ActivityOpt, At, Channel, Contact, Kind, Lang, PurposeOpt
from consentry.entrypoints.cli.output import echo_json, handled
from consentry.entrypoints.render import decision_json, decision_text
from consentry.policy.rules import Decision
from consentry.services import decide as decide_service
from consentry.services.errors import InputError


def _decide(
    contact: str, channel: str, purpose: str, kind: str, activity: str, at: str | None, lang: str
) -> Decision:
    if lang not in ("nl", "en"):
        raise InputError("lang", "must be nl or en")
    return decide_service.decide(current(), contact, channel, purpose, kind, activity, moment(at))


@handled
def decide(
    contact: Contact,
    channel: Channel,
    purpose: PurposeOpt,
    kind: Kind = "marketing",
    activity: ActivityOpt = "contact",
    at: At = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    lang: Lang = "nl",
) -> None:
    """May we contact this person, over this channel, for this purpose, now (or --at)?"""
    d = _decide(contact, channel, purpose, kind, activity, at, lang)
    if as_json:
        echo_json(decision_json(d, lang))
    else:
        typer.echo(f"{d.verdict.value} ({d.rule}): {d.reasons[0].text(lang)}")


@handled
def explain(
    contact: Contact,
    channel: Channel,
    purpose: PurposeOpt,
    kind: Kind = "marketing",
    activity: ActivityOpt = "contact",
    at: At = None,
    lang: Lang = "nl",
) -> None:
    """The same question as `decide`, answered in full: rules, citations, obligations."""
    d = _decide(contact, channel, purpose, kind, activity, at, lang)
    typer.echo(decision_text(d, lang))
