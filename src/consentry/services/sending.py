"""Sending a campaign: every allowed person gets the message exactly once, even if a worker is killed.

The queue
    Starting a campaign writes its judged audience into `campaign_messages` in
    one statement (`consentry.services.audience`): allowed points are queued,
    the rest skipped with the rule that excluded them.

A worker's cycle
    1. Claim a batch of due queued rows in one writer transaction and, in it,
       judge each person again with the per-contact evaluator as of now: an
       unsubscribe or objection committed since the queue was filled stops the
       message here (skipped, with the rule).
    2. Connections (`--concurrency` SMTP connections, all driven by one event
       loop in the worker's thread: uvloop where installed) each write a
       message and send MAIL, RCPT, DATA and the message *without* its final
       dot (`consentry.adapters.smtp_pipeline`), paced to `--rate`.
    3. Whatever messages wait for their dot are committed together in ONE writer
       transaction: judged once more (see below), marked sent with their
       Message-ID and time, and the Art. 14 `notice.given` events recorded for
       those that carried the notice. The transaction runs on the loop's thread,
       so no connection moves while it does.
    4. Only after the commit, in the same call, the final dot is written to every
       connection of that group in a tight loop; the connections then read the
       replies. The results (4xx: back in the queue with exponential back-off;
       5xx: failed with the server's code and text) are written with the next
       transaction. Too many errors pause the campaign.

    One thread rather than one per connection: the sender's work is CPU (judging,
    templates, MIME, SQL), and threads took turns at the GIL with context switches
    for every SMTP reply (send benchmark, 20,000 messages on 64 connections:
    475,000 switches before, 37,000 after, and twice the messages a second).
    Blocking transports (the webhook) run their calls in a thread pool behind the
    same interface.

Why exactly once
    Killed before the commit, no server got a final dot: each discards its
    message, the rows are still claimed and go back to the queue on resume
    (below). Killed after the commit, the dots are in the kernel's socket
    buffers within microseconds of it (a message counts as prepared only once all
    of it is in its socket buffer, so the dot's write goes straight to the
    kernel), and the kernel delivers buffered data even when the process dies.
    What is left is the time between COMMIT returning and the last dot reaching
    its buffer - a loop of `send` calls;
    a kill exactly there loses those messages (they are marked sent but never
    arrive): at most once, never twice. A connection that breaks while the
    reply to the dot is awaited is retried, as SMTP clients do (RFC 1047): the
    one case that can deliver twice, and only if the server got the dot.

Judging again at commit (an improvement on judging only at claim)
    Steps 2-3 take a while for a batch. Because the commit transaction holds the
    ledger's write lock, an unsubscribe is committed either before it - then
    this judgement sees it and the connection hangs up without the dot, so the
    server discards the message - or after it, when the message was already
    irrevocably on its way. So "unsubscribed before" means "not sent" exactly,
    in the order the database committed them.

Orphaned claims
    On PostgreSQL every worker holds a session advisory lock keyed by its id;
    claims of a worker whose lock is free belong to a dead worker and go back to
    the queue (checked at start and whenever a worker runs out of work while
    others hold claims). Several workers, on several machines, share a campaign:
    claims use `FOR UPDATE SKIP LOCKED`. On SQLite a file lock admits one worker,
    which puts every claim back in the queue when it starts.

Not revocable transports
    A webhook (SMS, messaging apps) has no final dot: `prepare` hands the message
    over with an idempotency key equal to the Message-ID, so a retry after a kill
    is deduplicated by the provider; judging again at commit cannot stop it then.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from consentry.adapters import campaign_store as store
from consentry.adapters import webhook_session
from consentry.adapters.smtp_pipeline import DkimSigner, Mail, SmtpTransport, address, mime
from consentry.adapters.sql_store import Writer
from consentry.adapters.transport import AsyncSession, AsyncTransport, Outgoing, Reply, Session, Transport
from consentry.bootstrap import App
from consentry.domain.campaigns import Campaign, CampaignStatus, campaign_from_json
from consentry.domain.state import ContactState
from consentry.domain.vocabulary import Channel, Verdict
from consentry.policy.facts import Question
from consentry.policy.rules import Decision, evaluate
from consentry.services import audience, ledger
from consentry.services.compose import ART14, Composer, RenderError
from consentry.services.errors import InputError
from consentry.services.setup import controller

#: The rule recorded for a queued contact point that no longer exists (erased from the store).
GONE = "contact-point-gone"
_MAX_BACKOFF = timedelta(hours=6)
#: How long a commit waits for more prepared messages to join it, at most. Every commit is a
#: writer transaction that judges its group again; measured with 64 connections, 30 ms makes
#: groups of ~30 rather than ~10 and costs a third less CPU a message than 5 ms. A message
#: waits no more than this for its dot; servers wait minutes.
GATHER_S = 0.03

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class SendOptions:
    """How a worker sends."""

    #: SMTP connections (all on the worker's one event loop).
    concurrency: int = 8
    #: Messages per second at most (None: as fast as the server takes them).
    rate: float | None = None
    #: Rows claimed per claim transaction.
    batch: int = 200
    #: Errors (4xx and 5xx) after which the campaign pauses itself.
    max_errors: int = 100
    #: Attempts after which a temporary failure counts as final.
    max_attempts: int = 5
    #: The first back-off after a temporary failure; it doubles with each attempt.
    retry_after: timedelta = timedelta(minutes=1)
    #: Wait for retries that are not yet due (False: leave them for a later run).
    wait_for_retries: bool = True


@dataclass
class SendReport:
    """What a worker did, and where the campaign stands after it."""

    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retried: int = 0
    status: CampaignStatus = CampaignStatus.SENDING
    note: str | None = None
    waiting: int = 0


class CampaignNotSendable(InputError):
    """The campaign cannot be sent in its present state (paused, say)."""


@dataclass(eq=False)
class _Job:
    point: str
    attempts: int
    state: ContactState
    decision: Decision
    notice_again: bool


@dataclass(eq=False)
class _Prepared:
    job: _Job
    session: AsyncSession
    key: str
    #: True: committed, its dot written; False: it may not go (its connection was hung up).
    decided: asyncio.Future[bool]


@dataclass(frozen=True)
class _Final:
    job: _Job
    reply: Reply
    committed: bool


def start(app: App, key: str) -> CampaignStatus:
    """Fill a draft's queue from its audience and mark it sending (a no-op in any other state)."""
    now = app.clock.now()
    with app.store.writer() as w:
        row = store.get(w.conn, key, lock=True)
        if row is None:
            raise InputError("campaign", f"no campaign {key!r}; see `consentry campaign list`")
        status = CampaignStatus(row["status"])
        if status is not CampaignStatus.DRAFT:
            return status
        c = campaign_from_json(row["definition"])
        sql, params = audience.query(w, app.pack, c.channel, c.purpose, c.kind, c.selection, now)
        store.fill(w.conn, key, sql, params, now)
        store.set_status(w.conn, key, CampaignStatus.SENDING, now)
    return CampaignStatus.SENDING


def resume(app: App, key: str) -> None:
    """Let a paused campaign send again, its error count reset."""
    with app.store.writer() as w:
        row = store.get(w.conn, key, lock=True)
        if row is None:
            raise InputError("campaign", f"no campaign {key!r}")
        if row["status"] == CampaignStatus.PAUSED.value:
            store.set_status(w.conn, key, CampaignStatus.SENDING, app.clock.now(), reset_errors=True)


def pause(app: App, key: str, note: str) -> None:
    """Pause a sending campaign; its workers stop after the messages they are sending."""
    with app.store.writer() as w:
        row = store.get(w.conn, key, lock=True)
        if row is not None and row["status"] == CampaignStatus.SENDING.value:
            store.set_status(w.conn, key, CampaignStatus.PAUSED, app.clock.now(), note)


def default_transport(app: App, c: Campaign) -> Transport | AsyncTransport:
    """The transport the settings give for the campaign's channel."""
    if c.channel is Channel.EMAIL:
        return SmtpTransport(app.settings)
    try:
        return webhook_session.transport_for(app.settings)
    except webhook_session.NoWebhook as exc:
        raise CampaignNotSendable("channel", str(exc)) from None


def send(
    app: App,
    key: str,
    options: SendOptions | None = None,
    transport: Transport | AsyncTransport | None = None,
    progress: Progress | None = None,
    after_claim: Callable[[list[str]], None] | None = None,
) -> SendReport:
    """Send (or go on sending) a campaign with this process as one worker, until nothing is left.

    A draft is started first. A paused campaign is refused: resume it. `after_claim`
    is called with the points of each claimed batch (tests use it to change the
    ledger mid-campaign). The worker runs its own event loop in the calling thread.
    """
    opts = options or SendOptions()
    if opts.concurrency < 1 or opts.batch < 1 or opts.max_errors < 1 or opts.max_attempts < 1:
        raise InputError("options", "concurrency, batch, max-errors and max-attempts must be at least 1")
    status = start(app, key)
    if status is CampaignStatus.PAUSED:
        with app.store.reader() as r:
            row = store.get(r.conn, key)
        note = (row or {}).get("note") or "paused"
        raise CampaignNotSendable(
            "campaign", f"campaign {key!r} is paused ({note}); `consentry campaign resume {key}` sends on"
        )
    c = get_campaign(app, key)
    run = _Run(app, c, opts, transport or default_transport(app, c), progress, after_claim)
    return run.run()


def get_campaign(app: App, key: str) -> Campaign:
    """The stored definition of a campaign."""
    with app.store.reader() as r:
        row = store.get(r.conn, key)
    if row is None:
        raise InputError("campaign", f"no campaign {key!r}")
    return campaign_from_json(row["definition"])


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where installed (it comes with uvicorn[standard]), else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is installed with uvicorn[standard]
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class _Pacer:
    """Spaces message starts `1/rate` seconds apart across all connections."""

    def __init__(self, rate: float | None) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.next = time.monotonic()

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(self.next, now)
        self.next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


class _Threaded:
    """A blocking session (the webhook) on the event loop: its waiting calls run in a thread pool."""

    def __init__(self, session: Session, pool: ThreadPoolExecutor) -> None:
        self.session = session
        self.pool = pool
        self.revocable = session.revocable

    async def prepare(self, msg: Outgoing) -> Reply:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.session.prepare, msg)

    def commit(self) -> None:
        self.session.commit()

    async def outcome(self) -> Reply:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self.session.outcome)

    def abort(self) -> None:
        self.session.abort()

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self.pool, self.session.close)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _stop(p: _Prepared) -> None:
    """The prepared message may not go: its connection hangs up without the dot, now."""
    if not p.decided.done():
        p.decided.set_result(False)
    if p.session.revocable:
        p.session.abort()


class _Run:
    """One worker sending one campaign (see the module docstring)."""

    def __init__(
        self,
        app: App,
        c: Campaign,
        opts: SendOptions,
        transport: Transport | AsyncTransport,
        progress: Progress | None,
        after_claim: Callable[[list[str]], None] | None,
    ) -> None:
        self.app, self.c, self.opts, self.transport = app, c, opts, transport
        self.progress = progress or (lambda _status, _n: None)
        self.after_claim = after_claim
        self.worker = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.lock = store.WorkerLock(app.store.engine, self.worker)
        self.jobs: deque[_Job] = deque()
        self.ready: list[_Prepared] = []  # prepared, waiting for the commit
        self.pending: list[_Final] = []  # answered, to be written with the next transaction
        self.mine: set[str] = set()  # claimed by this worker, not yet settled
        self.outstanding = 0  # handed to the connections, not yet answered
        self.report = SendReport()
        self.pacer = _Pacer(opts.rate)
        self.dkim = DkimSigner.from_settings(app.settings) if c.channel is Channel.EMAIL else None
        self.stopping = False
        self.tasks: list[asyncio.Task[None]] = []
        self.pool: ThreadPoolExecutor | None = None
        self._idle: list[asyncio.Future[None]] = []  # connections waiting for a job
        self._poked: asyncio.Future[None] | None = None  # the coordinator waiting for the connections
        with app.store.reader() as r:
            purpose = r.purpose(c.purpose)
            self.controller = controller(r)
        if purpose is None:
            raise InputError("purpose", f"the campaign's purpose {c.purpose!r} is no longer defined")
        self.purpose = purpose
        self.composer = Composer(app, c, purpose)
        self.domain = (c.sender.email or app.settings.mail_from).rpartition("@")[2] or "localhost"
        self.sender = c.sender.email or app.settings.mail_from
        self.mailto = app.settings.unsubscribe_mailto or self.sender
        self.from_ = address(c.sender.name, self.sender)

    # -- the coordinator ----------------------------------------------------------------------

    def run(self) -> SendReport:
        try:
            self.lock.acquire()
        except store.WorkerBusy as exc:
            raise CampaignNotSendable("campaign", str(exc)) from None
        loop = _new_loop()
        try:
            self._reclaim(everyone=self.app.store.engine.dialect.name != "postgresql")
            main = loop.create_task(self._main())
            try:
                loop.run_until_complete(main)
            finally:
                if not main.done():  # interrupted (Ctrl-C) while it waited: it stops at that await
                    main.cancel()
                    with contextlib.suppress(BaseException):
                        loop.run_until_complete(main)
                loop.run_until_complete(self._shutdown())
        finally:
            try:
                loop.close()
                if self.pool is not None:
                    self.pool.shutdown(wait=False)
            finally:
                self.lock.release()
        return self.report

    def _session(self) -> AsyncSession:
        if isinstance(self.transport, AsyncTransport):
            return self.transport.async_session()
        if self.pool is None:
            self.pool = ThreadPoolExecutor(self.opts.concurrency, thread_name_prefix="send")
        return _Threaded(self.transport.session(), self.pool)

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        self.tasks = [
            loop.create_task(self._connection(self._session())) for _ in range(self.opts.concurrency)
        ]
        await self._loop()

    async def _loop(self) -> None:
        low_water = max(self.opts.concurrency, self.opts.batch // 2)
        drained = False  # the last claim found fewer rows than asked: wait for the connections first
        while True:
            if not self.stopping and self.outstanding < low_water and not (drained and self.outstanding):
                claimed = self._claim()
                drained = len(claimed) < self.opts.batch
                if claimed and self.after_claim is not None:
                    self.after_claim(claimed)
                if not claimed and self.outstanding == 0 and await self._finished():
                    return
            if self.stopping and self.outstanding == 0:
                self._flush()
                return
            group = await self._ready_group(timeout=0.05 if self.outstanding else 0.0)
            if group:
                self._commit(group)
            elif self.pending and (self.outstanding == 0 or len(self.pending) >= self.opts.batch):
                self._flush()

    def _poke(self) -> None:
        """A connection has something for the coordinator (a prepared message, an answer)."""
        if self._poked is not None and not self._poked.done():
            self._poked.set_result(None)

    async def _until_poked(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        self._poked = poked = loop.create_future()
        timer = loop.call_later(timeout, _wake, poked)
        try:
            await poked
        finally:
            timer.cancel()
            self._poked = None

    async def _ready_group(self, timeout: float) -> list[_Prepared]:
        """The messages waiting for their dot: one commit each costs as much as one for many.

        After the first, wait a moment (GATHER_S at most) for the other connections busy
        preparing, so a commit carries up to one message per connection.
        """
        loop = asyncio.get_running_loop()
        if not self.ready:
            if not timeout:
                return []
            await self._until_poked(timeout)
            if not self.ready:
                return []
        deadline = loop.time() + GATHER_S
        while True:
            busy = min(self.opts.concurrency, self.outstanding - len(self.jobs))
            left = deadline - loop.time()
            if len(self.ready) >= busy or left <= 0:
                group, self.ready = self.ready, []
                return group
            await self._until_poked(left)

    def _judge(self, w: Writer, points: list[str], now: datetime) -> dict[str, tuple[ContactState, Decision]]:
        states = self.app.states.load_many(w, points, as_of=now)
        q = Question(self.c.channel, self.purpose, now, self.c.kind)
        return {pid: (s, evaluate(self.app.pack, s, q, self.controller)) for pid, s in states.items()}

    def _claim(self) -> list[str]:
        """Claim a batch and judge it again; queue the allowed, skip the rest."""
        now = self.app.clock.now()
        jobs: list[_Job] = []
        with self.app.store.writer() as w:
            self._settle(w, now)
            row = store.get(w.conn, self.c.key)
            if row is None or row["status"] != CampaignStatus.SENDING.value:
                self._stop(row)
                return []
            claimed = store.claim(w.conn, self.c.key, self.worker, self.opts.batch, now)
            judged = self._judge(w, [p for p, _, _ in claimed], now)
            skipped: dict[str, str] = {}
            for pid, attempts, art14 in claimed:
                found = judged.get(pid)
                if found is None:
                    skipped[pid] = GONE
                elif found[1].verdict is not Verdict.ALLOW:
                    skipped[pid] = found[1].rule
                else:
                    jobs.append(_Job(pid, attempts, found[0], found[1], art14))
            store.skip(w.conn, self.c.key, skipped)
        self.report.skipped += len(skipped)
        if skipped:
            self.progress("skipped", len(skipped))
        self.mine.update(j.point for j in jobs)
        self.outstanding += len(jobs)
        self.jobs.extend(jobs)
        self._hand_out()
        return [p for p, _, _ in claimed]

    def _hand_out(self) -> None:
        """Wake as many waiting connections as there are jobs (all of them when stopping)."""
        n = len(self._idle) if self.stopping else min(len(self.jobs), len(self._idle))
        for waiter in self._idle[:n]:
            _wake(waiter)
        del self._idle[:n]

    def _commit(self, group: list[_Prepared]) -> None:
        """Mark a group sent (judged once more) in one transaction, then let every dot go at once."""
        try:
            go = self._record(group)
        except BaseException:
            for p in group:  # nothing was committed: every connection hangs up without its dot
                _stop(p)
            self.outstanding -= len(group)
            raise
        self._let_go(group, go)

    def _record(self, group: list[_Prepared]) -> list[_Prepared]:
        """The commit: judge again, mark sent, record the Art. 14 notices; returns who may go."""
        now = self.app.clock.now()
        go: list[_Prepared] = []
        with self.app.store.writer() as w:
            self._settle(w, now)
            judged = self._judge(w, [p.job.point for p in group], now)
            skipped: dict[str, str] = {}
            for p in group:
                found = judged.get(p.job.point)
                if p.session.revocable and (found is None or found[1].verdict is not Verdict.ALLOW):
                    skipped[p.job.point] = found[1].rule if found else GONE
                else:
                    go.append(p)
            store.skip(w.conn, self.c.key, skipped)
            store.mark_sent(
                w.conn, self.c.key, [(p.job.point, p.key, self._carries14(p.job)) for p in go], now
            )
            notices = [
                {
                    "type": "notice.given",
                    "contact": p.job.point,
                    "article": "14",
                    "method": self.c.channel.value,
                    "text_version": f"campaign:{self.c.key}",
                }
                for p in go
                if any(o.id == ART14 for o in p.job.decision.obligations)
            ]
            if notices:
                ledger.append_in(self.app, w, enumerate(notices, 1))
        return go

    def _let_go(self, group: list[_Prepared], go: list[_Prepared]) -> None:
        """Write every dot of a committed group in one tight loop, then wake the connections."""
        try:
            for p in go:  # the tight loop: nothing but writes between the commit and the last dot
                p.session.commit()
        finally:
            going = {id(p) for p in go}
            for p in group:
                if id(p) in going:
                    p.decided.set_result(True)
                else:
                    _stop(p)
        dropped = len(group) - len(go)
        self.outstanding -= dropped
        self.mine.difference_update(p.job.point for p in group if id(p) not in going)
        self.report.skipped += dropped
        if dropped:
            self.progress("skipped", dropped)

    def _carries14(self, job: _Job) -> bool:
        return job.notice_again or any(o.id == ART14 for o in job.decision.obligations)

    def _flush(self) -> None:
        if self.pending:
            with self.app.store.writer() as w:
                self._settle(w, self.app.clock.now())

    def _settle(self, w: Writer, now: datetime) -> None:
        """Write the replies received since the last transaction; pause on too many errors."""
        finals, self.pending = self.pending, []
        if not finals:
            return
        retry: list[tuple[str, str, datetime]] = []
        failed: list[tuple[str, str]] = []
        sent = 0
        for f in finals:
            self.mine.discard(f.job.point)
            if f.reply.ok and f.committed:
                sent += 1
            elif f.reply.temporary and f.job.attempts + 1 < self.opts.max_attempts:
                delay = min(self.opts.retry_after * (2**f.job.attempts), _MAX_BACKOFF)
                retry.append((f.job.point, str(f.reply), now + delay))
            else:
                note = "" if not f.reply.temporary else f" (gave up after {f.job.attempts + 1} attempts)"
                failed.append((f.job.point, f"{f.reply}{note}"))
        store.retry(w.conn, self.c.key, retry)
        store.fail(w.conn, self.c.key, failed)
        errors = store.add_errors(w.conn, self.c.key, len(retry) + len(failed), now) if retry or failed else 0
        if errors >= self.opts.max_errors:
            row = store.get(w.conn, self.c.key)
            if row is not None and row["status"] == CampaignStatus.SENDING.value:
                last = retry[-1][1] if retry else failed[-1][1]
                note = f"paused after {errors} errors; the last: {last}"
                store.set_status(w.conn, self.c.key, CampaignStatus.PAUSED, now, note)
        self.report.sent += sent
        self.report.retried += len(retry)
        self.report.failed += len(failed)
        for status, n in (("sent", sent), ("retried", len(retry)), ("failed", len(failed))):
            if n:
                self.progress(status, n)

    def _stop(self, row: dict[str, Any] | None) -> None:
        """The campaign is no longer sending: hand back what the connections have not started."""
        self.stopping = True
        if row is not None:
            self.report.status = CampaignStatus(row["status"])
            self.report.note = row["note"]
        unstarted = [job.point for job in self.jobs]
        self.jobs.clear()
        self.outstanding -= len(unstarted)
        self._hand_out()
        self._release(unstarted)

    def _release(self, points: list[str]) -> None:
        if points:
            with self.app.store.writer() as w:
                store.release(w.conn, self.c.key, points, self.worker)
            self.mine.difference_update(points)

    def _reclaim(self, everyone: bool) -> int:
        """Put the claims of dead workers (of every other worker, when `everyone`) back in the queue."""
        with self.app.store.writer() as w:
            if everyone:
                return store.requeue_claims(w.conn, self.c.key)
            dead = store.dead_workers(w.conn, store.claimants(w.conn, self.c.key), self.worker)
            return store.requeue_claims(w.conn, self.c.key, dead)

    async def _finished(self) -> bool:
        """Nothing to claim now: done, or wait for retries and for other workers."""
        self._flush()
        with self.app.store.writer() as w:
            counts = store.counts(w.conn, self.c.key)
            row = store.get(w.conn, self.c.key)
            due = store.next_due(w.conn, self.c.key)
            status = CampaignStatus(row["status"]) if row else CampaignStatus.DONE
            if status is CampaignStatus.SENDING and not counts["queued"] and not counts["claimed"]:
                store.set_status(w.conn, self.c.key, CampaignStatus.DONE, self.app.clock.now())
                status = CampaignStatus.DONE
        self.report.status = status
        self.report.note = row["note"] if row and status is not CampaignStatus.DONE else None
        self.report.waiting = counts["queued"]
        if status is not CampaignStatus.SENDING:
            return True
        if counts["claimed"]:
            if not self._reclaim(everyone=False):
                await asyncio.sleep(0.2)  # other live workers are sending the rest
            return False
        if not self.opts.wait_for_retries:
            return True
        wait = (due - self.app.clock.now()).total_seconds() if due else 0.0
        await asyncio.sleep(min(max(wait, 0.05), 5.0))
        return False

    async def _shutdown(self) -> None:
        """Stop the connections: unstarted jobs go back, prepared messages are dropped without their dot.

        Messages already committed are given the time to hear their answer (30 s at most).
        """
        loop = asyncio.get_running_loop()
        self._stop(None)
        deadline = loop.time() + 30.0
        try:
            while True:
                for p in self.ready:
                    _stop(p)
                    self.outstanding -= 1
                self.ready = []
                alive = [t for t in self.tasks if not t.done()]
                left = deadline - loop.time()
                if self.outstanding <= 0 or not alive or left <= 0:
                    break
                await self._until_poked(min(left, 0.05))
            self._hand_out()
            if self.tasks:
                await asyncio.wait(self.tasks, timeout=max(deadline - loop.time(), 1.0))
        finally:
            for task in self.tasks:
                task.cancel()
            if self.tasks:
                await asyncio.wait(self.tasks)
            for p in self.ready:  # prepared while the last ones were cancelled
                _stop(p)
            self.ready = []
            try:
                self._flush()
            finally:
                self._release(sorted(self.mine))

    # -- the connections ------------------------------------------------------------------------

    async def _connection(self, session: AsyncSession) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not self.jobs:
                    if self.stopping:
                        break
                    waiter: asyncio.Future[None] = loop.create_future()
                    self._idle.append(waiter)
                    await waiter
                    continue
                job = self.jobs.popleft()
                try:
                    await self._deliver(session, job)
                except Exception as exc:  # never leave the coordinator waiting for a job
                    session.abort()
                    self._final(job, Reply(451, f"sending failed: {exc!r}"), committed=False)
        except BaseException:  # cancelled, perhaps mid-message: hang up
            session.abort()
            raise
        await session.close()

    def _final(self, job: _Job, reply: Reply, committed: bool) -> None:
        self.pending.append(_Final(job, reply, committed))
        self.outstanding -= 1
        self._poke()

    async def _deliver(self, session: AsyncSession, job: _Job) -> None:
        try:
            msg = self._outgoing(job)
        except RenderError as exc:
            self._final(job, Reply(554, str(exc)), committed=False)
            return
        await self.pacer.wait()
        reply = await session.prepare(msg)
        if reply.code != 354:
            self._final(job, reply, committed=False)
            return
        prepared = _Prepared(job, session, msg.key, asyncio.get_running_loop().create_future())
        self.ready.append(prepared)
        self._poke()
        if not await prepared.decided:
            session.abort()  # hung up already, on the coordinator's word
            return
        self._final(job, await session.outcome(), committed=True)

    def _outgoing(self, job: _Job) -> Outgoing:
        """The message for one person, as the transport carries it."""
        c = self.c
        composed = self.composer.compose(job.state, job.decision, job.notice_again)
        key = f"{c.key}.{job.point}@{self.domain}"
        if c.channel is not Channel.EMAIL:
            data = composed.text.encode()
            return Outgoing(key, job.state.value, "", data, {"campaign": c.key, "contact_point": job.point})
        token = composed.unsubscribe_url.rpartition("/")[2]
        headers = [
            (
                "List-Unsubscribe",
                f"<{composed.unsubscribe_url}>, <mailto:{self.mailto}?subject=unsubscribe%20{token}>",
            ),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ]
        mail = Mail(
            sender=self.from_,
            to=job.state.value,
            subject=composed.subject,
            text=composed.text,
            html=composed.html,
            message_id=key,
            date=self.app.clock.now(),
            lang=composed.lang,
            reply_to=c.sender.reply_to,
            extra_headers=headers,
        )
        data = mime(mail)
        if self.dkim is not None:
            data = self.dkim.sign(data)
        return Outgoing(key, job.state.value, self.sender, data, {"campaign": c.key})
