"""The daemon's memory of each source's latest healthy data, handed to every reconcile."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from inventory_sync.app import ConfiguredSource
from inventory_sync.domain.gates import check_snapshot
from inventory_sync.domain.model import Completeness, Hold, Snapshot, SourceName, Warehouse
from inventory_sync.steps.gather import Gathered

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class _Entry:
    """What one source says about one warehouse, as far as the daemon knows."""

    complete: Snapshot | None = None  # the latest healthy complete snapshot
    partials: list[Snapshot] = field(default_factory=list)  # changes not yet reconciled
    holds: tuple[Hold, ...] = ()  # why the latest pull is not to be used


class SnapshotCache:
    """Latest healthy snapshot per source and warehouse; thread-safe.

    A complete snapshot is reused by every reconcile until a newer one replaces it; a
    partial one (a change feed) is handed to one reconcile at a time, since applying the same
    changes twice would count them twice. A reconcile that did not count it (the warehouse
    was busy, a guard held the plan, the run failed) gives it back for the next one.
    """

    def __init__(self, sources: Sequence[ConfiguredSource]) -> None:
        self._sources = tuple(sources)  # file order is precedence order
        self._entries: dict[tuple[SourceName, Warehouse], _Entry] = {}
        self._admitted: dict[SourceName, str] = {}
        self._lock = threading.Lock()

    def is_new(self, snapshot: Snapshot) -> bool:
        """False when this content was already admitted: nothing to record or reconcile."""
        with self._lock:
            return self._admitted.get(snapshot.source) != snapshot.snapshot_id

    def admit(self, configured: ConfiguredSource, snapshot: Snapshot, gathered: Gathered) -> None:
        """Keep what one pull of ``configured`` brought: its snapshots, or the holds on it."""
        with self._lock:
            self._admitted[configured.name] = snapshot.snapshot_id
            for warehouse in configured.warehouses:
                entry = self._entries.setdefault((configured.name, warehouse), _Entry())
                # A held pull holds the source, as in a one-shot run: older data is not
                # trusted more than the newest just because it came first.
                entry.holds = tuple(gathered.holds)
                if gathered.holds:
                    entry.complete = None
                for arrived in gathered.snapshots.get(warehouse, ()):
                    if arrived.completeness is Completeness.PARTIAL:
                        entry.partials.append(arrived)
                    else:
                        entry.complete = arrived

    def take(self, warehouse: Warehouse, now: datetime, *, consume: bool = True) -> Gathered:
        """A Gathered for one warehouse; with ``consume``, partial snapshots are handed over."""
        gathered = Gathered()
        with self._lock:
            for configured in self._sources:
                entry = self._entries.get((configured.name, warehouse))
                if entry is not None:
                    _add(gathered, warehouse, configured, entry, now, consume=consume)
        return gathered

    def give_back(self, warehouse: Warehouse, partials: Sequence[Snapshot]) -> None:
        """Return partial snapshots a reconcile took but did not count, in the order taken:
        ahead of any that arrived since, so changes are applied in the order they came."""
        with self._lock:
            for configured in self._sources:
                entry = self._entries.get((configured.name, warehouse))
                if entry is None:
                    continue
                waiting = {p.snapshot_id for p in entry.partials}
                mine = [
                    p
                    for p in partials
                    if p.source == configured.name and p.snapshot_id not in waiting
                ]
                entry.partials[:0] = mine

    def has_data(self, warehouse: Warehouse) -> bool:
        """True once any source for the warehouse was admitted (held or not)."""
        with self._lock:
            return any(w == warehouse for _, w in self._entries)


def _add(
    gathered: Gathered,
    warehouse: Warehouse,
    configured: ConfiguredSource,
    entry: _Entry,
    now: datetime,
    *,
    consume: bool,
) -> None:
    gathered.holds.extend(entry.holds)
    if entry.complete is not None:
        # Data kept in memory grows old; the source's max_age gate applies at use, not only
        # at the pull, exactly as a one-shot run would check a file that stopped changing.
        aged = check_snapshot(entry.complete, None, configured.gates, now=now)
        for hold in aged:
            log.error(
                "source.held", source=configured.name, reason=hold.reason, **dict(hold.details)
            )
        gathered.holds.extend(aged)
        if not aged:
            gathered.snapshots[warehouse].append(entry.complete)
    if consume:
        gathered.snapshots[warehouse].extend(entry.partials)
        entry.partials.clear()
