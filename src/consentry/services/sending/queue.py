"""The campaign queue as one worker sees it: claim, judge, record, each in one writer transaction.

Every step here is one transaction on the ledger's store; nothing here waits
for the network (`consentry.services.sending.coordinator` does that).

Claim and judge
    A batch of due queued rows is claimed in one writer transaction and, in
    it, each person is judged again (`judge`) with the per-contact evaluator
    as of now: an unsubscribe or objection committed since the queue was
    filled stops the message here (skipped, with the rule).

    The rows are claimed ahead of the batches (`ranges`): the first claim takes
    one batch, each later one twice the last, up to `RANGE_BATCHES` batches (and
    to `RANGE_S` seconds of the worker's `--rate` where it has one). Each claim is
    a write with its commit, and claims of one batch cost a commit per batch
    (docs/performance.md). The rows claimed ahead wait in the worker's reserve and
    are judged when their batch is taken from it; they are the worker's claims
    like the others: handed back when it stops, and by the next worker when it
    dies (`reclaim`). Rows queued again (retries) are claimed with the next
    range, so a retry that comes due waits for the reserve to run low. What it
    costs: a worker that stops or pauses hands back up to `RANGE_BATCHES`
    batches as `waiting` rows, which the next run claims one by one rather than
    as a range; and with several workers, one may still hold that many batches
    (a few seconds of its sending) while the others, finding nothing, look for
    dead workers' rows every moment until it is done.

Record: judging again at commit (an improvement on judging only at claim)
    Whatever messages wait for their final dot are committed together in ONE
    writer transaction: judged once more, marked sent with their Message-ID
    and time, and the Art. 14 `notice.given` events recorded for those that
    carried the notice. Preparing a batch takes a while. Because the commit
    transaction holds the ledger's write lock, an unsubscribe is committed
    either before it - then this judgement sees it and the connection hangs
    up without the dot, so the server discards the message - or after it,
    when the message was already irrevocably on its way. So "unsubscribed
    before" means "not sent" exactly, in the order the database committed
    them. Only after this commit are the dots written (the coordinator's
    tight loop), and only then are the rows let go.

Why exactly once
    Killed before the commit, no server got a final dot: each discards its
    message, the rows are still claimed and go back to the queue on resume
    (below). Killed after the commit, the dots are in the kernel's socket
    buffers within microseconds of it (a message counts as prepared only once
    all of it is in its socket buffer, so the dot's write goes straight to the
    kernel), and the kernel delivers buffered data even when the process dies.
    What is left is the time between COMMIT returning and the last dot
    reaching its buffer - a loop of `send` calls; a kill exactly there loses
    those messages (they are marked sent but never arrive): at most once,
    never twice. A connection that breaks while the reply to the dot is
    awaited is retried, as SMTP clients do (RFC 1047): the one case that can
    deliver twice, and only if the server got the dot.

Replies
    The answers (4xx: back in the queue with exponential back-off; 5xx:
    failed with the server's code and text, any e-mail address in it
    replaced by a placeholder) are written with the next transaction
    (`settle`). Too many errors pause the campaign, the last answer in its note.

Orphaned claims
    On PostgreSQL every worker holds a session advisory lock keyed by its id;
    claims of a worker whose lock is free belong to a dead worker and go back
    to the queue (checked at start and whenever a worker runs out of work
    while others hold claims). Several workers, on several machines, share a
    campaign: claims use `FOR UPDATE SKIP LOCKED`. On SQLite a file lock
    admits one worker, which puts every claim back in the queue when it starts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain, islice

from consentry.adapters.transport import without_addresses
from consentry.domain.campaigns import Campaign, CampaignStatus
from consentry.domain.purposes import Purpose
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import Verdict
from consentry.policy.facts import Controller, Question
from consentry.policy.rules import Decision, evaluate
from consentry.services import ledger
from consentry.services.app import App
from consentry.services.compose import ART14
from consentry.services.errors import WorkerBusy
from consentry.services.ports import Claim, Writing
from consentry.services.sending.model import (
    CampaignNotSendable,
    Final,
    Job,
    Progress,
    SendOptions,
    SendReport,
)

#: The rule recorded for a queued contact point that no longer exists (erased from the store).
GONE = "contact-point-gone"
_MAX_BACKOFF = timedelta(hours=6)
#: A worker claims at most this many batches at once (see the module docstring).
RANGE_BATCHES = 16
#: With a rate limit, a worker claims at most this many seconds of its sending at once.
RANGE_S = 5.0


def ranges(batch: int, rate: float | None) -> Iterator[int]:
    """How many rows each of a worker's claims asks for: one batch, then twice the last, up to
    `RANGE_BATCHES` batches, or `RANGE_S` seconds at `rate` (never less than a batch)."""
    most = batch * RANGE_BATCHES
    if rate:
        most = max(batch, min(most, int(rate * RANGE_S)))
    size = batch
    while True:
        yield size
        size = min(size * 2, most)


def judge(
    app: App,
    w: Writing,
    c: Campaign,
    purpose: Purpose,
    controller: Controller,
    points: list[str],
    now: datetime,
) -> dict[str, tuple[ContactState, Decision]]:
    """The send-time re-check: each point's state as of `now` and the decision on the campaign's question.

    Run in the claim and in the commit transaction, on the ledger as that
    transaction sees it; a point missing from the answer no longer exists.
    """
    states = app.states.load_many(w, points, as_of=now)
    q = Question(c.channel, purpose, now, c.kind)
    return {pid: (s, evaluate(app.pack, s, q, controller)) for pid, s in states.items()}


@dataclass(frozen=True, slots=True)
class Held:
    """A prepared message as the commit sees it: whose, its key, and whether it can still be stopped."""

    job: Job
    key: str
    revocable: bool


@dataclass(frozen=True, slots=True)
class Standing:
    """Where the campaign stands when this worker found nothing to claim."""

    status: CampaignStatus
    claimed: int
    due: datetime | None


class Queue:
    """One worker's transactions on one campaign's queue (see the module docstring)."""

    def __init__(
        self,
        app: App,
        c: Campaign,
        opts: SendOptions,
        purpose: Purpose,
        controller: Controller,
        worker: str,
        progress: Progress,
    ) -> None:
        self.app, self.c, self.opts, self.purpose, self.controller = app, c, opts, purpose, controller
        self.worker = worker
        self.progress = progress
        self.lock = app.store.worker_lock(worker)
        self.report = SendReport()
        self.pending: list[Final] = []  # answered, to be written with the next transaction
        self.mine: set[int] = set()  # claimed by this worker, not yet settled (point numbers)
        self.reserve: deque[Claim] = deque()  # claimed ahead, not yet judged (in `mine`)
        self.sizes = ranges(opts.batch, opts.rate)

    def acquire(self) -> None:
        """Take the worker's lock; CampaignNotSendable when the store admits no more workers."""
        try:
            self.lock.acquire()
        except WorkerBusy as exc:
            raise CampaignNotSendable("campaign", str(exc)) from None

    def _judge(
        self, w: Writing, points: list[str], now: datetime
    ) -> dict[str, tuple[ContactState, Decision]]:
        return judge(self.app, w, self.c, self.purpose, self.controller, points, now)

    def claim(self) -> tuple[list[Job], list[Claim]] | None:
        """Claim a batch and judge it again: the allowed jobs and every claim; None when stopped.

        None means the campaign is no longer sending; the report then says where it stands.
        """
        now = self.app.clock.now()
        jobs: list[Job] = []
        with self.app.store.writer() as w:
            self.settle(w, now)
            row = w.campaign(self.c.key)
            if row is None or row["status"] != CampaignStatus.SENDING.value:
                if row is not None:
                    self.report.status = CampaignStatus(row["status"])
                    self.report.note = row["note"]
                return None
            short = len(self.reserve) < self.opts.batch
            ahead = w.claim(self.c.key, self.worker, next(self.sizes), now) if short else []
            taken = min(self.opts.batch, len(self.reserve) + len(ahead))
            claimed = list(islice(chain(self.reserve, ahead), taken))
            judged = self._judge(w, [pid for _, pid, _, _ in claimed if pid], now)
            skipped: dict[int, str] = {}
            for no, pid, attempts, art14 in claimed:
                found = judged.get(pid) if pid is not None else None
                if pid is None or found is None:
                    skipped[no] = GONE
                elif found[1].verdict is not Verdict.ALLOW:
                    skipped[no] = found[1].rule
                else:
                    jobs.append(Job(pid, no, attempts, found[0], found[1], bool(art14)))
            w.skip(self.c.key, skipped)
        # Committed: only now are the rows claimed ahead this worker's (a claim rolled back is not).
        self.reserve.extend(ahead)
        for _ in range(taken):
            self.reserve.popleft()
        self.mine.update(no for no, _, _, _ in ahead)
        self.mine.difference_update(skipped)
        self.report.skipped += len(skipped)
        if skipped:
            self.progress("skipped", len(skipped))
        return jobs, claimed

    def record(self, group: Sequence[Held]) -> list[bool]:
        """The commit: judge again, mark sent, record the Art. 14 notices; for each message, may it go."""
        now = self.app.clock.now()
        go: list[Held] = []
        may: list[bool] = []
        with self.app.store.writer() as w:
            self.settle(w, now)
            judged = self._judge(w, [h.job.point for h in group], now)
            skipped: dict[int, str] = {}
            for h in group:
                found = judged.get(h.job.point)
                if h.revocable and (found is None or found[1].verdict is not Verdict.ALLOW):
                    skipped[h.job.no] = found[1].rule if found else GONE
                    may.append(False)
                else:
                    go.append(h)
                    may.append(True)
            w.skip(self.c.key, skipped)
            w.mark_sent(self.c.key, [(h.job.no, h.key, _carries14(h.job)) for h in go], now)
            notices = [
                {
                    "type": "notice.given",
                    "contact": h.job.point,
                    "article": "14",
                    "method": self.c.channel.value,
                    "text_version": f"campaign:{self.c.key}",
                }
                for h in go
                if any(o.id == ART14 for o in h.job.decision.obligations)
            ]
            if notices:
                ledger.append_in(self.app, w, enumerate(notices, 1))
        return may

    def dropped(self, points: list[int]) -> None:
        """Messages the commit stopped (skipped in it; point numbers): no longer this worker's."""
        self.mine.difference_update(points)
        self.report.skipped += len(points)
        if points:
            self.progress("skipped", len(points))

    def flush(self) -> None:
        """Write the replies received so far, in a transaction of their own."""
        if self.pending:
            with self.app.store.writer() as w:
                self.settle(w, self.app.clock.now())

    def settle(self, w: Writing, now: datetime) -> None:
        """Write the replies received since the last transaction; pause on too many errors.

        A refusal is stored in the server's words with every e-mail address in them replaced
        (`without_addresses`): on the message's row, and in the campaign's note when it pauses,
        which no erasure reaches (it is the campaign's, not the person's).
        """
        finals, self.pending = self.pending, []
        if not finals:
            return
        retry: list[tuple[int, str, datetime]] = []
        failed: list[tuple[int, str]] = []
        sent = 0
        for f in finals:
            self.mine.discard(f.job.no)
            if f.reply.ok and f.committed:
                sent += 1
            elif f.reply.temporary and f.job.attempts + 1 < self.opts.max_attempts:
                delay = min(self.opts.retry_after * (2**f.job.attempts), _MAX_BACKOFF)
                retry.append((f.job.no, without_addresses(str(f.reply)), now + delay))
            else:
                note = "" if not f.reply.temporary else f" (gave up after {f.job.attempts + 1} attempts)"
                failed.append((f.job.no, without_addresses(f"{f.reply}{note}")))
        w.retry(self.c.key, retry)
        w.fail(self.c.key, failed)
        errors = w.add_campaign_errors(self.c.key, len(retry) + len(failed), now) if retry or failed else 0
        if errors >= self.opts.max_errors:
            row = w.campaign(self.c.key)
            if row is not None and row["status"] == CampaignStatus.SENDING.value:
                last = retry[-1][1] if retry else failed[-1][1]
                note = f"paused after {errors} errors; the last: {last}"
                w.set_campaign_status(self.c.key, CampaignStatus.PAUSED, now, note)
        self.report.sent += sent
        self.report.retried += len(retry)
        self.report.failed += len(failed)
        for status, n in (("sent", sent), ("retried", len(retry)), ("failed", len(failed))):
            if n:
                self.progress(status, n)

    def release(self, points: list[int]) -> None:
        """Hand claimed rows that were never started (point numbers) back to the queue."""
        if points:
            with self.app.store.writer() as w:
                w.release(self.c.key, points, self.worker)
            self.mine.difference_update(points)

    def reclaim(self, everyone: bool) -> int:
        """Put the claims of dead workers (of every other worker, when `everyone`) back in the queue."""
        with self.app.store.writer() as w:
            if everyone:
                return w.requeue_claims(self.c.key)
            dead = w.dead_workers(w.claimants(self.c.key), self.worker)
            return w.requeue_claims(self.c.key, dead)

    def standing(self) -> Standing:
        """Nothing to claim now: mark the campaign done when nothing is left; where it stands."""
        self.flush()
        with self.app.store.writer() as w:
            counts = w.message_counts(self.c.key)
            row = w.campaign(self.c.key)
            due = w.next_due(self.c.key)
            status = CampaignStatus(row["status"]) if row else CampaignStatus.DONE
            if status is CampaignStatus.SENDING and not counts["queued"] and not counts["claimed"]:
                w.set_campaign_status(self.c.key, CampaignStatus.DONE, self.app.clock.now())
                status = CampaignStatus.DONE
        self.report.status = status
        self.report.note = row["note"] if row and status is not CampaignStatus.DONE else None
        self.report.waiting = counts["queued"]
        return Standing(status, counts["claimed"], due)


def _carries14(job: Job) -> bool:
    return job.notice_again or any(o.id == ART14 for o in job.decision.obligations)
