"""What the daemon's jobs share: the current configuration's objects, the stop flag, activity."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import structlog

from inventory_sync import logs
from inventory_sync.app import App, ConfiguredSource
from inventory_sync.config import Settings
from inventory_sync.daemon.activity import JobActivity
from inventory_sync.daemon.cache import SnapshotCache
from inventory_sync.daemon.health import SourceHealth
from inventory_sync.daemon.replicas import ReplicaLeases
from inventory_sync.domain.model import SourceName
from inventory_sync.errors import StopRequested
from inventory_sync.notify import Notifier

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class Generation:
    """The objects built from one configuration; replaced as a whole by a reload."""

    settings: Settings
    app: App
    cache: SnapshotCache
    health: SourceHealth
    users: int = 0  # jobs using it now; a retired generation is closed when this reaches 0
    retired: bool = False

    @classmethod
    def build(cls, settings: Settings, app: App) -> Generation:
        intervals = {SourceName(s.name): s.interval for s in settings.sources}
        health = SourceHealth(app.clock, intervals, settings.daemon.stale_after_intervals)
        return cls(settings, app, SnapshotCache(app.sources), health)

    def source(self, name: SourceName) -> ConfiguredSource | None:
        return next((s for s in self.app.sources if s.name == name), None)


class Runtime:
    """Shared by every job and the main thread; every method is thread-safe."""

    def __init__(
        self,
        generation: Generation,
        notifier: Notifier,
        replicas: ReplicaLeases | None = None,
    ) -> None:
        self._current = generation
        self.replicas = replicas  # None: the only process on its ledger (SQLite)
        self._lock = threading.Lock()
        self.notifier = notifier
        self.activity = JobActivity()
        self.stopping = threading.Event()
        self.dirty: set[str] = set()  # warehouses that got new data while reconciling
        self.beat = time.monotonic()  # the heartbeat job's last run

    @property
    def current(self) -> Generation:
        with self._lock:
            return self._current

    def replace(self, generation: Generation) -> None:
        """Use ``generation`` from now on; the old one closes once no job holds it."""
        with self._lock:
            old, self._current = self._current, generation
            old.retired = True
            idle = old.users == 0
        if idle:
            old.app.close()

    def close(self) -> None:
        self.current.app.close()

    @contextmanager
    def job(self, job_id: str) -> Iterator[Generation | None]:
        """Run a job's body: None once stopping, else the generation it may use."""
        if self.stopping.is_set():
            yield None
            return
        logs.unbind_run()  # worker threads are reused: drop the previous job's run_id
        structlog.contextvars.bind_contextvars(job=job_id)
        try:
            with self.activity.running(job_id), self._lease() as generation:
                yield generation
        finally:
            logs.unbind_run()

    @contextmanager
    def _lease(self) -> Iterator[Generation]:
        with self._lock:
            generation = self._current
            generation.users += 1
        try:
            yield generation
        finally:
            with self._lock:
                generation.users -= 1
                close = generation.retired and generation.users == 0
            if close:
                generation.app.close()

    def progress(self, job_id: str) -> Callable[[int, int], None]:
        """A push progress callback: proves the job alive, and ends the push once stopping."""

        def tick(done: int, total: int) -> None:
            self.activity.touch(job_id)
            if self.stopping.is_set() and done < total:
                raise StopRequested(f"stopped after {done} of {total}: the service is stopping")

        return tick
