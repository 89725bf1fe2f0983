"""How many rows a send worker claims at a time (`sending.queue.ranges`)."""

from __future__ import annotations

from itertools import islice

from consentry.services.sending.queue import RANGE_BATCHES, RANGE_S, ranges


def test_a_worker_claims_one_batch_first_then_twice_the_last_up_to_its_most() -> None:
    assert list(islice(ranges(500, None), 7)) == [500, 1000, 2000, 4000, 8000, 8000, 8000]
    assert max(islice(ranges(3, None), 20)) == 3 * RANGE_BATCHES


def test_a_rate_limit_caps_a_claim_at_seconds_of_sending_and_never_below_a_batch() -> None:
    assert list(islice(ranges(200, 100), 5)) == [200, 400, int(100 * RANGE_S), 500, 500]
    assert list(islice(ranges(5, 0.5), 3)) == [5, 5, 5]
