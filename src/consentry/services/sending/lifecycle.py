"""A campaign's life as the operator drives it: start, send, pause and resume.

Starting fills the queue; `send` makes this process one worker of the campaign
(`consentry.services.sending.coordinator`) until nothing is left. Pausing and
resuming change the status every worker reads at its next claim.
"""

from __future__ import annotations

from collections.abc import Callable

from consentry.adapters import webhook
from consentry.adapters.smtp_pipeline import SmtpTransport
from consentry.adapters.transport import Transport
from consentry.domain.campaigns import Campaign, CampaignStatus, campaign_from_json
from consentry.domain.vocabulary import Channel
from consentry.services import audience, campaigns, ledger_guard
from consentry.services.app import App
from consentry.services.errors import InputError
from consentry.services.sending.coordinator import Coordinator
from consentry.services.sending.model import CampaignNotSendable, Progress, SendOptions, SendReport


def start(app: App, key: str) -> CampaignStatus:
    """Fill a draft's queue from its audience and mark it sending (a no-op in any other state).

    MissingSecret when production has no usable secret key: every message carries signed
    links, so nothing is queued that could not be sent.
    """
    app.signer()
    now = app.clock.now()
    # One write transaction like any other (SQLite: the connection's default page cache). The
    # queue is appended to at its key's right-hand end and the fill writes no entry of its other
    # index, so the bulk load's 128 MB cache (`Store.bulk_writers`, used here when the queue had
    # three indexes) kept nothing worth keeping, and each fill faulted it in (docs/performance.md,
    # session 10). The commit's automatic checkpoint (the `Checkpointer`, serving) writes the log back.
    with app.store.writer() as w:
        row = campaigns.stored(w, key, lock=True)
        status = CampaignStatus(row["status"])
        if status is not CampaignStatus.DRAFT:
            return status
        c = campaign_from_json(row["definition"])
        target = audience.Target(c.channel, c.purpose, c.kind)
        w.fill_queue(key, audience.build(w, app.pack, target, c.selection, now), now)
        w.set_campaign_status(key, CampaignStatus.SENDING, now)
    return CampaignStatus.SENDING


def resume(app: App, key: str) -> None:
    """Let a paused campaign send again, its error count reset."""
    with app.store.writer() as w:
        row = campaigns.stored(w, key, lock=True)
        if row["status"] == CampaignStatus.PAUSED.value:
            w.set_campaign_status(key, CampaignStatus.SENDING, app.clock.now(), reset_errors=True)


def pause(app: App, key: str, note: str) -> None:
    """Pause a sending campaign; its workers stop after the messages they are sending."""
    with app.store.writer() as w:
        row = w.campaign(key, lock=True)
        if row is not None and row["status"] == CampaignStatus.SENDING.value:
            w.set_campaign_status(key, CampaignStatus.PAUSED, app.clock.now(), note)


def default_transport(app: App, c: Campaign) -> Transport:
    """The transport the settings give for the campaign's channel."""
    if c.channel is Channel.EMAIL:
        return SmtpTransport(app.settings)
    try:
        return webhook.transport_for(app.settings)
    except webhook.NoWebhook as exc:
        raise CampaignNotSendable("channel", str(exc)) from None


def send(
    app: App,
    key: str,
    options: SendOptions | None = None,
    transport: Transport | None = None,
    progress: Progress | None = None,
    after_claim: Callable[[list[str]], None] | None = None,
) -> SendReport:
    """Send (or go on sending) a campaign with this process as one worker, until nothing is left.

    A draft is started first. A paused campaign is refused: resume it. `after_claim`
    is called with the points of each claimed batch (tests use it to change the
    ledger mid-campaign). The worker runs its own event loop in the calling thread.
    """
    app.signer()  # refuse at once without a secret key (see `start`), not per message later
    opts = options or SendOptions()
    if opts.concurrency < 1 or opts.batch < 1 or opts.max_errors < 1 or opts.max_attempts < 1:
        raise InputError("options", "concurrency, batch, max-errors and max-attempts must be at least 1")
    ledger_guard.check_now(app)  # never send on a wiped or cut-short ledger
    status = start(app, key)
    if status is CampaignStatus.PAUSED:
        with app.store.reader() as r:
            note = campaigns.stored(r, key).get("note") or "paused"
        raise CampaignNotSendable(
            "campaign", f"campaign {key!r} is paused ({note}); `consentry campaign resume {key}` sends on"
        )
    c = campaigns.get(app, key)
    return Coordinator(app, c, opts, transport or default_transport(app, c), progress, after_claim).run()
