"""Translate between the ledger's table rows and the domain's values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping

from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentId,
    AdjustmentStatus,
    JournalEntry,
    LocationId,
    Rejected,
    RunId,
    RunRecord,
    RunStatus,
    Sku,
    Snapshot,
    SnapshotStats,
    SnapshotUse,
    SourceName,
    TransactionType,
    Warehouse,
)
from inventory_sync.ledger.records import RecordedObservation, RecordedRejection


def run_values(run: RunRecord) -> dict[str, Any]:
    """Column values for a new run."""
    return {
        "run_id": run.run_id,
        "trigger": run.trigger,
        "dry_run": run.dry_run,
        "status": run.status.value,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "summary": dict(run.summary),
    }


def run_from(m: RowMapping) -> RunRecord:
    """A RunRecord from a `runs` row."""
    return RunRecord(
        run_id=RunId(m["run_id"]),
        started_at=m["started_at"],
        trigger=m["trigger"],
        dry_run=bool(m["dry_run"]),
        status=RunStatus(m["status"]),
        finished_at=m["finished_at"],
        summary=dict(m["summary"] or {}),
    )


def adjustment_values(run_id: RunId, adjustment: Adjustment, *, at: datetime) -> dict[str, Any]:
    """Column values for a newly planned adjustment."""
    return {
        "adjustment_id": adjustment.adjustment_id,
        "run_id": run_id,
        "warehouse": adjustment.warehouse,
        "location_id": adjustment.location_id,
        "sku": adjustment.sku,
        "transaction_type": adjustment.transaction_type.value,
        "quantity": adjustment.quantity,
        "before": adjustment.before,
        "after": adjustment.after,
        "rule": adjustment.rule,
        "basis": dict(adjustment.basis),
        "status": AdjustmentStatus.PLANNED.value,
        "planned_at": at,
        "attempts": 0,
    }


def use_values(run_id: RunId, use: SnapshotUse, *, at: datetime) -> dict[str, Any]:
    """Column values for a partial snapshot counted for a warehouse."""
    return {
        "source": use.source,
        "snapshot_id": use.snapshot_id,
        "warehouse": use.warehouse,
        "run_id": run_id,
        "at": at,
    }


def journal_entry_from(m: RowMapping) -> JournalEntry:
    """A JournalEntry from an `adjustments` row."""
    return JournalEntry(
        run_id=RunId(m["run_id"]),
        adjustment=_adjustment_from(m),
        status=AdjustmentStatus(m["status"]),
        planned_at=m["planned_at"],
        sent_at=m["sent_at"],
        settled_at=m["settled_at"],
        attempts=m["attempts"],
        request=m["request"],
        response=m["response"],
        request_id=m["request_id"],
        error=m["error"],
    )


def _adjustment_from(m: RowMapping) -> Adjustment:
    return Adjustment(
        adjustment_id=AdjustmentId(m["adjustment_id"]),
        warehouse=Warehouse(m["warehouse"]),
        location_id=LocationId(m["location_id"]),
        sku=Sku(m["sku"]),
        transaction_type=TransactionType(m["transaction_type"]),
        quantity=m["quantity"],
        before=m["before"],
        after=m["after"],
        rule=m["rule"],
        basis=dict(m["basis"] or {}),
    )


def rejected_values(run_id: RunId, rejected: Rejected, *, at: datetime) -> dict[str, Any]:
    """Column values for one quarantined row."""
    return {
        "run_id": run_id,
        "source": rejected.source,
        "origin": rejected.origin,
        "line": rejected.line,
        "field": rejected.field,
        "value": rejected.value,
        "reason": rejected.reason,
        "at": at,
        "sku": rejected.sku,
        "warehouse": rejected.warehouse,
    }


def rejected_from(m: RowMapping) -> Rejected:
    """A Rejected from a `rejected_rows` row."""
    return Rejected(
        source=SourceName(m["source"]),
        origin=m["origin"],
        line=m["line"],
        field=m["field"],
        value=m["value"],
        reason=m["reason"],
        sku=None if m["sku"] is None else Sku(m["sku"]),
        warehouse=None if m["warehouse"] is None else Warehouse(m["warehouse"]),
    )


def rejection_from(m: RowMapping) -> RecordedRejection:
    """A RecordedRejection (the row, its run and time) from a `rejected_rows` row."""
    return RecordedRejection(rejected_from(m), RunId(m["run_id"]), m["at"])


def stats_from(m: RowMapping) -> SnapshotStats:
    """SnapshotStats from a `snapshots` row."""
    return SnapshotStats(
        source=SourceName(m["source"]),
        snapshot_id=m["snapshot_id"],
        taken_at=m["taken_at"],
        rows=m["rows"],
        units=m["units"],
        nonzero_rows=m["nonzero_rows"],
    )


def observation_from(m: RowMapping) -> RecordedObservation:
    """A RecordedObservation from an `observations` row."""
    return RecordedObservation(
        source=SourceName(m["source"]),
        snapshot_id=m["snapshot_id"],
        quantity=m["quantity"],
        observed_at=m["observed_at"],
        run_id=RunId(m["run_id"]),
    )


def snapshot_values(
    run_id: RunId, snapshot: Snapshot, stats: SnapshotStats, *, at: datetime, healthy: bool
) -> dict[str, Any]:
    """Column values for a newly recorded snapshot."""
    return {
        "source": snapshot.source,
        "snapshot_id": snapshot.snapshot_id,
        "run_id": run_id,
        "taken_at": snapshot.taken_at,
        "recorded_at": at,
        "completeness": snapshot.completeness.value,
        "basis": snapshot.basis.value,
        "rows": stats.rows,
        "units": stats.units,
        "nonzero_rows": stats.nonzero_rows,
        "healthy": healthy,
        "origin": snapshot.origin,
    }
