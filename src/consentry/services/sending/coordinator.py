"""The worker's event loop: connections prepare messages, one coordinator commits them and lets them go.

Connections
    `--concurrency` connections, all driven by one event loop in the worker's
    thread (uvloop where installed), each take a claimed job, write its message
    and send MAIL, RCPT, DATA and the message *without* its final dot
    (`consentry.adapters.smtp_pipeline`), paced to `--rate`; then wait for the
    coordinator's word.

The coordinator
    Claims (`consentry.services.sending.queue`) whenever the connections run
    low, and gathers the messages that wait for their dot into groups: one
    commit costs as much as one for many. Each group is recorded in one writer
    transaction (judged once more, marked sent); the transaction runs on the
    loop's thread, so no connection moves while it does. Only after the commit,
    in the same call, the final dot is written to every connection of the group
    in a tight loop - nothing but writes between the commit and the last dot,
    which is what keeps the at-most-once window (see the queue) to
    microseconds. The connections then read the replies, which the queue writes
    with its next transaction.

One thread rather than one per connection
    The sender's work is CPU (judging, templates, MIME, SQL), and threads took
    turns at the GIL with context switches for every SMTP reply (send
    benchmark, 20,000 messages on 64 connections: 475,000 switches before,
    37,000 after, and twice the messages a second). Blocking transports (the
    webhook) run their calls on threads behind the same interface
    (`consentry.adapters.transport.Threaded`).

Not revocable transports
    A webhook (SMS, messaging apps) has no final dot: `prepare` hands the
    message over with an idempotency key equal to the Message-ID, so a retry
    after a kill is deduplicated by the provider; judging again at commit
    cannot stop it then.
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
from dataclasses import dataclass

from consentry.adapters.transport import AsyncSession, Reply, Transport
from consentry.domain.campaigns import Campaign, CampaignStatus
from consentry.services.app import App
from consentry.services.collector import rare_collections
from consentry.services.compose import RenderError
from consentry.services.errors import InputError
from consentry.services.ports import Claim
from consentry.services.sending.messages import Letters
from consentry.services.sending.model import (
    Final,
    Job,
    Progress,
    SendOptions,
    SendReport,
)
from consentry.services.sending.queue import Held, Queue
from consentry.services.setup import controller

#: How long a commit waits for more prepared messages to join it, at most. Every commit is a
#: writer transaction that judges its group again; measured with 64 connections, 30 ms makes
#: groups of ~30 rather than ~10 and costs a third less CPU a message than 5 ms. A message
#: waits no more than this for its dot; servers wait minutes.
GATHER_S = 0.03


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


@dataclass(eq=False)
class _Prepared:
    job: Job
    session: AsyncSession
    key: str
    #: True: committed, its dot written; False: it may not go (its connection was hung up).
    decided: asyncio.Future[bool]


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _stop(p: _Prepared) -> None:
    """The prepared message may not go: its connection hangs up without the dot, now."""
    if not p.decided.done():
        p.decided.set_result(False)
    if p.session.revocable:
        p.session.abort()


class Coordinator:
    """One worker sending one campaign on its own event loop (see the module docstring)."""

    def __init__(
        self,
        app: App,
        c: Campaign,
        opts: SendOptions,
        transport: Transport,
        progress: Progress | None,
        after_claim: Callable[[list[str]], None] | None,
    ) -> None:
        self.app, self.c, self.opts, self.transport = app, c, opts, transport
        self.after_claim = after_claim
        with app.store.reader() as r:
            purpose = r.purpose(c.purpose)
            boss = controller(r)
        if purpose is None:
            raise InputError("purpose", f"the campaign's purpose {c.purpose!r} is no longer defined")
        worker = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"
        self.queue = Queue(app, c, opts, purpose, boss, worker, progress or (lambda _status, _n: None))
        self.letters = Letters(app, c, purpose)
        self.jobs: deque[Job] = deque()
        self.ready: list[_Prepared] = []  # prepared, waiting for the commit
        self.outstanding = 0  # handed to the connections, not yet answered
        self.pacer = _Pacer(opts.rate)
        self.stopping = False
        self.tasks: list[asyncio.Task[None]] = []
        self._idle: list[asyncio.Future[None]] = []  # connections waiting for a job
        self._poked: asyncio.Future[None] | None = None  # the coordinator waiting for the connections
        self._gathering = False  # the coordinator waits for more prepared messages to join a group
        self._low_water = max(opts.concurrency, opts.batch // 2)  # claim when fewer are outstanding

    @property
    def report(self) -> SendReport:
        """What this worker did so far."""
        return self.queue.report

    def run(self) -> SendReport:
        """Send until nothing is left (or the campaign stops); the report.

        The garbage collector runs rarely meanwhile (`collector.rare_collections`): a send keeps
        every state it judged in the app's state cache (~13 objects a message), so the older
        generations grow all the time and each full pass walks the whole process again, for
        nothing (20,000 messages: six full passes, ~0.65 s of ~7 s CPU, none freeing an object;
        ~4,000 objects of cyclic garbage in all, which the next collection frees).
        """
        self.queue.acquire()
        with rare_collections():
            return self._run()

    def _run(self) -> SendReport:
        loop = _new_loop()
        try:
            self.queue.reclaim(everyone=not self.app.store.tells_live_workers)
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
            finally:
                self.queue.lock.release()
        return self.report

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        self.tasks = [
            loop.create_task(self._connection(self.transport.session())) for _ in range(self.opts.concurrency)
        ]
        await self._loop()

    async def _loop(self) -> None:
        low_water = self._low_water
        drained = False  # the last claim found fewer rows than asked: wait for the connections first
        while True:
            if not self.stopping and self.outstanding < low_water and not (drained and self.outstanding):
                claimed = self._claim()
                drained = len(claimed) < self.opts.batch
                if claimed and self.after_claim is not None:
                    self.after_claim([pid for _, pid, _, _ in claimed if pid])
                if not claimed and self.outstanding == 0 and await self._finished():
                    return
            if self.stopping and self.outstanding == 0:
                self.queue.flush()
                return
            group = await self._ready_group(timeout=0.05 if self.outstanding else 0.0)
            if group:
                self._commit(group)
            elif self.queue.pending and (self.outstanding == 0 or len(self.queue.pending) >= self.opts.batch):
                self.queue.flush()

    def _poke(self) -> None:
        """A connection has something for the coordinator (a prepared message, an answer).

        It is woken only when it has something to do with it (a group complete, the first
        prepared message, rows to claim or replies to write); otherwise its wake-up would find
        nothing and wait again: two wake-ups a message saved.
        """
        poked = self._poked
        if poked is None or poked.done():
            return
        if self._gathering:
            if not self._gathered():
                return
        elif (
            not self.ready
            and not self.stopping
            and self.outstanding >= self._low_water
            and len(self.queue.pending) < self.opts.batch
        ):
            return
        poked.set_result(None)

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
        self._gathering = True
        try:
            while True:
                left = deadline - loop.time()
                if self._gathered() or left <= 0:
                    group, self.ready = self.ready, []
                    return group
                await self._until_poked(left)
        finally:
            self._gathering = False

    def _gathered(self) -> bool:
        """Whether every connection busy with a message (up to one each) has it ready for its dot."""
        return len(self.ready) >= min(self.opts.concurrency, self.outstanding - len(self.jobs))

    def _claim(self) -> list[Claim]:
        """Claim a batch (judged again in the queue) and hand its allowed jobs to the connections."""
        found = self.queue.claim()
        if found is None:
            self._stop()
            return []
        jobs, claimed = found
        self.outstanding += len(jobs)
        self.jobs.extend(jobs)
        self._hand_out()
        return claimed

    def _hand_out(self) -> None:
        """Wake as many waiting connections as there are jobs (all of them when stopping)."""
        n = len(self._idle) if self.stopping else min(len(self.jobs), len(self._idle))
        for waiter in self._idle[:n]:
            _wake(waiter)
        del self._idle[:n]

    def _commit(self, group: list[_Prepared]) -> None:
        """Mark a group sent (judged once more) in one transaction, then let every dot go at once."""
        try:
            may = self.queue.record([Held(p.job, p.key, p.session.revocable) for p in group])
        except BaseException:
            for p in group:  # nothing was committed: every connection hangs up without its dot
                _stop(p)
            self.outstanding -= len(group)
            raise
        self._let_go(group, [p for p, ok in zip(group, may, strict=True) if ok])

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
        dropped = [p.job.no for p in group if id(p) not in going]
        self.outstanding -= len(dropped)
        self.queue.dropped(dropped)

    def _stop(self) -> None:
        """The campaign is no longer sending: hand back what the connections have not started."""
        self.stopping = True
        unstarted = [job.no for job in self.jobs]
        self.jobs.clear()
        self.outstanding -= len(unstarted)
        self._hand_out()
        self.queue.release(unstarted)

    async def _finished(self) -> bool:
        """Nothing to claim now: done, or wait for retries and for other workers."""
        standing = self.queue.standing()
        if standing.status is not CampaignStatus.SENDING:
            return True
        if standing.claimed:
            if not self.queue.reclaim(everyone=False):
                await asyncio.sleep(0.2)  # other live workers are sending the rest
            return False
        if not self.opts.wait_for_retries:
            return True
        due = standing.due
        wait = (due - self.app.clock.now()).total_seconds() if due else 0.0
        await asyncio.sleep(min(max(wait, 0.05), 5.0))
        return False

    async def _shutdown(self) -> None:
        """Stop the connections: unstarted jobs go back, prepared messages are dropped without their dot.

        Messages already committed are given the time to hear their answer (30 s at most).
        """
        loop = asyncio.get_running_loop()
        self._stop()
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
                self.queue.flush()
            finally:
                self.queue.release(sorted(self.queue.mine))

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

    def _final(self, job: Job, reply: Reply, committed: bool) -> None:
        self.queue.pending.append(Final(job, reply, committed))
        self.outstanding -= 1
        self._poke()

    async def _deliver(self, session: AsyncSession, job: Job) -> None:
        try:
            msg = self.letters.outgoing(job)
        except RenderError as exc:
            self._final(job, Reply(554, str(exc)), committed=False)
            return
        if self.pacer.interval:  # no await (a coroutine a message) without a rate
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
