"""The ledger's tables as SQLModel classes; only `inventory_sync.ledger` may import them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, Index, Table, Text, TypeDecorator
from sqlmodel import Field, SQLModel

from inventory_sync.ledger.values import as_utc


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out; stored naive on SQLite (which has no zone) and as timestamptz on PG."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self,
        value: datetime | None,
        dialect: Dialect,  # noqa: ARG002  (signature set by TypeDecorator)
    ) -> datetime | None:
        if value is None:
            return None
        # SQLite hands back what we stored: naive, and UTC by construction.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RunRow(SQLModel, table=True):
    __tablename__ = "runs"

    run_id: str = Field(primary_key=True)
    trigger: str
    dry_run: bool = False
    status: str = Field(index=True)
    started_at: datetime = Field(sa_type=UtcDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class SnapshotRow(SQLModel, table=True):
    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_source_healthy_taken", "source", "healthy", "taken_at"),)

    source: str = Field(primary_key=True)
    snapshot_id: str = Field(primary_key=True)  # the content checksum
    run_id: str = Field(foreign_key="runs.run_id", index=True)
    taken_at: datetime = Field(sa_type=UtcDateTime)
    recorded_at: datetime = Field(sa_type=UtcDateTime)
    completeness: str
    basis: str
    rows: int
    units: int
    nonzero_rows: int
    healthy: bool
    origin: str = ""


class SnapshotUseRow(SQLModel, table=True):
    """A partial snapshot counted for a warehouse: written with the plan made from it."""

    __tablename__ = "snapshot_uses"

    source: str = Field(primary_key=True)
    snapshot_id: str = Field(primary_key=True)
    # "*" (rows carried over by revision 0007): counted for every warehouse of the source.
    warehouse: str = Field(primary_key=True)
    run_id: str  # no foreign key: a use outlives its pruned run, or the change counts again
    at: datetime = Field(sa_type=UtcDateTime)


class ObservationRow(SQLModel, table=True):
    # No foreign key to runs: this is the high-volume table, and a per-row parent check
    # would tax the bulk path; retention prunes it by time instead.
    __tablename__ = "observations"
    __table_args__ = (Index("ix_observations_wh_sku_at", "warehouse", "sku", "observed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str
    source: str
    snapshot_id: str
    warehouse: str
    sku: str
    quantity: int
    observed_at: datetime = Field(sa_type=UtcDateTime, index=True)
    completeness: str


class RejectedRow(SQLModel, table=True):
    # Indexed by SKU for `explain SKU`: a SKU's recent rejected rows, newest first.
    __tablename__ = "rejected_rows"
    __table_args__ = (Index("ix_rejected_rows_sku_at", "sku", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    source: str
    origin: str
    line: int | None = None
    field: str | None = None
    value: str | None = None
    reason: str
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    # The row's SKU and warehouse when it had valid ones (null before revision 0006).
    sku: str | None = None
    warehouse: str | None = None


class AdjustmentRow(SQLModel, table=True):
    __tablename__ = "adjustments"
    __table_args__ = (Index("ix_adjustments_status_planned", "status", "planned_at"),)

    adjustment_id: str = Field(primary_key=True)
    run_id: str = Field(foreign_key="runs.run_id", index=True)
    warehouse: str
    location_id: str
    sku: str = Field(index=True)
    transaction_type: str
    quantity: int
    before: int | None = None
    after: int
    rule: str
    basis: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: str
    planned_at: datetime = Field(sa_type=UtcDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    settled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    attempts: int = 0
    request: str | None = Field(default=None, sa_type=Text)
    response: str | None = Field(default=None, sa_type=Text)
    request_id: str | None = None
    error: str | None = Field(default=None, sa_type=Text)
    support: str | None = Field(default=None, sa_type=Text)  # SupportRecord as JSON


class AgreedLevelRow(SQLModel, table=True):
    __tablename__ = "agreed_levels"

    warehouse: str = Field(primary_key=True)
    sku: str = Field(primary_key=True)
    quantity: int
    agreed_at: datetime = Field(sa_type=UtcDateTime)
    run_id: str | None = None  # no foreign key: agreed levels outlive pruned runs


class LockRow(SQLModel, table=True):
    __tablename__ = "locks"

    name: str = Field(primary_key=True)
    holder: str
    acquired_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)


class LeaseRow(SQLModel, table=True):
    """A fenced lease shared by replicas; the row stays when released so the fence only grows."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True)  # e.g. push:account:default
    holder: str
    fence: int
    acquired_at: datetime = Field(sa_type=UtcDateTime)
    renewed_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)


class LeaseHistoryRow(SQLModel, table=True):
    """Every holder a lease has had: what a late write's fencing number is checked against."""

    __tablename__ = "lease_history"

    name: str = Field(primary_key=True)
    fence: int = Field(primary_key=True)
    holder: str
    acquired_at: datetime = Field(sa_type=UtcDateTime)
    expires_at: datetime = Field(sa_type=UtcDateTime)  # as first granted


class ReplicaRow(SQLModel, table=True):
    """A running service process and its last heartbeat."""

    __tablename__ = "replicas"

    replica_id: str = Field(primary_key=True)
    host: str
    pid: int
    started_at: datetime = Field(sa_type=UtcDateTime)
    heartbeat_at: datetime = Field(sa_type=UtcDateTime)


class AbsentCountRow(SQLModel, table=True):
    __tablename__ = "absent_counts"

    warehouse: str = Field(primary_key=True)
    sku: str = Field(primary_key=True)
    source: str = Field(primary_key=True)
    consecutive_missing: int = 0


class SeenLevelRow(SQLModel, table=True):
    """ShipStation's on-hand as inventory-sync last saw or left it, to notice other changes."""

    __tablename__ = "seen_levels"

    warehouse: str = Field(primary_key=True)
    sku: str = Field(primary_key=True)
    on_hand: int
    seen_at: datetime = Field(sa_type=UtcDateTime)
    run_id: str | None = None


class MovementRow(SQLModel, table=True):
    """A change in ShipStation that inventory-sync did not make (a sale, an edit in the app)."""

    __tablename__ = "movements"
    __table_args__ = (Index("ix_movements_warehouse_sku_at", "warehouse", "sku", "observed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: str
    warehouse: str
    sku: str
    before: int | None = None
    after: int | None = None
    observed_at: datetime = Field(sa_type=UtcDateTime, index=True)


def table(name: str) -> Table:
    """Return a ledger table by name, typed for Core statements."""
    return SQLModel.metadata.tables[name]


RUNS = table("runs")
SNAPSHOTS = table("snapshots")
SNAPSHOT_USES = table("snapshot_uses")
OBSERVATIONS = table("observations")
REJECTED = table("rejected_rows")
ADJUSTMENTS = table("adjustments")
AGREED = table("agreed_levels")
LOCKS = table("locks")
LEASES = table("leases")
LEASE_HISTORY = table("lease_history")
REPLICAS = table("replicas")
ABSENT = table("absent_counts")
SEEN = table("seen_levels")
MOVEMENTS = table("movements")
