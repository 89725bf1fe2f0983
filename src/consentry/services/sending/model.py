"""What a sending worker is told, what it reports, and the records its parts pass each other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from consentry.adapters.transport import Reply
from consentry.domain.campaigns import CampaignStatus
from consentry.domain.state import ContactState
from consentry.policy.rules import Decision
from consentry.services.errors import InputError

#: Called with a message status ("sent", "skipped", "retried", "failed") and how many more have it.
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
class Job:
    """One claimed message, allowed when it was claimed: who (the point's id and number), how
    often tried, and why allowed."""

    point: str
    no: int
    attempts: int
    state: ContactState
    decision: Decision
    notice_again: bool


@dataclass(frozen=True)
class Final:
    """A message's last answer, to be written with the next transaction."""

    job: Job
    reply: Reply
    committed: bool
