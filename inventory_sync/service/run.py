"""One run: gather -> plan -> record -> push -> confirm -> report. Every entrypoint calls this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import structlog

from inventory_sync.app import App
from inventory_sync.domain.guards import check_guards
from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentStatus,
    Hold,
    JournalEntry,
    Outcome,
    Plan,
    RunId,
    RunStatus,
    WarehouseTarget,
    holding,
    pushed_status,
)
from inventory_sync.domain.planner import WarehouseInput, plan
from inventory_sync.gcpause import gc_paused
from inventory_sync.ports import Fence, Watch
from inventory_sync.report import RunReport
from inventory_sync.service.frame import Run, RunStart, run_in_frame
from inventory_sync.service.inputs import (
    planned_partials,
    record_absent_counts,
    record_agreed,
    waiting_sums,
    warehouse_input,
)
from inventory_sync.steps.archive import archive_counted
from inventory_sync.steps.blocked import blocked_skus
from inventory_sync.steps.gather import Gathered, gather
from inventory_sync.steps.movements import observe_movements, remember_levels
from inventory_sync.steps.push import check_fence, push
from inventory_sync.steps.runs import Progress, confirm, read_levels
from inventory_sync.steps.settle import settle

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What the caller asked of this run."""

    dry_run: bool = False
    force: bool = False
    trigger: str = "cli"
    warehouses: frozenset[str] = frozenset()  # empty: all
    skus: frozenset[str] = frozenset()  # empty: all
    fence: Fence | None = None  # a replica's lease: every write is checked against it

    def pick(self, targets: Sequence[WarehouseTarget]) -> list[WarehouseTarget]:
        """The warehouses this run asked for, among those configured."""
        return [t for t in targets if not self.warehouses or t.name in self.warehouses]


def reconcile(
    app: App,
    options: RunOptions,
    *,
    progress: Progress | None = None,
    gathered: Gathered | None = None,
    watch: Watch | None = None,
) -> RunReport:
    """Run one reconcile and return its report; errors that stop the run propagate, the run
    recorded as failed.

    ``gathered`` lets the daemon pass snapshots its pull jobs already recorded; without it the
    run pulls every source itself. ``progress`` hears the push, ``watch`` the reads before it.
    """
    start = RunStart(
        options.trigger,
        dry_run=options.dry_run,
        pick=options.pick,
        fence=options.fence,
        asked=options.warehouses,
    )
    return run_in_frame(
        app, start, lambda run: _steps(run, options, run.progress(progress), gathered, watch)
    )


def _steps(
    run: Run,
    options: RunOptions,
    progress: Progress | None,
    gathered: Gathered | None,
    watch: Watch | None,
) -> RunReport:
    app, run_id, targets = run.app, run.run_id, run.held
    names = {t.name for t in targets}
    unsettled = [e for e in app.ledger.unsettled() if e.adjustment.warehouse in names]
    settled = [] if options.dry_run else settle(app, unsettled)
    blocked = blocked_skus(app, names)
    if gathered is None:
        gathered = gather(app, run_id, record=not options.dry_run, watch=watch)
    levels = {t.name: read_levels(app.inventory, t, options.skus, watch) for t in targets}
    if not options.dry_run:
        ours = {e.adjustment.sku for e in settled}
        read = options.skus or None  # a narrowed run saw only these SKUs
        for t in targets:
            observe_movements(app, run_id, t.name, levels[t.name], skip=ours, only=read)
    inputs = [
        warehouse_input(app, t, levels[t.name], gathered, options.skus, blocked.get(t.name, {}))
        for t in targets
    ]
    with gc_paused():
        the_plan = plan(run_id, inputs, app.policies, default=app.policy)
    guard_holds = check_guards(the_plan, inputs, app.limits)
    sums = waiting_sums(app, inputs)
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
                    *sums,
                    *(hold for by_sku in blocked.values() for hold in by_sku.values()),
                )
            )
        ),
        rejected=tuple(gathered.rejected),
        settled=tuple(settled),
        files_waiting={k: v for k, v in gathered.files_waiting.items() if v},
    )
    # A narrowed run applied only some SKUs of each change file: it counts none of them.
    uses, used = ((), ()) if options.skus else planned_partials(app, inputs)
    base = replace(base, uses=uses)  # for a plan file: applying it counts them
    if guard_holds and not options.force:
        return _held(app, run_id, the_plan, guard_holds, base, options)
    if options.dry_run:
        planned = replace(base, entries=_as_planned(app, run_id, the_plan.adjustments))
        return _with_held_sources(planned, inputs, sums=sums)
    push(app, run_id, the_plan.adjustments, progress=progress, fence=options.fence, uses=uses)
    check_fence(options.fence)  # what follows writes levels the next holder relies on
    entries = confirm(app, run_id)
    for t in targets:
        remember_levels(app, run_id, t.name, levels[t.name], entries)
    record_agreed(app, inputs, entries)
    if not options.skus:  # a narrowed run sees only some SKUs: absences elsewhere mean nothing
        record_absent_counts(app, inputs)
    # After everything is recorded: a crash must not lose a file.
    unarchived = archive_counted(app, used)
    pushed = replace(
        base,
        entries=tuple(entries),
        status=pushed_status(entries),
        requests=len(entries),
        holds=(*base.holds, *unarchived),
    )
    return _with_held_sources(pushed, inputs, sums=sums, unarchived=bool(unarchived))


def _with_held_sources(
    report: RunReport,
    inputs: Sequence[WarehouseInput],
    *,
    sums: Sequence[Hold] = (),
    unarchived: bool = False,
) -> RunReport:
    """A run in which a warehouse's source was held (a sanity gate, unreadable, unusable, a
    counted change file that could not be archived) did not reconcile that warehouse from it
    (or will not reconcile the next change files): it ends held, as a guard's hold does, so a
    timer or cron job hears of it. A source only waiting for its next file does not hold the
    run (its warehouses were still not planned from it). Failed adjustments, already a reason
    to look, keep their status. A summed warehouse left unplanned by a waiting part is held
    (``sums``): it would otherwise go unreconciled in silence."""
    held_sources = unarchived or bool(sums) or any(holding(inp.holds) for inp in inputs)
    if held_sources and report.status is RunStatus.SUCCEEDED:
        return replace(report, status=RunStatus.HELD)
    return report


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
