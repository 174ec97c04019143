"""Which failures may be retried for which call, and how long to wait between attempts."""

from __future__ import annotations

import random
from enum import Enum

import httpx

# The request provably never reached the server: replaying cannot double-apply anything.
NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)

_BACKOFF_CAP_SECONDS = 20.0


class Replay(Enum):
    """What a call may do after sending it produced no usable answer."""

    ALWAYS = "always"  # reads, PUT renames, adjust: an absolute state, replaying is harmless
    IF_NOT_SENT = "if_not_sent"  # increment, decrement, modify, creates, deletes


def never_sent(exc: httpx.TransportError) -> bool:
    return isinstance(exc, NEVER_SENT)


def backoff_seconds(attempt: int, rng: random.Random, base: float) -> float:
    """Exponential backoff with jitter: half fixed, half random, so workers spread out."""
    ceiling = min(_BACKOFF_CAP_SECONDS, base * 2**attempt)
    return float(ceiling / 2 + rng.uniform(0, ceiling / 2))
