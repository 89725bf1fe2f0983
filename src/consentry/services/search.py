"""The admin app's contact search: by address or number, by name words, by tag.

An address or number is found through its blind index (`contact_points.lookup`), name words
and tags through the blind indexes of `point_terms`: the store never compares clear text, and
every search is an index look-up, however many contact points there are.
"""

from __future__ import annotations

from dataclasses import dataclass

from consentry.domain import limits
from consentry.policy.factrows import tag_term, words
from consentry.services.app import App
from consentry.services.contacts import UnknownContact, point_key, resolve
from consentry.services.errors import InputError
from consentry.services.ports import FoundPoint

#: How a search reads what was typed: `auto` tries an address or number, then a name.
WAYS = ("auto", "point", "name", "tag")
#: Points listed at most (the rest: "type more").
SHOWN = 50


@dataclass(frozen=True, slots=True)
class Found:
    """The points a search found, at most SHOWN; `more` when there were more."""

    query: str
    by: str
    points: list[FoundPoint]
    more: bool


def search(app: App, query: str, by: str = "auto", shown: int = SHOWN) -> Found:
    """The contact points `query` names: an address or number, a tag or the words of a name."""
    text = query.strip()
    if by not in WAYS:
        raise InputError("by", f"unknown kind of search {by!r}: choose {', '.join(WAYS)}")
    if not text:
        raise InputError("q", "type an e-mail address, a phone number, a name or a tag")
    if len(text) > limits.CONTACT:
        raise InputError("q", limits.too_long(limits.CONTACT))
    if by == "auto" and text.startswith("tag:"):
        by, text = "tag", text[4:].strip()
        if not text:
            raise InputError("q", "type the tag after tag:")
    with app.store.reader() as r:
        if by in ("auto", "point"):
            try:
                point_key(text, app.settings.default_region)
            except InputError:
                if by == "point":
                    raise
            else:
                try:
                    point_id, _ = resolve(r, text, app.settings.default_region)
                except UnknownContact:
                    return Found(text, "point", [], False)
                return Found(text, "point", r.found_points([point_id]), False)
            by = "name"
        if by == "tag":
            terms = [tag_term(text)]
        else:
            found = words(text)
            if not found:
                raise InputError("q", "type at least one word of the name (letters or digits)")
            terms = [f"name:{w}" for w in found[:8]]
        ids = r.points_with_terms(terms, shown + 1)
        return Found(text, by, r.found_points(ids[:shown]), len(ids) > shown)
