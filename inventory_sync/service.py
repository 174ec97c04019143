"""One run: gather -> plan -> record -> push -> confirm -> report. Every entrypoint calls this."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import structlog

from inventory_sync import logs
from inventory_sync.app import App, WarehouseTarget
from inventory_sync.domain.guards import check_guards
from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentStatus,
    Completeness,
    Hold,
    JournalEntry,
    Levels,
    Outcome,
    Plan,
    RunId,
    RunRecord,
    RunStatus,
    Sku,
    Snapshot,
)
from inventory_sync.domain.planner import (
    WarehouseInput,
    next_absent_counts,
    plan,
    source_values,
)
from inventory_sync.errors import LeaseLost, ShipStationError
from inventory_sync.gcpause import gc_paused
from inventory_sync.ports import Fence
from inventory_sync.report import RunReport
from inventory_sync.steps.blocked import blocked_skus
from inventory_sync.steps.gather import Gathered, gather
from inventory_sync.steps.locks import hold_warehouses, holder_id
from inventory_sync.steps.mapping import ensure_targets
from inventory_sync.steps.movements import observe_movements, remember_levels
from inventory_sync.steps.push import push
from inventory_sync.steps.runs import (
    Progress,
    confirm,
    finish,
    new_run_id,
    read_levels,
    refreshing,
)
from inventory_sync.steps.settle import settle

log = structlog.get_logger(__name__)
# new_run_id and Progress are re-exported for the daemon, which starts runs of its own.
__all__ = ["Progress", "RunOptions", "absent_basis", "new_run_id", "reconcile"]


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What the caller asked of this run."""

    dry_run: bool = False
    force: bool = False
    trigger: str = "cli"
    warehouses: frozenset[str] = frozenset()  # empty: all
    skus: frozenset[str] = frozenset()  # empty: all
    fence: Fence | None = None  # a replica's lease: every write is checked against it


def reconcile(
    app: App,
    options: RunOptions,
    *,
    progress: Progress | None = None,
    gathered: Gathered | None = None,
) -> RunReport:
    """Run one reconcile and return its report; ShipStation errors that stop the run propagate.

    ``gathered`` lets the daemon pass snapshots its pull jobs already recorded; without it the
    run pulls every source itself.
    """
    run_id = new_run_id(app)
    started = time.monotonic()
    logs.bind_run(run_id)
    ensure_targets(app)
    targets = _targets(app, options)
    app.ledger.begin_run(
        RunRecord(run_id, app.clock.now(), options.trigger, dry_run=options.dry_run)
    )
    log.info("run.started", warehouses=[t.name for t in targets], dry_run=options.dry_run)
    try:
        if options.dry_run:
            report = _run(app, run_id, targets, options, progress, gathered)
        else:
            holder = holder_id(run_id, options.fence)
            with hold_warehouses(app, holder, targets, options.fence) as (locks, busy):
                report = _run(
                    app, run_id, locks.targets, options, refreshing(locks, progress), gathered
                )
                report = replace(report, holds=(*busy, *report.holds), busy=bool(busy))
    except (ShipStationError, LeaseLost) as exc:
        finish(app, run_id, RunStatus.FAILED, {}, started, targets, error=str(exc))
        raise
    report = replace(report, duration_seconds=time.monotonic() - started)
    finish(app, run_id, report.status, report.counts(), started, targets)
    return report


def _run(  # noqa: PLR0917 - private; the steps of one run in order
    app: App,
    run_id: RunId,
    targets: Sequence[WarehouseTarget],
    options: RunOptions,
    progress: Progress | None,
    gathered: Gathered | None,
) -> RunReport:
    names = {t.name for t in targets}
    unsettled = [e for e in app.ledger.unsettled() if e.adjustment.warehouse in names]
    settled = [] if options.dry_run else settle(app, unsettled)
    blocked = blocked_skus(app, names)
    if gathered is None:
        gathered = gather(app, run_id, record=not options.dry_run)
    levels = {t.name: read_levels(app, t, options.skus) for t in targets}
    if not options.dry_run:
        ours = {e.adjustment.sku for e in settled}
        read = options.skus or None  # a narrowed run saw only these SKUs
        for t in targets:
            observe_movements(app, run_id, t.name, levels[t.name], skip=ours, only=read)
    inputs = [
        _input(app, t, levels[t.name], gathered, options, blocked.get(t.name, {})) for t in targets
    ]
    with gc_paused():
        the_plan = plan(run_id, inputs, app.policies, default=app.policy)
    guard_holds = check_guards(the_plan, inputs, app.limits)
    base = RunReport(
        run_id=run_id,
        status=RunStatus.SUCCEEDED,
        dry_run=options.dry_run,
        entries=(),
        unchanged=the_plan.unchanged,
        holds=tuple(
            dict.fromkeys(
                (
                    *gathered.holds,
                    *the_plan.holds,
                    *guard_holds,
                    *(hold for by_sku in blocked.values() for hold in by_sku.values()),
                )
            )
        ),
        rejected=tuple(gathered.rejected),
        settled=tuple(settled),
    )
    if guard_holds and not options.force:
        return _held(app, run_id, the_plan, guard_holds, base, options)
    if options.dry_run:
        return replace(base, entries=_as_planned(app, run_id, the_plan.adjustments))
    push(app, run_id, the_plan.adjustments, progress=progress, fence=options.fence)
    entries = confirm(app, run_id)
    for t in targets:
        remember_levels(app, run_id, t.name, levels[t.name], entries)
    _record_agreed(app, inputs, entries)
    if not options.skus:  # a narrowed run sees only some SKUs: absences elsewhere mean nothing
        _record_absent_counts(app, inputs)
    failed = any(e.status is not AdjustmentStatus.APPLIED for e in entries)
    status = RunStatus.PARTIAL if failed else RunStatus.SUCCEEDED
    return replace(base, entries=tuple(entries), status=status, requests=len(entries))


def _targets(app: App, options: RunOptions) -> list[WarehouseTarget]:
    if not options.warehouses:
        return list(app.warehouses)
    return [t for t in app.warehouses if t.name in options.warehouses]


def _input(  # noqa: PLR0917 - private; what one warehouse's plan is made of
    app: App,
    target: WarehouseTarget,
    levels: Levels,
    gathered: Gathered,
    options: RunOptions,
    blocked: Mapping[Sku, Hold],
) -> WarehouseInput:
    # A SKU whose row was rejected is unknown this run, not absent: leave it out entirely.
    unknown = {r.sku for r in gathered.rejected if r.warehouse == target.name and r.sku}
    if unknown or blocked:  # copying a million-SKU column is worth skipping in the usual run
        levels = levels.where(lambda sku: sku not in unknown and sku not in blocked)
    snapshots = tuple(gathered.snapshots.get(target.name, ()))
    if options.skus:
        snapshots = tuple(s.where(options.skus.__contains__) for s in snapshots)
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


def _record_absent_counts(app: App, inputs: Sequence[WarehouseInput]) -> None:
    for inp in inputs:
        basis = absent_basis(inp.snapshots)
        if basis is not None:
            app.ledger.replace_absent_counts(inp.warehouse, next_absent_counts(inp), basis=basis)


def _held(  # noqa: PLR0917 - private, called once
    app: App,
    run_id: RunId,
    the_plan: Plan,
    guard_holds: tuple[Hold, ...],
    base: RunReport,
    options: RunOptions,
) -> RunReport:
    for hold in guard_holds:
        log.error("run.held", subject=hold.subject, reason=hold.reason, **dict(hold.details))
    entries = _as_planned(app, run_id, the_plan.adjustments)
    if not options.dry_run:
        # The held plan stays in the ledger, so `explain` can show what was stopped and why.
        app.ledger.record_planned(
            run_id, the_plan.adjustments, at=app.clock.now(), fence=options.fence
        )
        for adjustment in the_plan.adjustments:
            app.ledger.mark_outcome(
                adjustment.adjustment_id,
                Outcome(AdjustmentStatus.SKIPPED, app.clock.now(), error="run held by a guard"),
            )
    return replace(base, entries=entries, status=RunStatus.HELD, guard_held=True)


def _as_planned(
    app: App, run_id: RunId, adjustments: Sequence[Adjustment]
) -> tuple[JournalEntry, ...]:
    now = app.clock.now()
    return tuple(JournalEntry(run_id, a, AdjustmentStatus.PLANNED, now) for a in adjustments)


def _record_agreed(
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
