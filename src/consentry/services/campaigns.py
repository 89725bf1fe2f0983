"""Defining campaigns, checking their templates, and reporting how sending goes.

A campaign's words are Jinja2 templates, rendered in a sandbox with strict
undefined names. The fields a template may use are `name`, `address` and
`attributes.NAME`; a syntax error or any other name is refused when the
campaign is defined, with the field it is in (`content.en.body`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from consentry.adapters.addresses import AddressError, normalise_email
from consentry.domain.campaigns import Campaign, CampaignError, CampaignStatus, campaign_from_json
from consentry.domain.users import AuditAction, AuditEntry
from consentry.policy.factrows import attribute_unselectable
from consentry.services.app import App
from consentry.services.errors import AlreadyExists, InputError
from consentry.services.ports import CampaignReader

#: The names a template may use.
FIELDS = frozenset({"name", "address", "attributes"})

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


def template(source: str, field: str) -> Template:
    """Compile one template; InputError naming the field for bad syntax or an unknown name."""
    try:
        parsed = _env.parse(source)
    except TemplateSyntaxError as exc:
        raise InputError(field, f"template error on line {exc.lineno}: {exc.message}") from None
    if any(True for _ in meta.find_referenced_templates(parsed)):
        raise InputError(field, "a template cannot include, import or extend other templates")
    unknown = sorted(meta.find_undeclared_variables(parsed) - FIELDS)
    if unknown:
        raise InputError(
            field,
            f"unknown field {unknown[0]!r}; a template may use {{{{ name }}}}, {{{{ address }}}} "
            "and {{ attributes.NAME }}",
        )
    return _env.from_string(source)


def templates(c: Campaign) -> dict[str, tuple[Template | None, Template]]:
    """Each language's compiled (subject, body) templates."""
    out: dict[str, tuple[Template | None, Template]] = {}
    for lang, words in c.content.items():
        subject = template(words.subject, f"content.{lang}.subject") if words.subject else None
        out[lang] = (subject, template(words.body, f"content.{lang}.body"))
    return out


def parse(doc: Any) -> Campaign:
    """A campaign from its definition, templates compiled; InputError naming the field otherwise."""
    try:
        c = campaign_from_json(doc)
    except CampaignError as exc:
        raise InputError(exc.field, exc.message) from None
    if c.selection.attribute is not None:
        unselectable = attribute_unselectable(*c.selection.attribute)
        if unselectable is not None:
            raise InputError("selection.attribute", unselectable)
    templates(c)
    for where, address in (("sender.email", c.sender.email), ("sender.reply_to", c.sender.reply_to)):
        if address is not None:
            try:
                normalise_email(address)
            except AddressError as exc:
                raise InputError(where, str(exc)) from None
    return c


def define(app: App, doc: Any, replace: bool = False, actor: str | None = None) -> Campaign:
    """Store a campaign as a draft; with `replace`, redefine a draft that has not been sent.

    With an `actor` (a user of the admin app) the admin audit log records who did it, in the
    same transaction as the change.
    """
    c = parse(doc)
    now = app.clock.now()
    try:
        with app.store.writer() as w:
            for where, key in (
                ("purpose", c.purpose),
                ("selection.subscribers_of", c.selection.subscribers_of),
            ):
                if key is not None and w.purpose(key) is None:
                    raise InputError(where, f"unknown purpose {key!r}; see `consentry purposes list`")
            existing = w.campaign(c.key)
            if existing is None:
                w.insert_campaign(c.key, c.to_json(), now)
            elif not replace:
                raise CampaignExists("key", f"campaign {c.key!r} exists; replace it to change a draft")
            elif existing["status"] != CampaignStatus.DRAFT.value:
                raise CampaignExists(
                    "key", f"campaign {c.key!r} is {existing['status']}: it can no longer change"
                )
            else:
                w.replace_campaign(c.key, c.to_json(), now)
            if actor is not None:
                w.record_audit(
                    AuditEntry(now, actor, AuditAction.CAMPAIGN_SAVED, c.key, {"replaced": replace})
                )
    except AlreadyExists:
        raise CampaignExists("key", f"campaign {c.key!r} was defined at the same time; try again") from None
    return c


class CampaignExists(InputError):
    """A campaign with this key exists (and may not be replaced)."""


class UnknownCampaign(InputError):
    """No campaign has this key."""


@dataclass(frozen=True, slots=True)
class Progress:
    """A campaign with where its sending stands."""

    campaign: Campaign
    status: CampaignStatus
    errors: int
    note: str | None
    counts: dict[str, int]
    skipped_by_rule: dict[str, int]
    created_at: datetime
    updated_at: datetime
    #: People the campaign reached who unsubscribed after their message was sent.
    unsubscribed_since: int = 0

    @property
    def total(self) -> int:
        """Every message the campaign considered."""
        return sum(self.counts.values())


def stored(r: CampaignReader, key: str, lock: bool = False) -> dict[str, Any]:
    """A campaign's stored row, read in the caller's transaction; UnknownCampaign when there is none."""
    row = r.campaign(key, lock=lock)
    if row is None:
        raise UnknownCampaign("campaign", f"no campaign {key!r}; see `consentry campaign list`")
    return row


def get(app: App, key: str) -> Campaign:
    """A stored campaign; UnknownCampaign when there is none."""
    with app.store.reader() as r:
        return campaign_from_json(stored(r, key)["definition"])


def progress(app: App, key: str) -> Progress:
    """A campaign with its message counts by status and its exclusions by rule."""
    with app.store.reader() as r:
        row = stored(r, key)
        found = _progress(row, r.message_counts(key), r.skipped_by_rule(key))
        return replace(found, unsubscribed_since=r.unsubscribed_since(key))


def list_all(app: App) -> list[Progress]:
    """Every campaign with its counts, newest first."""
    with app.store.reader() as r:
        return [
            _progress(row, r.message_counts(row["key"]), r.skipped_by_rule(row["key"]))
            for row in r.campaign_rows()
        ]


def _progress(row: dict[str, Any], counts: dict[str, int], skipped: dict[str, int]) -> Progress:
    return Progress(
        campaign=campaign_from_json(row["definition"]),
        status=CampaignStatus(row["status"]),
        errors=int(row["errors"]),
        note=row["note"],
        counts=counts,
        skipped_by_rule=skipped,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
