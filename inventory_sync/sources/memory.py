"""An in-memory Source for service tests: hands out queued snapshots or errors, in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime

from inventory_sync.domain.model import (
    Completeness,
    QuantityBasis,
    Rejected,
    Sku,
    Snapshot,
    SourceName,
    Warehouse,
)
from inventory_sync.errors import SourceError, SourceUnavailable
from inventory_sync.sources.base import checksum_records


class MemorySource:
    """A fake Source: each pull returns the next queued result; the last one repeats."""

    def __init__(self, name: SourceName, *results: Snapshot | SourceError) -> None:
        self._name = name
        self._queue: deque[Snapshot | SourceError] = deque(results)
        self._last: Snapshot | SourceError | None = None
        self.pulls = 0
        self.committed: list[Snapshot] = []

    @property
    def name(self) -> SourceName:
        return self._name

    def queue(self, *results: Snapshot | SourceError) -> None:
        """Add results to hand out on the next pulls."""
        self._queue.extend(results)

    def pull(self) -> Snapshot:
        self.pulls += 1
        if self._queue:
            self._last = self._queue.popleft()
        if self._last is None:
            raise SourceUnavailable("nothing queued", source=self._name, origin="memory")
        if isinstance(self._last, SourceError):
            raise self._last
        return self._last

    def commit(self, snapshot: Snapshot) -> None:
        """Remember what the service said it recorded, so tests can assert on it."""
        self.committed.append(snapshot)


def snapshot_of(
    source: SourceName,
    levels: Mapping[Warehouse, Mapping[Sku, int]],
    *,
    taken_at: datetime,
    basis: QuantityBasis = QuantityBasis.ON_HAND,
    completeness: Completeness = Completeness.COMPLETE,
    rejected: tuple[Rejected, ...] = (),
    snapshot_id: str | None = None,
) -> Snapshot:
    """Build a Snapshot from {warehouse: {sku: quantity}}; the id is a checksum unless given."""
    checksum = checksum_records(
        (warehouse, sku, quantity)
        for warehouse, by_sku in levels.items()
        for sku, quantity in by_sku.items()
    )
    return Snapshot(
        source=source,
        snapshot_id=snapshot_id or checksum,
        taken_at=taken_at,
        completeness=completeness,
        basis=basis,
        warehouses=frozenset(levels),
        rows={warehouse: dict(by_sku) for warehouse, by_sku in levels.items()},
        rejected=rejected,
        origin="memory",
    )
