"""Reading JSON lines for `ledger append`: what `json` accepted is still accepted, refused as before."""

from __future__ import annotations

import gc
import json
import math
import random
import threading
import weakref

from consentry.services.collector import LOAD_THRESHOLDS, rare_collections
from consentry.services.errors import InputError
from consentry.services.ledger import _decode


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


def test_what_a_load_left_in_cycles_is_collected_when_it_ends() -> None:
    class Held:
        loop: object

    gone = threading.Event()
    with rare_collections():
        cycle = Held()
        cycle.loop = cycle
        weakref.finalize(cycle, gone.set)
        del cycle
        assert not gone.is_set()
    assert gone.is_set()


def test_a_short_load_ends_without_a_full_collection() -> None:
    """One event a request (the API, a form) is a load too: it must not walk the process."""
    full = gc.get_stats()[2]["collections"]
    with rare_collections():
        pass
    assert gc.get_stats()[2]["collections"] == full


def test_after_a_long_load_everything_is_collected() -> None:
    full = gc.get_stats()[2]["collections"]
    with rare_collections():
        gc.collect(0)  # as a load past the young threshold: its objects may have grown older
    assert gc.get_stats()[2]["collections"] == full + 1


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


def test_an_integer_of_19_digits_or_more_is_read_exactly_wherever_it_stands() -> None:
    rnd = random.Random(19)
    texts = ["", "é", "€ 12345", "😀", "198.51.100.7", "06 12345678", "2019-01-01T00:00:00+00:00"]
    for _ in range(3000):
        digits = rnd.randrange(17, 24)
        number = (
            rnd.choice(["", "-"])
            + str(rnd.randrange(1, 10))
            + "".join(rnd.choices("0123456789", k=digits - 1))
        )
        fields = [f'"{k}": {json.dumps(rnd.choice(texts), ensure_ascii=rnd.random() < 0.3)}' for k in "abc"]
        fields.insert(rnd.randrange(4), f'"n": {number}')
        if rnd.random() < 0.3:  # the same digits in a string only
            fields.append(f'"ref": "{number}"')
        line = "{" + ", ".join(fields) + "}"
        [(_, got)] = list(_decode([line]))
        assert repr(got) == repr(json.loads(line))
        assert type(got["n"]) is int


def test_a_lone_surrogate_in_the_text_itself_is_read_by_json_as_before() -> None:
    [(_, got)] = list(_decode(['{"a": "\ud800x", "n": 12}']))
    assert got == {"a": "\ud800x", "n": 12}


def test_odd_lines_read_or_are_refused_as_json_reads_or_refuses_them() -> None:
    odd = [
        '\ufeff{"a": 1}',
        '{"a": 1}\r\n',
        '{"a": 1}\x00',
        ' {"a": 1} ',
        '{"a": "\x7f\u2028"}',
        '{"a": 1}\u2028',
        '\xa0{"a": 1}',
        '{"a": 1} {"b": 2}',
        '{"a": 1e400}',
        '{"a": -0}',
        '{"a": "1234567890123456789012"}',
    ]
    for line in odd:
        [(_, got)] = list(_decode([line]))
        try:
            expected = json.loads(line)
        except json.JSONDecodeError as exc:
            assert isinstance(got, InputError), line
            assert got.message == f"not valid JSON ({exc.msg}, column {exc.colno})"
        else:
            assert repr(got) == repr(expected), line
