"""Production ids: unique, unguessable, and made later means sorted later."""

from __future__ import annotations

import re
import time

from consentry.domain.ids import random_ids


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
