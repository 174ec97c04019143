"""Operator actions outside the reconcile cadence: a reviewed plan, a manual change, a verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import structlog

from inventory_sync.app import App
from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentId,
    AdjustmentStatus,
    JournalEntry,
    Levels,
    Outcome,
    RunId,
    Sku,
    SnapshotUse,
    TransactionType,
    WarehouseTarget,
    pushed_status,
)
from inventory_sync.errors import LockHeld, UsageError
from inventory_sync.ports import Fence, Watch
from inventory_sync.report import RunReport
from inventory_sync.service.frame import Run, RunStart, recorded_run, run_in_frame
from inventory_sync.steps.agree import agree_on
from inventory_sync.steps.apply_plan import check_plan_targets, still_current
from inventory_sync.steps.blocked import consecutive_failures
from inventory_sync.steps.manual import ManualChange, manual_adjustment, operator
from inventory_sync.steps.movements import observe_movements, remember_levels
from inventory_sync.steps.push import check_fence, push
from inventory_sync.steps.runs import Progress, confirm, read_levels
from inventory_sync.steps.settle import settle

log = structlog.get_logger(__name__)


def apply_plan(
    app: App,
    adjustments: Sequence[Adjustment],
    uses: Sequence[SnapshotUse] = (),
    *,
    progress: Progress | None = None,
    fence: Fence | None = None,
    watch: Watch | None = None,
) -> RunReport:
    """Apply a reviewed plan exactly (an approved plan passes the guards), under the same locks.

    ``uses``: the change files the plan was made from, counted with it (the next run does not
    apply them again, even for a warehouse whose plan had no rows).
    ``fence``: the account lease the plan is pushed under; every write is checked against it.
    ``progress`` hears the push, ``watch`` the read of ShipStation's levels before it."""
    wanted = {a.warehouse for a in adjustments} | {u.warehouse for u in uses}

    def pick(targets: Sequence[WarehouseTarget]) -> list[WarehouseTarget]:
        check_plan_targets(adjustments, targets)
        return [t for t in targets if t.name in wanted]

    start = RunStart("apply", pick=pick, fields={"plan_rows": len(adjustments)}, fence=fence)
    return run_in_frame(
        app,
        start,
        lambda run: _apply(run, adjustments, uses, run.progress(progress), fence, watch),
    )


def _apply(  # noqa: PLR0917 - private, called once
    run: Run,
    adjustments: Sequence[Adjustment],
    uses: Sequence[SnapshotUse],
    progress: Progress | None,
    fence: Fence | None,
    watch: Watch | None,
) -> RunReport:
    app, run_id = run.app, run.run_id
    held = {t.name for t in run.held}
    settled = settle(app, [e for e in app.ledger.unsettled() if e.adjustment.warehouse in held])
    mine = [a for a in adjustments if a.warehouse in held]
    # The re-read that checks each row also shows what others moved since the last run, which
    # is recorded before our own changes overwrite the levels seen (as a reconcile does).
    levels = {t.name: read_levels(app.inventory, t, watch=watch) for t in run.held}
    ours = {e.adjustment.sku for e in settled}
    for target in run.held:
        observe_movements(app, run_id, target.name, levels[target.name], skip=ours)
    counted = [u for u in uses if u.warehouse in held]
    fresh = still_current(app, run_id, mine, levels, fence=fence, uses=counted)
    push(app, run_id, fresh, progress=progress, record=False, fence=fence)
    check_fence(fence)  # what follows writes levels the lease's next holder relies on
    entries = confirm(app, run_id)
    for target in run.held:
        remember_levels(app, run_id, target.name, levels[target.name], entries)
    return _pushed(run_id, entries, settled, requests=sum(1 for e in entries if e.sent_at))


def manual_adjust(app: App, warehouse: str, change: ManualChange) -> RunReport:
    """An operator's change, journaled and pushed through the same path as a reconcile."""

    def pick(targets: Sequence[WarehouseTarget]) -> list[WarehouseTarget]:
        mine = [t for t in targets if t.name == warehouse]
        if not mine:
            known = [t.name for t in targets]
            raise UsageError(f"unknown warehouse {warehouse!r}; configured: {known}")
        return mine

    start = RunStart(f"manual:{change.reason}", pick=pick)
    return run_in_frame(app, start, lambda run: _adjust(run, change))


def _adjust(run: Run, change: ManualChange) -> RunReport:
    app, run_id = run.app, run.run_id
    if run.busy:
        (target,) = run.targets
        raise LockHeld(target.name, holder=str(run.busy[0].details.get("holder")))
    (target,) = run.held
    settled = settle(
        app, [e for e in app.ledger.unsettled() if e.adjustment.warehouse == target.name]
    )
    adjustment = manual_adjustment(app.inventory, run_id, target, change)
    # The level just read may show a sale since the last run: record it before ours lands.
    read = Levels({} if adjustment.before is None else {change.sku: adjustment.before})
    if change.sku not in {e.adjustment.sku for e in settled}:
        observe_movements(app, run_id, target.name, read, only={change.sku})
    log.info(
        "adjustment.manual",
        sku=change.sku,
        warehouse=target.name,
        rule=adjustment.rule,
        quantity=change.quantity,
        before=adjustment.before,
        after=adjustment.after,
    )
    push(app, run_id, [adjustment], progress=run.progress(None))
    entries = confirm(app, run_id)
    remember_levels(app, run_id, target.name, read, entries)  # our change is no movement
    return _pushed(run_id, entries, (), requests=len(entries))


def _pushed(
    run_id: RunId,
    entries: Sequence[JournalEntry],
    settled: Sequence[JournalEntry],
    *,
    requests: int,
) -> RunReport:
    return RunReport(
        run_id=run_id,
        status=pushed_status(entries),
        dry_run=False,
        entries=tuple(entries),
        unchanged=0,
        settled=tuple(settled),
        requests=requests,
    )


def resolve(app: App, adjustment_id: str, *, applied: bool, note: str | None) -> JournalEntry:
    """A person's verdict on a change whose outcome could not be decided by reading back."""
    waiting = [*app.ledger.journal(status=AdjustmentStatus.NEEDS_REVIEW), *app.ledger.unsettled()]
    entry = next((e for e in waiting if e.adjustment.adjustment_id == adjustment_id), None)
    if entry is None:
        raise UsageError(
            f"no adjustment {adjustment_id!r} is waiting for review "
            "(see `inventory-sync history --status needs_review`)"
        )
    said = f"resolved by {operator()}" + (f": {note}" if note else "")
    now = app.clock.now()
    if applied:
        agree_on(app, entry.adjustment, entry.run_id)  # before the outcome, as push does
        outcome = Outcome(AdjustmentStatus.APPLIED, now, response=said)
    else:
        outcome = Outcome(AdjustmentStatus.FAILED, now, error=f"not applied ({said})")
    app.ledger.mark_outcome(entry.adjustment.adjustment_id, outcome)
    log.info(
        "adjustment.resolved",
        adjustment_id=adjustment_id,
        warehouse=entry.adjustment.warehouse,
        sku=entry.adjustment.sku,
        status=outcome.status.value,
    )
    return replace(entry, status=outcome.status, settled_at=now)


def release(app: App, warehouse: str, sku: Sku) -> JournalEntry:
    """End a SKU's quarantine: a journal entry, on record, that breaks its run of failures.

    The configured names and the ledger are all it needs: nothing is sent (the next run plans
    the SKU again, checking the mapping with ShipStation first), so it works while ShipStation
    is down, which is when an operator may need it.
    """
    if warehouse not in app.targets.names:
        known = ", ".join(app.targets.names)
        raise UsageError(f"unknown warehouse {warehouse!r}; configured: {known}")
    history = [e for e in app.ledger.journal(sku=sku) if e.adjustment.warehouse == warehouse]
    failures = consecutive_failures(history)
    if not failures:
        raise UsageError(f"{sku} in {warehouse} is not quarantined (its last change did not fail)")
    failed = failures[-1].adjustment  # the marker names the location the failures were sent to
    with recorded_run(app, "release") as ending:
        run_id, now = ending.run_id, app.clock.now()
        marker = Adjustment(
            adjustment_id=AdjustmentId(f"rel-{run_id}"),
            warehouse=failed.warehouse, location_id=failed.location_id, sku=sku,
            transaction_type=TransactionType.ADJUST, quantity=0, before=None, after=0,
            rule="release", basis={"operator": operator()},
        )  # fmt: skip
        app.ledger.record_planned(run_id, [marker], at=now)
        said = f"quarantine released by {operator()}; nothing sent"
        app.ledger.mark_outcome(
            marker.adjustment_id, Outcome(AdjustmentStatus.SKIPPED, now, error=said)
        )
    log.info("sku.released", warehouse=warehouse, sku=sku)
    return JournalEntry(run_id, marker, AdjustmentStatus.SKIPPED, now, error=said)
