"""Which jobs are running and when each last made progress: for the watchdog and for stop."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class JobActivity:
    """Running jobs by id, with the monotonic time each last showed progress; thread-safe."""

    def __init__(self) -> None:
        self._running: dict[str, float] = {}
        self._changed = threading.Condition()

    @contextmanager
    def running(self, job_id: str) -> Iterator[None]:
        with self._changed:
            self._running[job_id] = time.monotonic()
        try:
            yield
        finally:
            with self._changed:
                self._running.pop(job_id, None)
                self._changed.notify_all()

    def touch(self, job_id: str) -> None:
        """The job is still making progress (a push answered, a page arrived)."""
        with self._changed:
            if job_id in self._running:
                self._running[job_id] = time.monotonic()

    def is_running(self, job_id: str) -> bool:
        with self._changed:
            return job_id in self._running

    def stuck(self, after_seconds: float) -> list[str]:
        """Jobs that have shown no progress for longer than ``after_seconds``."""
        now = time.monotonic()
        with self._changed:
            return [job for job, seen in self._running.items() if now - seen > after_seconds]

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no job runs; False when ``timeout`` seconds passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._running, timeout=timeout)

    def names(self) -> list[str]:
        with self._changed:
            return sorted(self._running)
