"""What each warehouse's plan is made of, and what a run remembers of its sources afterwards."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from inventory_sync.app import App
from inventory_sync.domain.model import (
    AdjustmentStatus,
    Completeness,
    Hold,
    JournalEntry,
    Levels,
    Sku,
    Snapshot,
    SnapshotUse,
    WarehouseTarget,
    holding,
)
from inventory_sync.domain.planner import (
    WarehouseInput,
    next_absent_counts,
    planned_from,
    source_values,
)
from inventory_sync.domain.policy import Precedence
from inventory_sync.steps.gather import Gathered


def warehouse_input(  # noqa: PLR0917 - what one warehouse's plan is made of
    app: App,
    target: WarehouseTarget,
    levels: Levels,
    gathered: Gathered,
    skus: frozenset[str],
    blocked: Mapping[Sku, Hold],
) -> WarehouseInput:
    """The planner's input for one warehouse; ``skus`` narrows it (empty: every SKU)."""
    # A SKU whose row was rejected is unknown this run, not absent: leave it out entirely.
    unknown = {r.sku for r in gathered.rejected if r.warehouse == target.name and r.sku}
    if unknown or blocked:  # copying a million-SKU column is worth skipping in the usual run
        levels = levels.where(lambda sku: sku not in unknown and sku not in blocked)
    snapshots = _not_counted(app, target, gathered.snapshots.get(target.name, ()))
    if skus:
        snapshots = tuple(s.where(skus.__contains__) for s in snapshots)
    if blocked:
        snapshots = tuple(s.where(lambda sku: sku not in blocked) for s in snapshots)
    return WarehouseInput(
        warehouse=target.name,
        location_id=target.location_id,
        snapshots=snapshots,
        levels=levels,
        agreed=app.ledger.agreed_levels(target.name),
        absent_counts=_absent_counts_before(app, target, snapshots),
        holds=_held_sources(app, target, gathered),
    )


def _not_counted(
    app: App, target: WarehouseTarget, snapshots: Sequence[Snapshot]
) -> tuple[Snapshot, ...]:
    """Leave out change snapshots the warehouse already counted, whoever handed them over
    (gather skips them too; the daemon's memory may hand back one a run counted since)."""
    return tuple(
        s
        for s in snapshots
        if s.completeness is not Completeness.PARTIAL
        or s.snapshot_id not in app.ledger.counted_snapshot_ids(s.source, target.name)
    )


def planned_partials(
    app: App, inputs: Sequence[WarehouseInput]
) -> tuple[tuple[SnapshotUse, ...], tuple[Snapshot, ...]]:
    """The change snapshots each warehouse's plan was made from: the uses to record with the
    plan, and the snapshots (to archive once every warehouse of their source counted them)."""
    uses: list[SnapshotUse] = []
    used: list[Snapshot] = []
    for inp in inputs:
        if not planned_from(inp, app.policies.get(inp.warehouse, app.policy)):
            continue  # e.g. a sum with a held part: nothing of its sources was applied
        for snapshot in inp.snapshots:
            if snapshot.completeness is Completeness.PARTIAL:
                uses.append(SnapshotUse(snapshot.source, snapshot.snapshot_id, inp.warehouse))
                used.append(snapshot)
    return tuple(uses), tuple(used)


def waiting_sums(app: App, inputs: Sequence[WarehouseInput]) -> tuple[Hold, ...]:
    """A hold on each warehouse whose sources are summed and which was not planned only because
    a part waits for its next file: the other parts alone would publish a fraction of its stock,
    so nothing is sent, and a part that keeps arriving between the others' files would leave the
    warehouse unreconciled for good. Loud, then: the run ends held and says why."""
    holds: list[Hold] = []
    for inp in inputs:
        policy = app.policies.get(inp.warehouse, app.policy)
        if policy.precedence is not Precedence.SUM or planned_from(inp, policy):
            continue
        waiting = [h.subject.removeprefix("source:") for h in inp.holds if h.waiting]
        if not inp.snapshots or not waiting or holding(inp.holds):
            continue  # nothing new at all, or a real hold already says why
        reason = (
            f"its sources are summed and {', '.join(waiting)} has no new file: the others alone"
            " would be a part of its stock, so it is reconciled once every part has a new file"
            " (let the parts' files arrive together)"
        )
        holds.append(Hold(f"warehouse:{inp.warehouse}", reason, {"waiting": ",".join(waiting)}))
    return tuple(holds)


def _held_sources(app: App, target: WarehouseTarget, gathered: Gathered) -> tuple[Hold, ...]:
    """Holds of the sources that speak for this warehouse: the planner then zeroes nothing."""
    mine = {f"source:{s.name}" for s in app.sources if target.name in s.warehouses}
    return tuple(h for h in gathered.holds if h.subject in mine)


def absent_basis(snapshots: Sequence[Snapshot]) -> str | None:
    """Names the complete snapshots a run counts absences from; None when there are none."""
    ids = sorted(s.snapshot_id for s in snapshots if s.completeness is Completeness.COMPLETE)
    return hashlib.sha256("|".join(ids).encode()).hexdigest()[:32] if ids else None


def _absent_counts_before(
    app: App, target: WarehouseTarget, snapshots: Sequence[Snapshot]
) -> dict[Sku, int]:
    """The counts as they stood before these snapshots: the same file read again is one
    snapshot, not another consecutive absence."""
    stored = app.ledger.absent_counts(target.name)
    basis = absent_basis(snapshots)
    if basis is not None and stored.basis == basis:
        return {sku: n - 1 for sku, n in stored.counts.items() if n > 1}
    return dict(stored.counts)


def record_absent_counts(app: App, inputs: Sequence[WarehouseInput]) -> None:
    for inp in inputs:
        basis = absent_basis(inp.snapshots)
        if basis is not None:
            app.ledger.replace_absent_counts(inp.warehouse, next_absent_counts(inp), basis=basis)


def record_agreed(
    app: App, inputs: Sequence[WarehouseInput], entries: Sequence[JournalEntry]
) -> None:
    """Remember the source value each SKU now agrees with, for delta feeds and for explain."""
    not_agreed = {
        (e.adjustment.warehouse, e.adjustment.sku)
        for e in entries
        if e.status is not AdjustmentStatus.APPLIED
    }
    for inp in inputs:
        values = source_values(inp, app.policies.get(inp.warehouse, app.policy))
        # Only what changed: rewriting every SKU's agreed level each run is a million-row upsert.
        agreed = {
            sku: q
            for sku, q in values.items()
            if inp.agreed.get(sku) != q and (inp.warehouse, sku) not in not_agreed
        }
        if agreed:
            app.ledger.record_agreed(inp.warehouse, agreed, at=app.clock.now())
