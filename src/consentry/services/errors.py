"""Errors the services and their ports raise: bad input names the field (and line) at fault."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from consentry.domain.errors import FieldError


class InputError(FieldError):
    """One input value is wrong; `field` names it."""


E = TypeVar("E", bound=StrEnum)


def choice(enum: type[E], field: str, value: str | E) -> E:
    """`value` as a member of `enum`; InputError naming the field and the allowed values otherwise.

    A member or a member's value is found in the enum's own map of values, as `enum(value)`
    looks it up first, without the call through the enum's metaclass (~4,900 instructions
    against ~1,600; a decision checks three: session 11); anything else goes to `enum(value)`.
    """
    try:
        found = enum._value2member_map_.get(value)
    except TypeError:  # unhashable: `enum(value)` says what is wrong
        found = None
    if found is not None:
        return found  # type: ignore[return-value]  # a member of `enum`, by its map
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InputError(field, f"{value!r} is not one of: {allowed}") from None


@dataclass(frozen=True, slots=True)
class LineProblem:
    """A problem on one line of an input file."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


class FileRejected(ValueError):
    """An input file had problems; nothing from it was written."""

    def __init__(self, problems: list[LineProblem], truncated: bool = False) -> None:
        more = " (and more; first ones shown)" if truncated else ""
        super().__init__(f"{len(problems)} problem(s){more}; nothing was appended")
        self.problems = problems
        self.truncated = truncated


class AlreadyExists(ValueError):
    """A write met a key that exists: defined before, or by another transaction at the same time.

    The store raises it (for its own unique-key violation); the services say what it means.
    """


class TokenInvalid(ValueError):
    """The token was forged, truncated or made for something else."""


class TokenExpired(ValueError):
    """The token is genuine but too old."""


class WorkerBusy(RuntimeError):
    """The store admits no more send workers (SQLite allows one)."""


class RateLimited(Exception):
    """Too many attempts; `retry_after` seconds until the next is allowed."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"too many attempts ({what}); try again in {retry_after} s")
        self.what = what
        self.retry_after = retry_after


class MailError(RuntimeError):
    """The mail server could not be reached or refused the message."""


# -- the admin app's logins (services/users.py) ---------------------------------------------


class LoginFailed(Exception):
    """The address, password or code was wrong (which one is never said)."""


class LockedOut(Exception):
    """Too many failed logins in a row; the user may try again at `until`."""

    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


class TooManyAttempts(Exception):
    """Too many login attempts from one client; the next is allowed in `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many login attempts; try again in {retry_after} s")
        self.retry_after = retry_after


class SessionEnded(Exception):
    """The session expired, was logged out, or its user was disabled."""


class NotAllowed(Exception):
    """The user's role does not reach this page."""


#: What to do about a damaged ledger, said with every refusal.
VERIFY = "run `consentry ledger verify --checkpoint FILE`; restore the database from a backup"


class LedgerDamaged(RuntimeError):
    """The ledger is wiped, cut short or no longer what was signed: nothing is decided or sent on it."""
