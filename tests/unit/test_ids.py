"""Production ids: unique, unguessable, and made later means sorted later."""

from __future__ import annotations

import os
import re
import sys
import threading
import time

from consentry.domain.ids import _TimeAndRandom, random_ids


def test_ids_are_unique_fit_their_columns_and_sort_by_creation_time() -> None:
    earlier = [random_ids("cp") for _ in range(2000)]
    time.sleep(0.002)
    later = [random_ids("cp") for _ in range(2000)]
    assert len(set(earlier + later)) == 4000
    assert all(re.fullmatch(r"cp_[0-9a-f]{32}", i) for i in earlier + later)
    assert all(len(i) <= 40 for i in earlier)  # the id columns hold 40 characters
    assert max(earlier) < min(later)
    # Within one millisecond the order is random: 80 random bits follow the time.
    assert len({i[3:15] for i in earlier}) < len(earlier)


def test_a_forked_process_makes_ids_of_its_own_not_the_parents_next_ones() -> None:
    random_ids("ev")  # the parent has random bits read ahead
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(write, random_ids("ev").encode())
        os._exit(0)
    os.waitpid(child, 0)
    in_child = os.read(read, 100).decode()
    in_parent = random_ids("ev")
    assert in_child[15:] != in_parent[15:]


def test_threads_never_share_an_id() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def make(out: list[str]) -> None:
        out.extend(random_ids("ev") for _ in range(3000))

    threads = [threading.Thread(target=make, args=(out,)) for out in made]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for out in made for i in out]
    assert len(set(every)) == len(every) == 12000


def test_threads_taking_ids_while_blocks_are_read_never_share_bits() -> None:
    class Tiny(_TimeAndRandom):
        _BLOCK = 2  # a block read every other id: threads meet at the refill

    make_id = Tiny()
    made: list[list[str]] = [[] for _ in range(6)]

    def make(out: list[str]) -> None:
        out.extend(make_id("ev") for _ in range(2000))

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        threads = [threading.Thread(target=make, args=(out,)) for out in made]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    bits = [i[3 + 12 :] for out in made for i in out]
    assert len(set(bits)) == len(bits) == 12000
    assert all(re.fullmatch(r"ev_[0-9a-f]{32}", i) for out in made for i in out)
