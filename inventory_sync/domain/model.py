"""Value types of the domain: what a stock number is, where it came from, what we plan to do."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import NewType

Sku = NewType("Sku", str)
Warehouse = NewType("Warehouse", str)  # our own name for a warehouse, from the config
LocationId = NewType("LocationId", str)  # ShipStation's inventory_location_id
SourceName = NewType("SourceName", str)
RunId = NewType("RunId", str)
AdjustmentId = NewType("AdjustmentId", str)
AccountName = NewType("AccountName", str)  # a ShipStation account; one budget, one key
DEFAULT_ACCOUNT = AccountName("default")  # the account of a configuration without [[accounts]]

BasisValue = int | str | None


class QuantityBasis(StrEnum):
    """What a source's number counts."""

    ON_HAND = "on_hand"
    AVAILABLE = "available"  # target on-hand = available + ShipStation's allocated


class Completeness(StrEnum):
    """Whether a snapshot lists every SKU of its warehouses (absent means something) or not."""

    COMPLETE = "complete"
    PARTIAL = "partial"


class TransactionType(StrEnum):
    """ShipStation's four kinds of inventory update."""

    INCREMENT = "increment"
    DECREMENT = "decrement"
    ADJUST = "adjust"
    MODIFY = "modify"


class AdjustmentStatus(StrEnum):
    """Life cycle of one adjustment: planned -> sent -> applied | failed | uncertain."""

    PLANNED = "planned"
    SENT = "sent"
    APPLIED = "applied"
    FAILED = "failed"
    UNCERTAIN = "uncertain"
    NEEDS_REVIEW = "needs_review"
    SKIPPED = "skipped"

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def is_done(self) -> bool:
        """Applied, or deliberately not sent (skipped); anything else makes a run partial."""
        return self in _DONE


_FINAL = frozenset(
    {
        AdjustmentStatus.APPLIED,
        AdjustmentStatus.FAILED,
        AdjustmentStatus.NEEDS_REVIEW,
        AdjustmentStatus.SKIPPED,
    }
)
# The one definition of a change that did not fail: a run with any other is `partial`.
_DONE = frozenset({AdjustmentStatus.APPLIED, AdjustmentStatus.SKIPPED})


class RunStatus(StrEnum):
    """How a run ended."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # some adjustments failed
    HELD = "held"  # a guard stopped the run before any push, or a source was held
    BUSY = "busy"  # another process was pushing to a warehouse: that one was skipped
    FAILED = "failed"  # the run could not complete (ShipStation unreachable, ...)


@dataclass(frozen=True, slots=True)
class Observation:
    """One number a source reported for one SKU in one warehouse: a row of a snapshot as a
    value, for tests and display (a snapshot holds its rows as one dict per warehouse)."""

    warehouse: Warehouse
    sku: Sku
    quantity: int


def rows_by_warehouse(observations: Iterable[Observation]) -> dict[Warehouse, dict[Sku, int]]:
    """A snapshot's rows from row values; should a SKU appear twice in a warehouse, its first
    row wins."""
    rows: dict[Warehouse, dict[Sku, int]] = {}
    for o in observations:
        rows.setdefault(o.warehouse, {}).setdefault(o.sku, o.quantity)
    return rows


@dataclass(frozen=True, slots=True)
class Rejected:
    """A row that was quarantined instead of used, with everything needed to find and fix it."""

    source: SourceName
    origin: str  # file path, URL or query name
    line: int | None
    field: str | None
    value: str | None
    reason: str
    # The row's SKU when it had a valid one, so the person fixing the feed can find it. With
    # the warehouse set too, that SKU is unknown this time in that warehouse, not absent.
    sku: Sku | None = None
    warehouse: Warehouse | None = None

    def __str__(self) -> str:
        where = f"{self.origin}:{self.line}" if self.line is not None else self.origin
        sku = f" SKU {self.sku}" if self.sku is not None else ":"
        what = f" field {self.field!r}" if self.field else ""
        value = f" value {self.value!r}" if self.value is not None else ""
        return f"{where}{sku}{what}{value}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one pull of one source produced."""

    source: SourceName
    snapshot_id: str  # stable for the same content (a checksum), so nothing is counted twice
    taken_at: datetime  # when the data was true (newest file mtime, feed timestamp, pull time)
    completeness: Completeness
    basis: QuantityBasis
    warehouses: frozenset[Warehouse]  # warehouses this snapshot speaks for
    # What it says about each: SKU -> quantity in feed order. One dict per warehouse rather than
    # an object per row: a million-row feed is a million dict entries, read by the planner as is.
    # A good row is found in its feed by origin and SKU (a SKU appears once); rejected rows keep
    # their line.
    rows: Mapping[Warehouse, Mapping[Sku, int]]
    rejected: tuple[Rejected, ...] = ()
    origin: str = ""
    # For file sources: stable files left in the inbox for later pulls (a change feed read one
    # file at a time); None for sources that are not files.
    files_waiting: int | None = None
    # When files wait: when the newest of them was written. A change feed's files are applied in
    # order, so a backlog is as fresh as its newest file, however old the first one read is.
    newest_waiting_at: datetime | None = None

    def rows_for(self, warehouse: Warehouse) -> Mapping[Sku, int]:
        return self.rows.get(warehouse, _NO_ROWS)

    def where(self, keep: Callable[[Sku], bool]) -> Snapshot:
        """The same snapshot with only the rows whose SKU `keep` accepts."""
        rows = {w: {s: q for s, q in r.items() if keep(s)} for w, r in self.rows.items()}
        return replace(self, rows=rows)

    @property
    def row_count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    @property
    def observations(self) -> tuple[Observation, ...]:
        """Every row as an object, warehouse by warehouse: for tests and display, not bulk work."""
        return tuple(
            Observation(warehouse, sku, quantity)
            for warehouse, rows in self.rows.items()
            for sku, quantity in rows.items()
        )


_NO_ROWS: Mapping[Sku, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Levels:
    """ShipStation's current levels at the location we write to, column by column.

    A SKU with no key in ``on_hand`` has no row in ShipStation (which is not the same as 0).
    ``allocated`` lists only SKUs with allocated units; no key means none.
    """

    on_hand: Mapping[Sku, int] = field(default_factory=dict)
    allocated: Mapping[Sku, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.on_hand)

    def __contains__(self, sku: object) -> bool:
        return sku in self.on_hand

    def allocated_of(self, sku: Sku) -> int:
        return self.allocated.get(sku, 0)

    def where(self, keep: Callable[[Sku], bool]) -> Levels:
        """Only the SKUs `keep` accepts."""
        return Levels(
            on_hand={sku: q for sku, q in self.on_hand.items() if keep(sku)},
            allocated={sku: q for sku, q in self.allocated.items() if keep(sku)},
        )


@dataclass(frozen=True, slots=True, init=False)
class Adjustment:
    """One planned change to ShipStation, with the rule and values that produced it."""

    adjustment_id: AdjustmentId
    warehouse: Warehouse
    location_id: LocationId
    sku: Sku
    transaction_type: TransactionType
    quantity: int
    before: int | None  # ShipStation's on-hand when planned; None when it had no row
    after: int  # the on-hand this adjustment should leave
    rule: str
    basis: Mapping[str, BasisValue] = field(default_factory=dict, hash=False)

    # Written out because a plan can hold a hundred thousand of these: the generated __init__
    # of a frozen dataclass looks object.__setattr__ up per field, twice as slow as this one.
    def __init__(  # noqa: PLR0917 - one parameter per field, as the generated one
        self,
        adjustment_id: AdjustmentId,
        warehouse: Warehouse,
        location_id: LocationId,
        sku: Sku,
        transaction_type: TransactionType,
        quantity: int,
        before: int | None,
        after: int,
        rule: str,
        basis: Mapping[str, BasisValue] | None = None,
    ) -> None:
        put = object.__setattr__
        put(self, "adjustment_id", adjustment_id)
        put(self, "warehouse", warehouse)
        put(self, "location_id", location_id)
        put(self, "sku", sku)
        put(self, "transaction_type", transaction_type)
        put(self, "quantity", quantity)
        put(self, "before", before)
        put(self, "after", after)
        put(self, "rule", rule)
        put(self, "basis", {} if basis is None else basis)


@dataclass(frozen=True, slots=True)
class WarehouseTarget:
    """A configured warehouse and the ShipStation location its adjustments are written to."""

    name: Warehouse
    location_id: LocationId
    inventory_warehouse_id: str | None = None


@dataclass(frozen=True, slots=True)
class Hold:
    """Why a source or warehouse contributes nothing to this run.

    A ``waiting`` hold is a source with nothing new since its last good data (an emptied
    inbox between two uploads): its warehouses are planned as for any hold, but the run is
    not held for it, since that is the source's normal state.
    """

    subject: str  # "source:<name>" or "warehouse:<name>"
    reason: str
    details: Mapping[str, BasisValue] = field(default_factory=dict, hash=False)
    waiting: bool = False


def holding(holds: Iterable[Hold]) -> tuple[Hold, ...]:
    """The holds that hold a run: all but the sources waiting for new data."""
    return tuple(hold for hold in holds if not hold.waiting)


@dataclass(frozen=True, slots=True)
class Plan:
    """The planner's whole answer: what to change, how much stays, what is held."""

    adjustments: tuple[Adjustment, ...]
    unchanged: int
    holds: tuple[Hold, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to an adjustment after its request: the new status and the evidence."""

    status: AdjustmentStatus
    at: datetime
    request_id: str | None = None
    response: str | None = None  # excerpt of the response body, key redacted
    error: str | None = None  # one line for people: what went wrong


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """An adjustment as the ledger holds it: the plan plus its life so far."""

    run_id: RunId
    adjustment: Adjustment
    status: AdjustmentStatus
    planned_at: datetime
    sent_at: datetime | None = None
    settled_at: datetime | None = None
    attempts: int = 0
    request: str | None = None
    response: str | None = None
    request_id: str | None = None
    error: str | None = None


def pushed_status(entries: Iterable[JournalEntry]) -> RunStatus:
    """How a run that pushed ended: partial when any of its changes is not done."""
    if all(entry.status.is_done for entry in entries):
        return RunStatus.SUCCEEDED
    return RunStatus.PARTIAL


# A run's summary: its counts, or for a failed run the error and its facts.
SummaryValue = int | float | str | None
SUPPORT_KEY = "support"  # a failed run's support record (JSON), for support-bundle RUN_ID
WAREHOUSES_KEY = "warehouses"  # the names a run was about, comma-separated; absent: all
BUSY_KEY = "busy_warehouses"  # of those, the ones it skipped: another process pushed to them
HELD_KEY = "held_warehouses"  # of those, the ones it held (a source or a guard), comma-separated
HELD_PREFIX = "held:"  # + a warehouse: why the run held it, for people ("source:east: stale ...")


def held_reasons(summary: Mapping[str, SummaryValue]) -> dict[str, str]:
    """Warehouse -> why its run held it, for runs that recorded which ones they held."""
    held = summary.get(HELD_KEY)
    names = held.split(",") if isinstance(held, str) and held else []
    return {name: str(summary.get(HELD_PREFIX + name, "")) for name in names}


def shown_summary(summary: Mapping[str, SummaryValue]) -> dict[str, SummaryValue]:
    """A run's summary without its support record (a page of JSON; support-bundle prints it)."""
    return {key: value for key, value in summary.items() if key != SUPPORT_KEY}


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One run as the ledger holds it."""

    run_id: RunId
    started_at: datetime
    trigger: str  # "cli", "daemon", "demo", ...
    dry_run: bool = False
    status: RunStatus = RunStatus.RUNNING
    finished_at: datetime | None = None
    summary: Mapping[str, SummaryValue] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class SnapshotStats:
    """The shape of a snapshot, kept so the next one can be checked against it."""

    source: SourceName
    snapshot_id: str
    taken_at: datetime
    rows: int  # observations, rejected rows not counted
    units: int  # sum of quantities
    nonzero_rows: int

    @classmethod
    def of(cls, snapshot: Snapshot) -> SnapshotStats:
        columns = [rows.values() for rows in snapshot.rows.values()]
        return cls(
            source=snapshot.source,
            snapshot_id=snapshot.snapshot_id,
            taken_at=snapshot.taken_at,
            rows=sum(map(len, columns)),
            units=sum(map(sum, columns)),
            nonzero_rows=sum(sum(map(bool, c)) for c in columns),
        )


@dataclass(frozen=True, slots=True)
class SnapshotUse:
    """A partial snapshot counted for one warehouse: a plan made from it was recorded.

    A change feed's changes must be applied once per warehouse, never twice and never not
    at all; this is the ledger's word that they were, kept with the plan."""

    source: SourceName
    snapshot_id: str
    warehouse: Warehouse


@dataclass(frozen=True, slots=True)
class RecordedObservation:
    """One number a source reported for a (warehouse, sku), as the ledger kept it."""

    source: SourceName
    snapshot_id: str
    quantity: int
    observed_at: datetime
    run_id: RunId


@dataclass(frozen=True, slots=True)
class RecordedRejection:
    """A quarantined row as the ledger kept it: the row, the run that read it, and when."""

    rejected: Rejected
    run_id: RunId
    at: datetime


@dataclass(frozen=True, slots=True)
class AbsentCounts:
    """Consecutive complete snapshots that did not list each SKU, and which snapshots counted.

    ``basis`` lets a run that re-reads the same snapshot see that it was already counted.
    """

    counts: Mapping[Sku, int]
    basis: str | None


@dataclass(frozen=True, slots=True)
class Movement:
    """ShipStation's level changed by something other than inventory-sync (a sale, an edit)."""

    warehouse: Warehouse
    sku: Sku
    before: int | None  # None: ShipStation had no row
    after: int | None
    observed_at: datetime
    run_id: RunId
