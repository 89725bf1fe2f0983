"""A `Purchase` is made as the frozen dataclass's own `__init__` made it: same fields, default, frozen."""

from __future__ import annotations

import dataclasses
import pickle
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from consentry.domain.state import Purchase
from generated_init import made_as_generated

AT = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def _reference() -> type[Any]:
    """The same fields as a frozen dataclass with its generated `__init__`."""
    return dataclasses.make_dataclass(
        "Reference",
        [
            ("at", datetime),
            ("categories", frozenset),
            ("opt_out_offered", bool),
            ("collected_by_sender", bool),
            ("contract", bool, dataclasses.field(default=False)),
        ],
        frozen=True,
        slots=True,
    )


def test_a_purchase_holds_what_the_generated_init_would_hold_given_by_position_or_by_name() -> None:
    reference = _reference()
    assert [f.default for f in dataclasses.fields(reference)] == [
        f.default for f in dataclasses.fields(Purchase)
    ]

    def draw(rnd: random.Random, _n: int) -> list[Any]:
        return [
            AT + timedelta(seconds=rnd.randrange(10**6)),
            frozenset(rnd.sample(["koffiebonen", "apparatuur", "thee"], rnd.randrange(4))),
            rnd.choice([True, False]),
            rnd.choice([True, False]),
            rnd.choice([True, False]),
        ][: rnd.randrange(4, 6)]

    assert sum(1 for _ in made_as_generated(Purchase, reference, draw)) == 2000
    with pytest.raises(TypeError):
        Purchase(AT, frozenset())  # type: ignore[call-arg]


def test_a_purchase_stays_frozen_compares_copies_and_pickles_as_before() -> None:
    p = Purchase(AT, frozenset({"thee"}), True, False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.contract = True  # type: ignore[misc]
    assert dataclasses.replace(p, contract=True) == Purchase(AT, frozenset({"thee"}), True, False, True)
    assert p == Purchase(AT, frozenset({"thee"}), True, False, False)
    assert hash(p) == hash(Purchase(AT, frozenset({"thee"}), True, False))
    assert pickle.loads(pickle.dumps(p)) == p
    assert repr(p).startswith("Purchase(at=")
