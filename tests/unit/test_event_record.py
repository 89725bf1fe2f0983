"""An `Event` is made as the frozen dataclass's own `__init__` made it: same fields, defaults, frozen."""

from __future__ import annotations

import dataclasses
import pickle
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from consentry.domain.events import SCHEMA_VERSION, Event
from generated_init import made_as_generated

AT = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def _reference() -> type[Any]:
    """The same fields as a frozen dataclass with its generated `__init__`."""
    return dataclasses.make_dataclass(
        "Reference",
        [
            ("id", str),
            ("type", str),
            ("contact_point_id", str),
            ("occurred_at", datetime),
            ("recorded_at", datetime),
            ("payload", dict, dataclasses.field(default_factory=dict)),
            ("schema_version", int, dataclasses.field(default=SCHEMA_VERSION)),
            ("seq", Any, dataclasses.field(default=None)),
        ],
        frozen=True,
        slots=True,
    )


def test_an_event_holds_what_the_generated_init_would_hold_given_by_position_or_by_name() -> None:
    def draw(rnd: random.Random, n: int) -> list[Any]:
        return [
            f"ev_{n}",
            rnd.choice(["consent.given", "unsubscribed"]),
            f"cp_{rnd.randrange(99)}",
            AT + timedelta(seconds=rnd.randrange(10**6)),
            AT,
            {"purpose": "nieuwsbrief", "n": n},
            rnd.choice([1, 2]),
            rnd.choice([None, n]),
        ][: rnd.randrange(5, 9)]

    made_any = 0
    for made, args in made_as_generated(Event, _reference(), draw):
        assert made.payload is args[5] if len(args) > 5 else made.payload == {}  # kept, not copied
        made_any += 1
    assert made_any == 2000


def test_an_event_without_a_payload_gets_an_empty_one_of_its_own() -> None:
    first, second = Event("ev_1", "t", "cp_1", AT, AT), Event("ev_2", "t", "cp_1", AT, AT)
    assert first.payload == {} and second.payload == {}
    assert first.payload is not second.payload
    assert (first.schema_version, first.seq) == (SCHEMA_VERSION, None)


def test_an_event_stays_frozen_compares_copies_and_pickles_as_before() -> None:
    ev = Event("ev_1", "consent.given", "cp_1", AT, AT, {"purpose": "p"}, SCHEMA_VERSION, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.seq = 4  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del ev.id  # type: ignore[misc]
    assert dataclasses.replace(ev, seq=4) == Event(
        "ev_1", "consent.given", "cp_1", AT, AT, {"purpose": "p"}, 1, 4
    )
    assert pickle.loads(pickle.dumps(ev)) == ev
    assert repr(ev).startswith("Event(id='ev_1', type='consent.given', contact_point_id='cp_1', occurred_at=")
    with pytest.raises(TypeError):
        Event("ev_1", "t", "cp_1", AT)  # type: ignore[call-arg]
