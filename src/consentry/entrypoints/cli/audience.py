"""Who may be reached: `consentry export` (a mail, call or postal list) and `consentry audience`."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from consentry.domain.clock import LOCAL_TZ
from consentry.entrypoints.cli.context import current
from consentry.entrypoints.cli.inputs import moment
from consentry.entrypoints.cli.options import Channel, Kind, Lang, PurposeOpt
from consentry.entrypoints.cli.output import echo_counts, echo_json, err, handled, progress
from consentry.services import audience, export
from consentry.services.errors import InputError

TagOpt = Annotated[str | None, typer.Option("--tag", help="Only contact points with this tag.")]
AttributeOpt = Annotated[
    str | None, typer.Option("--attribute", help="Only contact points whose attribute NAME=VALUE.")
]
SubscribersOpt = Annotated[
    str | None,
    typer.Option("--subscribers-of", help="Only contact points that consented to this purpose."),
]
SourceDetailOpt = Annotated[
    str | None,
    typer.Option("--source-detail", help="Only contact points registered with this source detail (a list)."),
]
LaterAt = Annotated[
    str | None,
    typer.Option("--at", help="Judge for this moment, now or later (e.g. a planned send day)."),
]


@handled
def export_reachable(
    channel: Channel,
    purpose: PurposeOpt,
    kind: Kind = "marketing",
    at: LaterAt = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="CSV file (default: stdout).")] = None,
    no_links: Annotated[bool, typer.Option("--no-links", help="Leave out the personal links.")] = False,
    tag: TagOpt = None,
    attribute: AttributeOpt = None,
    subscribers_of: SubscribersOpt = None,
    source_detail: SourceDetailOpt = None,
) -> None:
    """Export as CSV who a message, call or letter may reach: a mail, call or postal list.

    Each row carries the rule that allows it and the obligations (a call list: offer
    the right to object in each call); everyone else is counted by the rule that
    excludes them.
    """
    a = current()
    when = moment(at)
    sel = audience.parse_selection(tag, attribute, subscribers_of, source_detail)
    if output is None:
        report = export.reachable(
            a, sys.stdout, channel, purpose, kind, when, links=not no_links, selection=sel
        )
    else:
        with output.open("w", encoding="utf-8", newline="") as fh, progress("writing", None, False) as adv:
            report = export.reachable(a, fh, channel, purpose, kind, when, not no_links, adv, sel)
    err(f"{report.included} of {report.considered} may be reached")
    echo_counts("excluded", report.excluded.most_common(), to_err=True)
    echo_counts(
        "review  ",
        report.review.most_common(),
        note=" (not exported: a person must judge these)",
        to_err=True,
    )


@handled
def audience_report(
    campaign: Annotated[
        str | None, typer.Argument(help="A campaign's key; or ask with --channel and --purpose.")
    ] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="email, sms, phone, post ...")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="Purpose key.")] = None,
    kind: Kind = "marketing",
    tag: TagOpt = None,
    attribute: AttributeOpt = None,
    subscribers_of: SubscribersOpt = None,
    source_detail: SourceDetailOpt = None,
    at: LaterAt = None,
    rule: Annotated[
        str | None, typer.Option("--rule", help="List the contact points this rule decided.")
    ] = None,
    verdict: Annotated[
        str | None, typer.Option("--verdict", help="List the contact points with this verdict.")
    ] = None,
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Write the (listed) contact points to this CSV file.")
    ] = None,
    lang: Lang = "nl",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Who a campaign (or a question) may reach, and why each of the rest may not, counted by rule."""
    a = current()
    if campaign is not None:
        if channel or purpose or tag or attribute or subscribers_of or source_detail:
            raise InputError(
                "campaign", "give a campaign, or --channel and --purpose with a selection; not both"
            )
        target, sel = audience.of_campaign(a, campaign)
    else:
        if not channel or not purpose:
            raise InputError("campaign", "give a campaign's key, or --channel and --purpose")
        target = audience.Target.of(channel, purpose, kind)
        sel = audience.parse_selection(tag, attribute, subscribers_of, source_detail)
    when = moment(at)
    if csv_file is not None or rule is not None or verdict is not None:
        rows = audience.members(a, target, sel, when, rule=rule, verdict=verdict)
        if csv_file is None:
            for m in rows:
                typer.echo(f"{m.contact_point_id}  {m.verdict.value:6}  {m.rule.id:24} {m.value}")
            return
        with csv_file.open("w", encoding="utf-8", newline="") as fh:
            n = audience.write_csv(fh, rows, lang)
        err(f"wrote {n} contact point(s) to {csv_file}")
        return
    rep = audience.report(a, target, sel, when)
    if as_json:
        echo_json(audience.report_json(rep, lang), indent=2)
        return
    typer.echo(
        f"{rep.target.channel.value} for {rep.target.purpose} ({rep.target.kind.value}), "
        f"as of {rep.at.astimezone(LOCAL_TZ):%Y-%m-%d %H:%M}; considered: {rep.selection.describe()}"
    )
    typer.echo(f"{rep.considered:>10,}  considered")
    for title, counts in (("may be reached", rep.included), ("excluded", rep.excluded)):
        typer.echo(f"{sum(c.count for c in counts):>10,}  {title}")
        _echo_rules(counts, lang)
    if rep.review:
        typer.echo(f"{rep.review_count:>10,}  to review (a person must judge these; never sent)")
        _echo_rules(rep.review, lang)
    rate = f" ({rep.considered / rep.seconds:,.0f} decisions/s)" if rep.seconds and rep.considered else ""
    err(f"judged in {rep.seconds:.2f} s{rate}")


def _echo_rules(counts: Sequence[audience.RuleCount], lang: str) -> None:
    for c in counts:
        typer.echo(f"{c.count:>14,}  {c.rule.en if lang == 'en' else c.rule.nl} — {c.rule.id}")
