"""Sending a campaign: every allowed person gets the message exactly once, even if a worker is killed.

The queue
    Starting a campaign writes its judged audience into `campaign_messages` in
    one statement (`consentry.services.audience`): allowed points are queued,
    the rest skipped with the rule that excluded them.

A worker's cycle
    1. Take a batch of claimed rows in one writer transaction and, in it,
       judge each person again with the per-contact evaluator as of now
       (`queue.judge`): an unsubscribe or objection committed since the queue
       was filled stops the message here (skipped, with the rule). The rows are
       claimed ahead, a range of up to `queue.RANGE_BATCHES` batches at a time (`queue.ranges`).
    2. Connections (`--concurrency` SMTP connections, all driven by one event
       loop in the worker's thread) each write a message and send it *without*
       its final dot, paced to `--rate` (`coordinator`).
    3. Whatever messages wait for their dot are committed together in ONE
       writer transaction: judged once more, marked sent, and the Art. 14
       notices recorded (`queue.Queue.record`).
    4. Only after the commit the final dots are written in a tight loop, and
       the rows are let go; the replies are written with the next transaction.

    Written to the SMTP server up to its final dot, marked sent, then released:
    why that makes every message go exactly once (at most once in the
    microseconds between COMMIT and the last dot) is told in `queue`.

The parts, none importing one above it:
    - `lifecycle`: start, send, pause, resume - what the CLI and API call;
    - `coordinator`: the event loop that drives the connections and the commits;
    - `queue`: the transactional claim / judge / record steps and the re-check;
    - `messages`: one claimed message written out for its transport;
    - `model`: the options, the report and the records the parts pass along.
"""

from consentry.services.sending.coordinator import GATHER_S
from consentry.services.sending.lifecycle import default_transport, pause, resume, send, start
from consentry.services.sending.model import CampaignNotSendable, Progress, SendOptions, SendReport
from consentry.services.sending.queue import GONE, judge

__all__ = [
    "GATHER_S",
    "GONE",
    "CampaignNotSendable",
    "Progress",
    "SendOptions",
    "SendReport",
    "default_transport",
    "judge",
    "pause",
    "resume",
    "send",
    "start",
]
