"""Purposes: what a contact is for, defined once and referred to by key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from consentry.domain import limits
from consentry.domain.vocabulary import PurposeKind

_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


class PurposeError(ValueError):
    """A purpose definition is invalid, or a purpose key is unknown."""


@dataclass(frozen=True, slots=True)
class Purpose:
    """A marketing purpose: its key, names, kind and the product categories it promotes.

    The customer exception (NL-EM-02, NL-TM-02) compares `categories` with the
    categories a customer bought to judge "own similar products".
    """

    key: str
    name_nl: str
    name_en: str
    kind: PurposeKind = PurposeKind.COMMERCIAL
    categories: frozenset[str] = field(default_factory=frozenset)
    third_party: bool = False

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise PurposeError(f"purpose key {self.key!r}: use lower-case letters, digits, '_', '-' or '.'")
        if not self.name_nl.strip() or not self.name_en.strip():
            raise PurposeError(f"purpose {self.key!r}: a Dutch and an English name are required")
        if max(len(self.name_nl), len(self.name_en)) > limits.NAME:
            raise PurposeError(f"purpose {self.key!r}: a name {limits.too_long(limits.NAME)}")
        if len(self.categories) > limits.ITEMS or any(len(c) > limits.LABEL for c in self.categories):
            raise PurposeError(
                f"purpose {self.key!r}: at most {limits.ITEMS} categories of {limits.LABEL} characters each"
            )

    def to_json(self) -> dict[str, object]:
        """The purpose as JSON-native values: the one shape the CLI, the API and the store use."""
        return {
            "key": self.key,
            "name_nl": self.name_nl,
            "name_en": self.name_en,
            "kind": self.kind.value,
            "categories": sorted(self.categories),
            "third_party": self.third_party,
        }

    def promotes_any_of(self, bought: frozenset[str]) -> bool:
        """True when the purpose promotes a category the person bought (similar products)."""
        return not self.third_party and not self.categories.isdisjoint(bought)
