"""Operator actions outside the reconcile cadence: a reviewed plan applied, a manual change."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import structlog

from inventory_sync import logs
from inventory_sync.app import App
from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentId,
    AdjustmentStatus,
    JournalEntry,
    Levels,
    Outcome,
    RunRecord,
    RunStatus,
    Sku,
    TransactionType,
)
from inventory_sync.errors import LockHeld, UsageError
from inventory_sync.report import RunReport
from inventory_sync.steps.agree import agree_on
from inventory_sync.steps.apply_plan import check_plan_targets, still_current
from inventory_sync.steps.blocked import consecutive_failures
from inventory_sync.steps.locks import hold_warehouses, holder_id
from inventory_sync.steps.manual import ManualChange, manual_adjustment, operator
from inventory_sync.steps.mapping import ensure_targets
from inventory_sync.steps.movements import remember_levels
from inventory_sync.steps.push import push
from inventory_sync.steps.runs import NOT_DONE, Progress, confirm, finish, new_run_id, refreshing
from inventory_sync.steps.settle import settle

log = structlog.get_logger(__name__)


def apply_plan(
    app: App, adjustments: Sequence[Adjustment], *, progress: Progress | None = None
) -> RunReport:
    """Apply a reviewed plan exactly (an approved plan passes the guards), under the same locks."""
    run_id = new_run_id(app)
    started = time.monotonic()
    logs.bind_run(run_id)
    ensure_targets(app)
    check_plan_targets(adjustments, app.warehouses)
    wanted = {a.warehouse for a in adjustments}
    targets = [t for t in app.warehouses if t.name in wanted]
    app.ledger.begin_run(RunRecord(run_id, app.clock.now(), "apply"))
    log.info("run.started", warehouses=sorted(wanted), plan_rows=len(adjustments))
    with hold_warehouses(app, holder_id(run_id), targets) as (locks, busy):
        held = {t.name for t in locks.targets}
        settled = settle(app, [e for e in app.ledger.unsettled() if e.adjustment.warehouse in held])
        mine = [a for a in adjustments if a.warehouse in held]
        push(
            app,
            run_id,
            still_current(app, run_id, mine),
            progress=refreshing(locks, progress),
            record=False,
        )
    entries = confirm(app, run_id)
    for target in targets:
        remember_levels(app, run_id, target.name, Levels(), entries)
    failed = any(e.status in NOT_DONE for e in entries)
    report = RunReport(
        run_id=run_id,
        status=RunStatus.PARTIAL if failed else RunStatus.SUCCEEDED,
        dry_run=False,
        entries=tuple(entries),
        unchanged=0,
        holds=tuple(busy),
        settled=tuple(settled),
        requests=sum(1 for e in entries if e.sent_at is not None),
        duration_seconds=time.monotonic() - started,
        busy=bool(busy),
    )
    finish(app, run_id, report.status, report.counts(), started, targets)
    return report


def manual_adjust(app: App, warehouse: str, change: ManualChange) -> RunReport:
    """An operator's change, journaled and pushed through the same path as a reconcile."""
    run_id = new_run_id(app)
    started = time.monotonic()
    logs.bind_run(run_id)
    ensure_targets(app)
    targets = [t for t in app.warehouses if t.name == warehouse]
    if not targets:
        raise UsageError(
            f"unknown warehouse {warehouse!r}; configured: {[t.name for t in app.warehouses]}"
        )
    app.ledger.begin_run(RunRecord(run_id, app.clock.now(), f"manual:{change.reason}"))
    with hold_warehouses(app, holder_id(run_id), targets) as (locks, busy):
        if busy:
            raise LockHeld(warehouse, holder=str(busy[0].details.get("holder")))
        settle(app, [e for e in app.ledger.unsettled() if e.adjustment.warehouse == warehouse])
        adjustment = manual_adjustment(app, run_id, locks.targets[0], change)
        log.info(
            "adjustment.manual",
            sku=change.sku,
            warehouse=warehouse,
            rule=adjustment.rule,
            quantity=change.quantity,
            before=adjustment.before,
            after=adjustment.after,
        )
        push(app, run_id, [adjustment])
    entries = confirm(app, run_id)
    remember_levels(app, run_id, targets[0].name, Levels(), entries)  # our change is no movement
    failed = any(e.status in NOT_DONE for e in entries)
    report = RunReport(
        run_id=run_id, status=RunStatus.PARTIAL if failed else RunStatus.SUCCEEDED, dry_run=False,
        entries=tuple(entries), unchanged=0, requests=len(entries),
        duration_seconds=time.monotonic() - started,
    )  # fmt: skip
    finish(app, run_id, report.status, report.counts(), started, targets)
    return report


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
    """End a SKU's quarantine: a journal entry, on record, that breaks its run of failures."""
    ensure_targets(app)
    target = next((t for t in app.warehouses if t.name == warehouse), None)
    if target is None:
        raise UsageError(f"unknown warehouse {warehouse!r}")
    history = [e for e in app.ledger.journal(sku=sku) if e.adjustment.warehouse == warehouse]
    if not consecutive_failures(history):
        raise UsageError(f"{sku} in {warehouse} is not quarantined (its last change did not fail)")
    run_id = new_run_id(app)
    now = app.clock.now()
    app.ledger.begin_run(RunRecord(run_id, now, "release"))
    marker = Adjustment(
        adjustment_id=AdjustmentId(f"rel-{run_id}"),
        warehouse=target.name, location_id=target.location_id, sku=sku,
        transaction_type=TransactionType.ADJUST, quantity=0, before=None, after=0,
        rule="release", basis={"operator": operator()},
    )  # fmt: skip
    app.ledger.record_planned(run_id, [marker], at=now)
    said = f"quarantine released by {operator()}; nothing sent"
    app.ledger.mark_outcome(
        marker.adjustment_id, Outcome(AdjustmentStatus.SKIPPED, now, error=said)
    )
    app.ledger.finish_run(run_id, status=RunStatus.SUCCEEDED, summary={}, at=now)
    log.info("sku.released", warehouse=warehouse, sku=sku)
    return JournalEntry(run_id, marker, AdjustmentStatus.SKIPPED, now, error=said)
