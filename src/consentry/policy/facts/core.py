"""What every fact is computed from: the question, the controller, the situation, and the registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from consentry.domain.clock import LOCAL_TZ
from consentry.domain.purposes import Purpose
from consentry.domain.state import DECEASED, ContactState
from consentry.domain.vocabulary import (
    Activity,
    Channel,
    MessageKind,
    Sector,
)

#: Rule dates are Dutch calendar dates: a law in force "from 2021-07-01" starts at
#: midnight in Amsterdam, not in UTC.
LEGAL_TZ = LOCAL_TZ
#: The Code Telemarketing's limit for calling ex-customers, in years (self-regulation).
CUSTOMER_WINDOW_YEARS = 3

BEL_ME_NIET = "bel-me-niet"
POSTFILTER = "postfilter"
#: The Nationaal Overledenenregister (see `consentry.domain.state.DECEASED`).
DECEASED_REGISTER = DECEASED

_MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
              "september", "oktober", "november", "december")  # fmt: skip
_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")  # fmt: skip


def day_both(moment: datetime | date) -> tuple[str, str]:
    """A moment's Dutch calendar day written out in Dutch and in English: (4 maart 2022, 4 March 2022)."""
    return _written(moment.astimezone(LEGAL_TZ).date() if isinstance(moment, datetime) else moment)


@lru_cache(maxsize=4096)
def _written(d: date) -> tuple[str, str]:
    # Explanations name the same few days over and over (a sale, a rule date).
    return f"{d.day} {_MONTHS_NL[d.month - 1]} {d.year}", f"{d.day} {_MONTHS_EN[d.month - 1]} {d.year}"


@dataclass(frozen=True, slots=True)
class Controller:
    """The organisation that sends: its name, its sector, and its Postfilter sector.

    `postal_sector` is the Postfilter sector the sender declares for its addressed
    mail (a key as the Postfilter file names it); None means undeclared, and then
    every Postfilter listing blocks, whatever sectors it names.
    """

    name: str = "Demo BV"
    sector: Sector = Sector.COMMERCIAL
    postal_sector: str | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """What is asked: may we use this channel, for this purpose and kind, at this moment."""

    channel: Channel
    purpose: Purpose
    at: datetime
    kind: MessageKind = MessageKind.MARKETING
    activity: Activity = Activity.CONTACT


class Situation:
    """One question about one contact point: the facts are computed on demand, once."""

    __slots__ = ("controller", "day", "memo", "q", "s")

    def __init__(self, state: ContactState, q: Question, controller: Controller) -> None:
        self.s = state
        self.q = q
        self.controller = controller
        self.day: date = _legal_day(q.at)
        self.memo: dict[str, bool] = {}

    def get(self, name: str) -> bool:
        """The value of one named fact."""
        v = self.memo.get(name)
        if v is None:
            v = self.memo[name] = FACTS[name].compute(self)
        return v


_last_day: tuple[datetime | None, date | None] = (None, None)


def _legal_day(at: datetime) -> date:
    """The Dutch calendar day of a moment; the last one is kept, as a batch asks about one moment."""
    global _last_day
    last = _last_day  # one tuple, replaced whole: safe to share between threads
    if last[0] is at and last[1] is not None:
        return last[1]
    day = at.astimezone(LEGAL_TZ).date()
    _last_day = (at, day)
    return day


@dataclass(frozen=True, slots=True)
class Fact:
    """A named yes/no question with its meaning in English and Dutch.

    A `question` fact depends only on the question and the controller, never on
    the contact point, so the evaluator can settle it once per kind of question.
    """

    name: str
    en: str
    nl: str
    compute: Callable[[Situation], bool]
    question: bool = False


FACTS: dict[str, Fact] = {}


def fact(
    name: str, en: str, nl: str, question: bool = False
) -> Callable[[Callable[[Situation], bool]], Callable[[Situation], bool]]:
    """Register a fact under its name."""

    def register(fn: Callable[[Situation], bool]) -> Callable[[Situation], bool]:
        FACTS[name] = Fact(name, en, nl, fn, question)
        return fn

    return register
