"""A record class with a hand-written `__init__` held to the one `dataclasses` would generate."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Iterator
from typing import Any


def made_as_generated(
    cls: type[Any], reference: type[Any], draw: Callable[[random.Random, int], list[Any]], runs: int = 2000
) -> Iterator[tuple[Any, list[Any]]]:
    """`cls` and `reference` (the same fields, as a frozen dataclass with its generated `__init__`)
    given the same arguments, `draw(rnd, n)`'s, the first of them by position and the rest by name
    at a random split: every field the same. Yields each record made and its arguments."""
    names = [f.name for f in dataclasses.fields(cls)]
    assert [f.name for f in dataclasses.fields(reference)] == names
    rnd = random.Random(16)
    for n in range(runs):
        args = draw(rnd, n)
        split = rnd.randrange(len(args) + 1)
        kwargs = dict(zip(names[split : len(args)], args[split:], strict=True))
        made, expected = cls(*args[:split], **kwargs), reference(*args[:split], **kwargs)
        assert [getattr(made, name) for name in names] == [getattr(expected, name) for name in names]
        yield made, args
