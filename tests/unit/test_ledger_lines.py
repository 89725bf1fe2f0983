"""Reading JSON lines for `ledger append`: what `json` accepted is still accepted, refused as before."""

from __future__ import annotations

import gc
import json
import math
import random
import threading

from consentry.services.collector import LOAD_THRESHOLDS, rare_collections
from consentry.services.errors import InputError
from consentry.services.ledger import CHUNK, _decode


def test_lines_are_read_as_json_objects_numbered_and_blank_lines_skipped() -> None:
    got = list(_decode(['{"type": "x", "a": [1, "é"]}', "", "   \n", "\x0c", '{"b": true}\n']))
    assert got == [(1, {"type": "x", "a": [1, "é"]}), (5, {"b": True})]


def test_what_only_the_lenient_reader_accepts_is_still_accepted() -> None:
    (_, nan), (_, big), (_, lone), (_, edge) = _decode(
        [
            '{"a": NaN}',
            '{"a": 123456789012345678901234567890}',
            '{"a": "\\ud800"}',
            '{"a": -9223372036854775809, "b": 18446744073709551616}',
        ]
    )
    assert math.isnan(nan["a"])
    assert big == {"a": 123456789012345678901234567890}
    assert lone == {"a": "\ud800"}  # refused later, by the control character check, naming the field
    assert edge == {"a": -9223372036854775809, "b": 18446744073709551616}


def test_a_line_that_is_not_json_is_refused_with_the_readers_own_words() -> None:
    [(line, problem)] = list(_decode(["", "{not json"]))
    assert line == 2
    assert isinstance(problem, InputError)
    assert problem.field == "-"
    assert problem.message == "not valid JSON (Expecting property name enclosed in double quotes, column 2)"


def test_the_collector_collects_rarely_while_appending_and_as_before_afterwards() -> None:
    before = gc.get_threshold()
    with rare_collections():
        assert gc.get_threshold() == LOAD_THRESHOLDS
        with rare_collections():
            assert gc.get_threshold() == LOAD_THRESHOLDS
        assert gc.get_threshold() == LOAD_THRESHOLDS
    assert gc.get_threshold() == before


def test_the_last_of_concurrent_loads_puts_the_thresholds_back() -> None:
    before = gc.get_threshold()
    inside, leave = threading.Barrier(2), threading.Event()

    def load() -> None:
        with rare_collections():
            inside.wait()
            leave.wait()

    other = threading.Thread(target=load)
    other.start()
    with rare_collections():
        inside.wait()
    assert gc.get_threshold() == LOAD_THRESHOLDS  # the other load still runs
    leave.set()
    other.join()
    assert gc.get_threshold() == before


def _value(rnd: random.Random, depth: int = 0) -> object:
    pick = rnd.randrange(9 if depth < 3 else 6)
    if pick == 0:
        return rnd.choice(
            [0, -1, 7, 2**31, 2**53 + 1, 2**63 - 1, -(2**63), 2**64 - 1, 10**18, 2**64, -(2**63) - 1, 10**30]
        )
    if pick == 1:
        return rnd.choice(
            [0.1, -0.0, 1e16, 5e-324, 1.7976931348623157e308, 2.5, 1e-7, 123456.789, 1e19, -1e19, 2.0**63]
        )
    if pick == 2:
        return rnd.choice([True, False, None])
    if pick in (3, 4, 5):
        return "".join(rnd.choice('aé€😀"\\/\n\t ') for _ in range(rnd.randrange(6)))
    if pick in (6, 7):
        return {str(_value(rnd, 3)): _value(rnd, depth + 1) for _ in range(rnd.randrange(4))}
    return [_value(rnd, depth + 1) for _ in range(rnd.randrange(4))]


def test_every_line_reads_as_json_reads_it() -> None:
    rnd = random.Random(16)
    for _ in range(6000):
        value = {"type": "x", "v": _value(rnd)}
        line = json.dumps(value, ensure_ascii=rnd.random() < 0.5)
        [(_, got)] = list(_decode([line]))
        assert repr(got) == repr(json.loads(line))


def _as_json_reads_it(lines: list[str]) -> list[tuple[int, str]]:
    """What reading each line by `json` alone gives: numbered values (repr) or refusals."""
    out: list[tuple[int, str]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append((n, repr(json.loads(line))))
        except json.JSONDecodeError as exc:
            out.append((n, f"- not valid JSON ({exc.msg}, column {exc.colno})"))
    return out


def _as_decoded(lines: list[str]) -> list[tuple[int, str]]:
    decoded = _decode(iter(lines))
    return [(n, f"{v.field} {v.message}" if isinstance(v, InputError) else repr(v)) for n, v in decoded]


def test_many_lines_read_at_once_are_read_and_numbered_as_json_reads_each() -> None:
    # Chunks of plain lines, and chunks with a big integer, a float, NaN, a lone surrogate,
    # a blank line or a line that is not JSON somewhere in them, over several chunks.
    rnd = random.Random(1616)
    for _ in range(4):
        lines: list[str] = []
        for _ in range(3 * CHUNK + 17):
            roll = rnd.random()
            if roll < 0.004:
                odd = ["", "  \n", "{not json", '{"a": 1', '{"a": NaN}', '{"a": "\\udc00"}']
                lines.append(rnd.choice(odd))
            elif roll < 0.01:
                big = rnd.choice([2**64, -(2**63) - 1, 10**30, 10**18, 1e19, "order 12345678901234567890"])
                lines.append(json.dumps({"n": big, "m": rnd.choice([1.5, 2**65, "x"])}))
            elif roll < 0.5:  # mostly what a real file holds: short strings, dates, no numbers
                lines.append(json.dumps({"type": "x", "at": "2024-03-01T10:00:00+00:00", "v": f"é{roll}"}))
            else:
                value = {"type": "x", "v": _value(rnd)}
                lines.append(json.dumps(value, ensure_ascii=rnd.random() < 0.5) + "\n")
        assert _as_decoded(lines) == _as_json_reads_it(lines)


def test_an_integer_past_64_bits_in_a_chunk_of_plain_lines_stays_an_integer() -> None:
    lines = ['{"type": "x", "v": "a"}'] * (CHUNK - 1) + ['{"v": [1, {"w": 123456789012345678901}]}']
    *_, (n, last) = _decode(lines)
    assert n == CHUNK
    assert last == {"v": [1, {"w": 123456789012345678901}]}
    assert type(last["v"][1]["w"]) is int
