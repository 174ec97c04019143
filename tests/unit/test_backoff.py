"""The one backoff both retrying readers use: ShipStation's client (jittered) and HTTP sources."""

from __future__ import annotations

import random

from inventory_sync.backoff import backoff_seconds


class TestBackoff:
    def test_the_wait_doubles_per_attempt_up_to_the_cap(self):
        waits = [backoff_seconds(n, base=0.5, cap=3.0) for n in range(5)]
        assert waits == [0.5, 1.0, 2.0, 3.0, 3.0]

    def test_with_jitter_the_wait_is_between_half_and_all_of_the_exact_one(self):
        rng = random.Random(7)
        waits = [backoff_seconds(3, base=1.0, cap=60.0, rng=rng) for _ in range(200)]
        assert all(4.0 <= wait <= 8.0 for wait in waits)
        assert len(set(waits)) > 100  # spread out, not one value
