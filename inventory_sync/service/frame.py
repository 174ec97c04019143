"""The frame every run shares: begin, (hold the warehouses, run the steps,) always finish."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace

import structlog

from inventory_sync import logs
from inventory_sync.app import App
from inventory_sync.domain.model import (
    BUSY_KEY,
    SUPPORT_KEY,
    WAREHOUSES_KEY,
    Hold,
    RunId,
    RunRecord,
    RunStatus,
    SummaryValue,
    WarehouseTarget,
)
from inventory_sync.errors import InventorySyncError, ShipStationError
from inventory_sync.ports import Fence
from inventory_sync.report import RunReport
from inventory_sync.service.held import held_summary
from inventory_sync.steps.locks import WarehouseLocks, hold_warehouses, holder_id
from inventory_sync.steps.runs import Progress, new_run_id, refreshing

log = structlog.get_logger(__name__)
Pick = Callable[[Sequence[WarehouseTarget]], list[WarehouseTarget]]


def every_warehouse(targets: Sequence[WarehouseTarget]) -> list[WarehouseTarget]:
    return list(targets)


@dataclass(frozen=True, slots=True)
class RunStart:
    """What kind of run to begin, and which of the resolved warehouses it works on."""

    trigger: str
    dry_run: bool = False  # a dry run sends nothing, so it locks nothing
    pick: Pick = every_warehouse
    fields: Mapping[str, object] = field(default_factory=dict)  # more for run.started
    fence: Fence | None = None  # a replica's lease: its warehouse locks name it
    asked: frozenset[str] = frozenset()  # the names asked for, known before resolving; empty: all

    def names(self, targets: Sequence[WarehouseTarget]) -> dict[str, SummaryValue]:
        """The warehouses the run is about, for its summary: `status` counts its ending for
        those, even when it failed before the mapping resolved (empty: every warehouse)."""
        names = sorted({t.name for t in targets} or self.asked)
        return {WAREHOUSES_KEY: ",".join(names)} if names else {}


@dataclass(frozen=True, slots=True)
class Run:
    """What the steps of one run share: its id, its warehouses, and the locks it holds."""

    app: App
    run_id: RunId
    targets: tuple[WarehouseTarget, ...]  # the warehouses asked for
    held: tuple[WarehouseTarget, ...]  # those this run may push to (all, in a dry run)
    busy: tuple[Hold, ...]  # one per warehouse another process was pushing to
    locks: WarehouseLocks | None

    def progress(self, progress: Progress | None) -> Progress | None:
        """``progress``, keeping the locks fresh as a long push goes on."""
        return progress if self.locks is None else refreshing(self.locks, progress)


Steps = Callable[[Run], RunReport]


@dataclass(slots=True)
class RunEnding:
    """How a recorded run ends: set by its body; a body that raises ends it failed."""

    run_id: RunId
    status: RunStatus = RunStatus.SUCCEEDED
    summary: Mapping[str, SummaryValue] = field(default_factory=dict)
    names: Mapping[str, SummaryValue] = field(default_factory=dict)  # kept however it ends


@contextmanager
def recorded_run(app: App, trigger: str, *, dry_run: bool = False) -> Iterator[RunEnding]:
    """Begin a run in the ledger and finish it whatever happens: as the body set it, or failed.

    The one place a run is begun and finished; runs that push add their frame around it
    (run_in_frame), runs that only record (a pull, a release) use it as it is.
    """
    ending = RunEnding(new_run_id(app))
    logs.bind_run(ending.run_id)
    app.ledger.begin_run(RunRecord(ending.run_id, app.clock.now(), trigger, dry_run=dry_run))
    try:
        yield ending
    except BaseException as exc:
        _finish_failed(app, ending, exc)
        raise
    summary = {**ending.summary, **ending.names}
    app.ledger.finish_run(ending.run_id, status=ending.status, summary=summary, at=app.clock.now())


def run_in_frame(app: App, start: RunStart, steps: Steps) -> RunReport:
    """Begin a run, give ``steps`` its warehouses under lock, and finish the run whatever happens.

    Whatever ``steps`` raises (a ShipStation refusal, a ledger error, a bug, Ctrl-C), the run
    is finished as failed with the error, its locks released, and the error raised again.
    """
    started = time.monotonic()
    targets: list[WarehouseTarget] = []
    try:
        with recorded_run(app, start.trigger, dry_run=start.dry_run) as ending:
            ending.names = start.names(targets)  # what was asked, if resolving fails
            targets = start.pick(app.targets.resolve())
            ending.names = start.names(targets)
            names = [t.name for t in targets]
            log.info("run.started", warehouses=names, dry_run=start.dry_run, **start.fields)
            report = _locked(app, ending.run_id, targets, start, steps)
            report = replace(report, duration_seconds=time.monotonic() - started)
            summary: dict[str, SummaryValue] = {**report.counts()}
            if report.skipped:  # not this run's to judge: status looks past it for those
                summary[BUSY_KEY] = ",".join(report.skipped)
            summary.update(held_summary(app.sources, report, names))
            ending.status, ending.summary = report.status, summary
    except BaseException as exc:
        _announce(RunStatus.FAILED, {}, started, targets, error=str(exc) or type(exc).__name__)
        raise
    _announce(report.status, report.counts(), started, targets)
    return report


def busy_run(app: App, trigger: str, hold: Hold, summary: Mapping[str, SummaryValue]) -> RunReport:
    """A run that does nothing because another process holds its work: recorded and announced
    ``busy`` with ``hold`` saying who, so `history` and the exit code (5) tell the caller."""
    started = time.monotonic()
    with recorded_run(app, trigger) as ending:
        report = RunReport(
            run_id=ending.run_id,
            status=RunStatus.BUSY,
            dry_run=False,
            entries=(),
            unchanged=0,
            holds=(hold,),
            busy=True,
        )
        ending.status, ending.summary = RunStatus.BUSY, {**report.counts(), **summary}
    _announce(RunStatus.BUSY, report.counts(), started, ())
    return report


def _locked(
    app: App, run_id: RunId, targets: list[WarehouseTarget], start: RunStart, steps: Steps
) -> RunReport:
    if start.dry_run:
        return steps(Run(app, run_id, tuple(targets), tuple(targets), (), None))
    holder = holder_id(run_id, start.fence)
    with hold_warehouses(app.ledger, app.clock, holder, targets, start.fence) as (locks, busy):
        run = Run(app, run_id, tuple(targets), tuple(locks.targets), tuple(busy), locks)
        report = steps(run)
    skipped = tuple(t.name for t in targets if t not in locks.targets) if busy else ()
    report = replace(report, holds=(*busy, *report.holds), busy=bool(busy), skipped=skipped)
    # A skipped warehouse is not a success: the status says so, as the exit code (5) does.
    if busy and report.status is RunStatus.SUCCEEDED:
        report = replace(report, status=RunStatus.BUSY)
    return report


def _finish_failed(app: App, ending: RunEnding, exc: BaseException) -> None:
    summary = {**failure_summary(exc), **ending.names}
    if isinstance(exc, InventorySyncError) and exc.run_id is None:
        exc.run_id = ending.run_id  # so the command can name the run it recorded
    try:
        app.ledger.finish_run(
            ending.run_id, status=RunStatus.FAILED, summary=summary, at=app.clock.now()
        )
    except Exception as finishing:  # noqa: BLE001 - the error that stopped the run matters more
        # The ledger itself may be what failed; the events still say how the run ended.
        log.error("run.finish_failed", error=str(finishing))


def failure_summary(exc: BaseException) -> dict[str, SummaryValue]:
    """What the ledger keeps of the error that stopped a run: the message, its kind, and from
    ShipStation the status, the request id and the support record (keys already redacted)."""
    summary: dict[str, SummaryValue] = {
        "error": logs.scrubber.scrub(str(exc)) or type(exc).__name__,
        "error_type": type(exc).__name__,
    }
    if isinstance(exc, ShipStationError):
        summary |= {"status_code": exc.status_code, "request_id": exc.request_id}
        if exc.support is not None:
            record = json.dumps(asdict(exc.support), default=str)
            summary[SUPPORT_KEY] = logs.scrubber.scrub(record)
    return summary


def _announce(
    status: RunStatus,
    counts: Mapping[str, int],
    started: float,
    targets: Sequence[WarehouseTarget],
    *,
    error: str | None = None,
) -> None:
    level = "error" if status in {RunStatus.FAILED, RunStatus.HELD} else "info"
    log.log(
        logs.level_number(level),
        "run.finished",
        status=status.value,
        warehouses=[t.name for t in targets],
        duration_seconds=round(time.monotonic() - started, 3),
        error=error,
        **counts,
    )
