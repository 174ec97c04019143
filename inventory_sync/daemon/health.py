"""What "unhealthy" means (one list for `status` and the alerts); source health as transitions."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog

from inventory_sync.domain.model import Snapshot, SourceName
from inventory_sync.errors import FeedFormatError, NoNewFile, SourceError
from inventory_sync.ports import Clock

log = structlog.get_logger(__name__)


class Unhealthy(StrEnum):
    """Each reason `status` turns unhealthy for; monitoring/loki/alerts.yaml and
    monitoring/check-logs have an alert labelled ``condition=<value>`` for every one."""

    RUN_FAILED = "run_failed"
    RUN_HELD = "run_held"
    SOURCE_STALE = "source_stale"
    ADJUSTMENTS_UNSETTLED = "adjustments_unsettled"
    ADJUSTMENTS_NEED_REVIEW = "adjustments_need_review"
    KEY_EXPIRING = "key_expiring"


@dataclass(frozen=True, slots=True)
class Problem:
    """One reason for being unhealthy, with the sentence `status` shows for it."""

    condition: Unhealthy
    text: str


@dataclass(slots=True)
class _State:
    fresh_at: datetime  # when the source last brought data not seen before
    snapshot_id: str | None = None
    taken_at: datetime | None = None
    down_since: datetime | None = None
    stale: bool = False
    waiting: bool = False  # its archiving inbox is empty since the data above: not down


class SourceHealth:
    """Remembers each source's last fresh data and whether it is down; logs only changes."""

    def __init__(
        self, clock: Clock, intervals: Mapping[SourceName, timedelta], stale_after: float
    ) -> None:
        self._clock = clock
        self._intervals = dict(intervals)
        self._stale_after = stale_after
        now = clock.now()
        # A source that never delivers goes stale counting from the daemon's start.
        self._states = {name: _State(fresh_at=now) for name in intervals}
        self._lock = threading.Lock()

    def failed(self, source: SourceName, exc: SourceError) -> None:
        if isinstance(exc, NoNewFile) and self._waits(source, exc):
            return
        with self._lock:
            state = self._states[source]
            if state.down_since is not None:
                return
            state.down_since = self._clock.now()
        event = "source.format_error" if isinstance(exc, FeedFormatError) else "source.unavailable"
        log.error(event, source=source, error=str(exc), origin=exc.origin)

    def _waits(self, source: SourceName, exc: NoNewFile) -> bool:
        """True when the source's empty inbox follows data this process pulled: the source
        waits for its next file (logged once), and is not down. Staleness still counts."""
        with self._lock:
            state = self._states[source]
            if state.taken_at is None:
                return False  # nothing read since start: an empty folder may be the wrong one
            down_since, state.down_since = state.down_since, None
            was_waiting, state.waiting = state.waiting, True
            since = state.taken_at
        if down_since is not None:
            down = round((self._clock.now() - down_since).total_seconds(), 3)
            log.info("source.recovered", source=source, down_seconds=down)
        if not was_waiting:
            log.info(
                "source.no_new_file",
                source=source,
                since=since.isoformat(),
                archive_dir=exc.archive_dir,
            )
        return True

    def pulled(self, source: SourceName, snapshot: Snapshot) -> None:
        """Record a successful pull: a recovery if it was down, fresh data if it is new."""
        now = self._clock.now()
        with self._lock:
            state = self._states[source]
            down_since, state.down_since = state.down_since, None
            state.waiting = False
            fresh = snapshot.snapshot_id != state.snapshot_id or (
                state.taken_at is not None and snapshot.taken_at > state.taken_at
            )
            was_stale = state.stale and fresh
            if fresh:
                state.fresh_at, state.stale = now, False
                state.snapshot_id, state.taken_at = snapshot.snapshot_id, snapshot.taken_at
        if down_since is not None:
            down = round((now - down_since).total_seconds(), 3)
            log.info("source.recovered", source=source, down_seconds=down)
        if was_stale:
            log.info("source.refreshed", source=source, snapshot_id=snapshot.snapshot_id)

    def elsewhere(self, source: SourceName) -> None:
        """Another replica pulls ``source`` now; should this one take over, the source's
        freshness counts from then, not from the last time this replica pulled it."""
        with self._lock:
            state = self._states[source]
            state.fresh_at, state.stale, state.down_since = self._clock.now(), False, None

    def check_stale(self) -> None:
        """Log source.stale for each source whose data stopped changing for too long."""
        now = self._clock.now()
        for source, interval in self._intervals.items():
            limit = interval * self._stale_after
            with self._lock:
                state = self._states[source]
                if state.stale or now - state.fresh_at <= limit:
                    continue
                state.stale = True
                fresh_at = state.fresh_at
            log.warning(
                "source.stale",
                source=source,
                fresh_at=fresh_at.isoformat(),
                stale_seconds=round((now - fresh_at).total_seconds(), 3),
                limit_seconds=limit.total_seconds(),
            )
