"""Which failures may be retried for which call (the wait between attempts: backoff.py)."""

from __future__ import annotations

from enum import Enum

import httpx

# The request provably never reached the server: replaying cannot double-apply anything.
NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)

BACKOFF_CAP_SECONDS = 20.0  # a longer outage is better reported than waited out by a worker


class Replay(Enum):
    """What a call may do after sending it produced no usable answer."""

    ALWAYS = "always"  # reads, PUT renames, adjust: an absolute state, replaying is harmless
    IF_NOT_SENT = "if_not_sent"  # increment, decrement, modify, creates, deletes


def never_sent(exc: httpx.TransportError) -> bool:
    return isinstance(exc, NEVER_SENT)
