"""What a run tells its caller: status, counts and every adjustment, ready for JSON or a table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inventory_sync import exits
from inventory_sync.domain.model import (
    AdjustmentStatus,
    Hold,
    JournalEntry,
    Rejected,
    RunId,
    RunStatus,
    SnapshotUse,
    holding,
)


@dataclass(frozen=True, slots=True)
class RunReport:
    """The outcome of one reconcile run."""

    run_id: RunId
    status: RunStatus
    dry_run: bool
    entries: tuple[JournalEntry, ...]
    unchanged: int
    holds: tuple[Hold, ...] = ()
    guard_held: bool = False
    busy: bool = False  # another process held the push lock of a warehouse
    skipped: tuple[str, ...] = ()  # the warehouses skipped for that reason
    rejected: tuple[Rejected, ...] = ()
    settled: tuple[JournalEntry, ...] = ()  # adjustments of earlier runs settled at start
    requests: int = 0
    duration_seconds: float = 0.0
    # Per file source, stable files left in its inbox for later runs (only counts above 0):
    # a change feed reads one file per run, so a backlog drains one run at a time.
    files_waiting: Mapping[str, int] = field(default_factory=dict)
    # The change snapshots the plan was made from, per warehouse: what a plan file carries so
    # that applying it counts them (a dry run records none itself).
    uses: tuple[SnapshotUse, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        by_status = Counter(entry.status for entry in self.entries)
        return {
            "planned": len(self.entries),
            "applied": by_status[AdjustmentStatus.APPLIED],
            "failed": by_status[AdjustmentStatus.FAILED],
            "uncertain": by_status[AdjustmentStatus.UNCERTAIN],
            "needs_review": by_status[AdjustmentStatus.NEEDS_REVIEW],
            "held": len(self.entries) if self.guard_held else 0,
            "unchanged": self.unchanged,
            "rejected_rows": len(self.rejected),
        }

    @property
    def exit_code(self) -> int:
        return exits.for_report(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status.value,
            "dry_run": self.dry_run,
            **self.counts(),
            "adjustments": [entry_json(entry) for entry in self.entries],
            "holds": holds_json(self.holds),
            "no_new_file": waiting_json(self.holds),
            "rejected": [rejected_json(r) for r in self.rejected],
            "settled": [entry_json(entry) for entry in self.settled],
            "files_waiting": dict(self.files_waiting),
            "requests": self.requests,
            "duration_seconds": round(self.duration_seconds, 3),
        }


def holds_json(holds: Iterable[Hold]) -> list[dict[str, Any]]:
    """The holds that held the run (a source waiting for its next file is not one of them)."""
    return [{"subject": h.subject, "reason": h.reason, **dict(h.details)} for h in holding(holds)]


def waiting_json(holds: Iterable[Hold]) -> list[dict[str, Any]]:
    """The sources waiting for their next file: not used this run, but not a fault."""
    return [
        {"source": h.subject.removeprefix("source:"), "reason": h.reason, **dict(h.details)}
        for h in holds
        if h.waiting
    ]


def entry_json(entry: JournalEntry) -> dict[str, Any]:
    adjustment = entry.adjustment
    return {
        "adjustment_id": adjustment.adjustment_id,
        "warehouse": adjustment.warehouse,
        "sku": adjustment.sku,
        "inventory_location_id": adjustment.location_id,
        "transaction_type": adjustment.transaction_type.value,
        "quantity": adjustment.quantity,
        "before": adjustment.before,
        "after": adjustment.after,
        "rule": adjustment.rule,
        "status": entry.status.value,
        "request_id": entry.request_id,
        "error": entry.error,
    }


def rejected_json(rejected: Rejected) -> dict[str, Any]:
    return {
        "source": rejected.source,
        "origin": rejected.origin,
        "line": rejected.line,
        "field": rejected.field,
        "value": rejected.value,
        "reason": rejected.reason,
        "sku": rejected.sku,
        "warehouse": rejected.warehouse,
    }
