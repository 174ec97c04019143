"""The small interfaces the service needs, and the types they speak.

Each has an in-memory implementation for tests: ledger/memory.py and shipstation/memory.py
(held to the same contract tests as the real ones), sources/memory.py, clock.FixedClock;
Targets is targets.MappedTargets over whichever InventoryApi it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable

from inventory_sync.domain.inventory import (
    InventoryLevel,
    InventoryLocation,
    InventoryUpdate,
    InventoryWarehouse,
    PagesRead,
    UpdateReceipt,
)
from inventory_sync.domain.model import (
    AbsentCounts,
    Adjustment,
    AdjustmentId,
    AdjustmentStatus,
    JournalEntry,
    Movement,
    Outcome,
    RecordedObservation,
    RecordedRejection,
    Rejected,
    RunId,
    RunRecord,
    RunStatus,
    Sku,
    Snapshot,
    SnapshotStats,
    SnapshotUse,
    SourceName,
    SummaryValue,
    Warehouse,
    WarehouseTarget,
)

PageSeen = Callable[[PagesRead], None]


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time, timezone-aware UTC."""
        ...


class Source(Protocol):
    """An external system that knows the truth about some warehouses."""

    @property
    def name(self) -> SourceName: ...

    def pull(self) -> Snapshot:
        """Read the source once. Bad rows go to Snapshot.rejected; a wholly unusable feed raises
        SourceError."""
        ...


@runtime_checkable
class CommittableSource(Protocol):
    """A source that wants to hear that a snapshot was recorded (to archive files, say)."""

    def commit(self, snapshot: Snapshot) -> None: ...


def commit_snapshot(source: Source, snapshot: Snapshot) -> None:
    """Tell a source its snapshot was recorded; a no-op for sources that do not care."""
    if isinstance(source, CommittableSource):
        source.commit(snapshot)


@runtime_checkable
class PlacedSource(Protocol):
    """A source that can say where it reads from, for a person waiting on a slow read."""

    @property
    def reads_from(self) -> str:
        """The host, bucket or path it reads, as shown to people: never a password."""
        ...


def reads_from(source: Source) -> str | None:
    """Where ``source`` reads from, or None for a source that does not say."""
    return source.reads_from if isinstance(source, PlacedSource) else None


class Watch(Protocol):
    """Whoever watches a run while it works (a terminal): told of the slow reads as they go.

    The steps log their own events; a watch only shows them, and must not raise."""

    def source_started(self, source: SourceName, where: str | None) -> None:
        """A source's pull began; ``where`` is its host, bucket or path, if it says."""
        ...

    def source_finished(self, source: SourceName) -> None:
        """The pull ended, read or not (the report says which)."""
        ...

    def levels_paged(self, warehouse: Warehouse, read: PagesRead) -> None:
        """A page of ShipStation's levels at the warehouse's location arrived."""
        ...

    def levels_finished(self, warehouse: Warehouse) -> None:
        """The warehouse's levels are read, or the read failed (the run says which)."""
        ...


class Unwatched:
    """The Watch of a run nobody watches (the service, a script): hears everything, shows
    nothing."""

    def source_started(self, source: SourceName, where: str | None) -> None:
        pass

    def source_finished(self, source: SourceName) -> None:
        pass

    def levels_paged(self, warehouse: Warehouse, read: PagesRead) -> None:
        pass

    def levels_finished(self, warehouse: Warehouse) -> None:
        pass


class InventoryApi(Protocol):
    """The part of ShipStation's V2 inventory API the service uses."""

    def list_levels(
        self,
        *,
        inventory_warehouse_id: str | None = None,
        inventory_location_id: str | None = None,
        sku: str | None = None,
        on_page: PageSeen | None = None,
    ) -> Iterator[InventoryLevel]:
        """Yield every level matching the filters, following pagination.

        ``on_page`` hears each page as it arrives, before its levels are yielded."""
        ...

    def update_level(
        self, update: InventoryUpdate, *, before_send: Callable[[], None] | None = None
    ) -> UpdateReceipt:
        """Send one update. Raises OutcomeUncertain when it may or may not have applied.

        ``before_send`` runs right before each attempt leaves; raising there sends nothing."""
        ...

    def list_warehouses(self) -> list[InventoryWarehouse]: ...

    def list_locations(self) -> list[InventoryLocation]: ...

    def check_key_expiry(self, today: date) -> object:
        """Warn ahead of an API key's expiry (shipstation.key_expiring); keyless fakes do nothing.

        What it returns is the implementation's own account of the warning."""
        ...


class Targets(Protocol):
    """The configured warehouses, and the location each one's adjustments are written to."""

    @property
    def names(self) -> tuple[Warehouse, ...]:
        """The configured names, in order; known without asking anyone."""
        ...

    def resolve(self) -> tuple[WarehouseTarget, ...]:
        """Every configured warehouse with its location, checked against the inventory system
        on the first call (later calls answer the same); raises MappingError when they differ."""
        ...


class RunLog(Protocol):
    """The runs: begun, finished, listed."""

    def begin_run(self, run: RunRecord) -> None: ...

    def finish_run(
        self, run_id: RunId, *, status: RunStatus, summary: Mapping[str, SummaryValue], at: datetime
    ) -> None: ...

    def get_run(self, run_id: RunId) -> RunRecord | None: ...

    def list_runs(self, limit: int = 20) -> list[RunRecord]: ...


class Journal(Protocol):
    """Every adjustment: planned before it is sent, its outcome after, support records."""

    def record_planned(
        self,
        run_id: RunId,
        adjustments: Sequence[Adjustment],
        *,
        at: datetime,
        fence: Fence | None = None,
        uses: Sequence[SnapshotUse] = (),
    ) -> None:
        """Write adjustments as planned, before any request leaves. Idempotent per id.

        ``uses``: the partial snapshots the plan was made from, recorded as counted for their
        warehouse in the same transaction (a plan with no adjustments still counts them);
        a use already recorded is kept as it was. With ``fence``, in the same transaction:
        raise LeaseLost unless the fence is current."""
        ...

    def mark_sent(
        self,
        adjustment_id: AdjustmentId,
        *,
        request: str,
        at: datetime,
        fence: Fence | None = None,
    ) -> None:
        """Record that the request is about to leave (attempts += 1); ``fence`` as above."""
        ...

    def mark_outcome(self, adjustment_id: AdjustmentId, outcome: Outcome) -> None: ...

    def journal(
        self,
        *,
        run_id: RunId | None = None,
        sku: Sku | None = None,
        status: AdjustmentStatus | None = None,
    ) -> list[JournalEntry]: ...

    def unsettled(self) -> list[JournalEntry]:
        """Adjustments left planned, sent or uncertain (by a crash or a lost answer)."""
        ...

    def record_support(self, adjustment_id: AdjustmentId, record_json: str) -> None:
        """Keep the record ShipStation support asks for beside a failed adjustment."""
        ...

    def support_record(self, adjustment_id: AdjustmentId) -> str | None: ...


class SnapshotStore(Protocol):
    """What the sources said: snapshots, their observations and rejected rows."""

    def record_snapshot(
        self, run_id: RunId, snapshot: Snapshot, *, at: datetime, healthy: bool
    ) -> int:
        """Write a snapshot's observations and rejected rows (batched); return rows written.

        A healthy snapshot (one that passed its gates) becomes the source's last good one."""
        ...

    def last_good_snapshot(self, source: SourceName) -> SnapshotStats | None: ...

    def record_rejected(
        self, run_id: RunId, rejected: Iterable[Rejected], *, at: datetime
    ) -> int: ...

    def counted_snapshot_ids(self, source: SourceName, warehouse: Warehouse) -> set[str]:
        """Ids of the source's partial snapshots already counted for the warehouse (see
        record_planned's ``uses``): their changes are not to be applied there again."""
        ...

    def rejected_for_run(self, run_id: RunId) -> list[Rejected]: ...

    def rejected_for(
        self, warehouse: Warehouse, sku: Sku, limit: int = 20
    ) -> list[RecordedRejection]:
        """Rejected rows naming this SKU in this warehouse, or in none (the row's warehouse was
        not valid), newest first."""
        ...

    def observations_for(
        self, warehouse: Warehouse, sku: Sku, limit: int = 20
    ) -> list[RecordedObservation]: ...


class LevelStore(Protocol):
    """Levels remembered between runs: agreed with a source, seen in ShipStation, absences,
    and the movements others made."""

    def agreed_levels(self, warehouse: Warehouse) -> dict[Sku, int]: ...

    def record_agreed(
        self, warehouse: Warehouse, levels: Mapping[Sku, int], *, at: datetime
    ) -> None: ...

    def absent_counts(self, warehouse: Warehouse) -> AbsentCounts:
        """Per SKU, how many consecutive complete snapshots have not listed it."""
        ...

    def replace_absent_counts(
        self, warehouse: Warehouse, counts: Mapping[Sku, int], *, basis: str
    ) -> None:
        """Store the counts after a run, with ``basis`` naming the snapshots they counted."""
        ...

    def seen_levels(self, warehouse: Warehouse) -> dict[Sku, int]:
        """ShipStation's on-hand per SKU as the last run saw it or left it."""
        ...

    def record_seen_levels(
        self, warehouse: Warehouse, levels: Mapping[Sku, int], *, at: datetime, run_id: RunId
    ) -> None: ...

    def record_movements(self, movements: Sequence[Movement]) -> None:
        """Changes in ShipStation that inventory-sync did not make."""
        ...

    def movements_for(self, warehouse: Warehouse, sku: Sku, limit: int = 20) -> list[Movement]: ...


class LockStore(Protocol):
    """Named leases, so one process at a time pushes to a warehouse."""

    def acquire_lock(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        """Take the named lock unless another holder has it unexpired; True when taken."""
        ...

    def refresh_lock(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool: ...

    def release_lock(self, name: str, holder: str) -> bool: ...

    def lock_holder(self, name: str, now: datetime) -> str | None: ...


class Ledger(RunLog, Journal, SnapshotStore, LevelStore, LockStore, Protocol):
    """The local record of runs, observations, adjustments and levels: every role in one store."""

    def prune(self, older_than: datetime) -> dict[str, int]: ...


class ClosableLedger(Ledger, Protocol):
    """A ledger opened by a command on its own, which closes it when done."""

    def close(self) -> None: ...


# Replicas of the service on one ledger: leases with fencing numbers, and who is alive.


@dataclass(frozen=True, slots=True)
class Lease:
    """A named lease as the ledger holds it; ``fence`` grows by one with every new holder."""

    name: str
    holder: str
    fence: int
    acquired_at: datetime
    expires_at: datetime

    def held_at(self, now: datetime) -> bool:
        return self.expires_at > now


def _always_held() -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Fence:
    """Work done under a lease: a write is allowed only while this lease number is current.

    ``margin``: the lease must have at least this long left, so a request checked now has
    landed (or timed out) before another replica may take the lease. ``still_held`` is the
    holder's own cheap view (no I/O), asked right before each request leaves."""

    lease: str
    holder: str
    number: int
    margin: timedelta = timedelta(0)
    still_held: Callable[[], bool] = field(default=_always_held, compare=False)

    @property
    def tag(self) -> str:
        """How the fence is written into a request's notes: ``fence=<lease>#<number>``."""
        return f"fence={self.lease}#{self.number}"


@dataclass(frozen=True, slots=True)
class LeaseTimes:
    """How long a lease lasts and how often it is renewed; the margin a write must leave."""

    ttl: timedelta = timedelta(seconds=20)
    renew_every: float = 5.0  # seconds

    @property
    def margin(self) -> timedelta:
        # A request checked with half a lease left has that long to leave and land before
        # anyone else may take the lease over.
        return self.ttl / 2


@dataclass(frozen=True, slots=True)
class Replica:
    """One running `inventory-sync run` process, as its heartbeat last recorded it."""

    replica_id: str
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime


class Leases(Protocol):
    """Fenced leases and replica heartbeats, for several service replicas on one ledger."""

    def take_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> Lease | None:
        """Take a free or expired lease (a new fence) or extend our own; None when held."""
        ...

    def renew_lease(self, lease: Lease, ttl: timedelta, now: datetime) -> Lease | None:
        """Extend a lease we hold and that has not run out; None when it is no longer ours."""
        ...

    def release_lease(self, lease: Lease, now: datetime) -> bool:
        """Let a lease go at once (its fence number stays, for the next holder to pass)."""
        ...

    def leases(self) -> list[Lease]:
        """Every lease row, held or expired, by name."""
        ...

    def lease_history(self, name: str) -> list[Lease]:
        """Every holder the lease has had, oldest first (expires_at: as first granted)."""
        ...

    def beat(self, replica: Replica) -> None:
        """Record (or refresh) a replica's heartbeat."""
        ...

    def replicas(self) -> list[Replica]:
        """Every replica with a recorded heartbeat, oldest start first."""
        ...

    def forget_replica(self, replica_id: str) -> None:
        """Remove a replica that stopped cleanly."""
        ...
