"""Seeded fault injection: latency, 5xx answers, 429 bursts and dropped connections."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from enum import Enum
from typing import Any

from inventory_sync.shipstation.emulator.settings import FaultSettings


class Fault(Enum):
    """What the emulator does to one request instead of (or around) answering it."""

    NONE = "none"
    DROP_BEFORE = "drop_before"  # close the connection before touching state
    BURST_429 = "burst_429"
    ERROR_BEFORE = "error_before"  # 503, nothing changed
    ERROR_AFTER = "error_after"  # 503, but the change was committed
    LOST_ACK = "lost_ack"  # change committed, connection dropped without an answer


class FaultInjector:
    """Draws one fault per request from a seeded random stream; settings change at run time."""

    def __init__(self, settings: FaultSettings) -> None:
        self._lock = threading.Lock()
        self._settings = settings
        self._random = random.Random(settings.seed)
        self._burst_left = 0

    @property
    def settings(self) -> FaultSettings:
        return self._settings

    def configure(self, settings: FaultSettings) -> None:
        with self._lock:
            reseed = settings.seed != self._settings.seed
            self._settings = settings
            self._burst_left = 0
            if reseed:
                self._random = random.Random(settings.seed)

    def update(self, **changes: Any) -> FaultSettings:  # noqa: ANN401
        """Change some settings (the admin endpoint and tests call this)."""
        new = replace(self._settings, **changes)
        self.configure(new)
        return new

    def draw(self, *, is_write: bool) -> Fault:
        with self._lock:
            s, roll = self._settings, self._random.random
            if self._burst_left > 0:
                self._burst_left -= 1
                return Fault.BURST_429
            if roll() < s.burst_429_rate and s.burst_429_length > 0:
                self._burst_left = s.burst_429_length - 1
                return Fault.BURST_429
            if roll() < s.drop_before_rate:
                return Fault.DROP_BEFORE
            if roll() < s.error_rate:
                after = is_write and roll() < s.error_after_commit_share
                return Fault.ERROR_AFTER if after else Fault.ERROR_BEFORE
            if is_write and roll() < s.lost_ack_rate:
                return Fault.LOST_ACK
            return Fault.NONE
