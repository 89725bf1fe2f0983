"""The admin app's pages and who may open them: one table for the menu and the route guards.

Each page names the roles that may open it (a beheerder opens every page) and the roles that
may change something on it. The menu shows a user only the pages their role opens, and the
page's routes are guarded by the same entry (`opens`, `changes`), so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from consentry.domain.users import Role, User
from consentry.entrypoints.web.admin_session import allow
from consentry.i18n import N_

_EVERYONE = frozenset(Role)
_MARKETING = frozenset({Role.MARKETEER})
_CONTACT_WRITERS = frozenset({Role.MARKETEER, Role.PRIVACY_OFFICER})
_PRIVACY = frozenset({Role.PRIVACY_OFFICER})


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the admin app in the menu."""

    key: str
    path: str
    #: The menu text (English message id; the template translates it).
    label: str
    #: Who may open it (besides a beheerder).
    readers: frozenset[Role]
    #: Who may change something on it (besides a beheerder).
    writers: frozenset[Role] = frozenset()


#: The menu, in its order. A page is listed once its routes exist.
PAGES: tuple[Page, ...] = (
    Page("overview", "/admin", N_("Overview"), _EVERYONE),
    Page("contacts", "/admin/contacts", N_("Contacts"), _EVERYONE, _CONTACT_WRITERS),
    Page("purposes", "/admin/purposes", N_("Purposes"), _EVERYONE, _MARKETING),
    Page("forms", "/admin/forms", N_("Forms"), _EVERYONE, _MARKETING),
    Page("import", "/admin/import", N_("Import"), _MARKETING, _MARKETING),
    Page("campaigns", "/admin/campaigns", N_("Audiences and campaigns"), _MARKETING, _MARKETING),
    Page("requests", "/admin/requests", N_("Requests"), _PRIVACY | {Role.READ_ONLY}, _PRIVACY),
    Page("retention", "/admin/retention", N_("Retention periods"), _PRIVACY, _PRIVACY),
    Page("registers", "/admin/registers", N_("Registers"), _EVERYONE, _PRIVACY),
    Page("audit", "/admin/audit", N_("Audit log"), frozenset({Role.PRIVACY_OFFICER})),
    Page("settings", "/admin/settings", N_("Settings"), frozenset()),
)
_BY_KEY = {p.key: p for p in PAGES}


def menu(user: User) -> list[Page]:
    """The pages `user` may open, in menu order."""
    return [p for p in PAGES if user.role is Role.BEHEERDER or user.role in p.readers]


def may_change(user: User, key: str) -> bool:
    """True when `user` may change something on page `key` (templates hide what they may not)."""
    return user.role is Role.BEHEERDER or user.role in _BY_KEY[key].writers


def opens(key: str) -> Callable[[User], User]:
    """The guard of page `key`'s views: the logged-in user, when their role opens it."""
    return allow(*_BY_KEY[key].readers)


def changes(key: str) -> Callable[[User], User]:
    """The guard of page `key`'s changes: the logged-in user, when their role may change it."""
    return allow(*_BY_KEY[key].writers)


#: Who may erase a person from their contact page (besides a beheerder): not a marketer.
_ERASERS = _PRIVACY


def may_erase(user: User) -> bool:
    """True when `user` may erase a person from the contact page (templates hide the button)."""
    return user.role is Role.BEHEERDER or user.role in _ERASERS


def erases() -> Callable[[User], User]:
    """The guard of the contact page's erasure: privacy officer or beheerder."""
    return allow(*_ERASERS)


Beheerder = Annotated[User, Depends(allow())]
