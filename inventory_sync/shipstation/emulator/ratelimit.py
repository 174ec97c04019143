"""The emulator's per-minute limit: fixed 60-second windows, as X-Rate-Limit-Reset implies."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_WINDOW_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int


class FixedWindowLimiter:
    """Counts requests per account in windows that open with the first request after a reset."""

    def __init__(self, per_minute: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._per_minute = per_minute
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._window_start = -math.inf
        self._count = 0

    def check(self) -> Verdict:
        """Count one request and say whether it fits; a limit of 0 means unlimited."""
        if self._per_minute <= 0:
            return Verdict(allowed=True, limit=0, remaining=0, reset_seconds=0)
        with self._lock:
            now = self._monotonic()
            if now - self._window_start >= _WINDOW_SECONDS:
                self._window_start, self._count = now, 0
            reset = max(1, math.ceil(self._window_start + _WINDOW_SECONDS - now))
            if self._count >= self._per_minute:
                return Verdict(
                    allowed=False, limit=self._per_minute, remaining=0, reset_seconds=reset
                )
            self._count += 1
            remaining = self._per_minute - self._count
            return Verdict(
                allowed=True, limit=self._per_minute, remaining=remaining, reset_seconds=reset
            )
