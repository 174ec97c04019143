"""How long to wait before trying again: one exponential backoff for every retrying reader."""

from __future__ import annotations

import random


def backoff_seconds(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """``base`` doubled per attempt (0 first), at most ``cap``.

    With ``rng``, half of it is fixed and half random, so workers that failed together do
    not all come back at the same moment; without, the wait is exact (one reader alone).
    """
    ceiling = min(cap, base * 2.0**attempt)
    if rng is None:
        return float(ceiling)
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))
