"""The daemon's jobs: pull a source, reconcile a warehouse, scan for drift, check keys, prune."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

import structlog

from inventory_sync import service
from inventory_sync.app import App, ConfiguredSource
from inventory_sync.daemon.cache import SnapshotCache
from inventory_sync.daemon.drift import report_drift
from inventory_sync.daemon.runtime import Generation, Runtime
from inventory_sync.domain.model import Completeness, RunStatus, Snapshot, SourceName, Warehouse
from inventory_sync.errors import (
    LeaseLost,
    LedgerError,
    MappingError,
    ShipStationError,
    SourceError,
    StopRequested,
)
from inventory_sync.ports import Fence
from inventory_sync.report import RunReport
from inventory_sync.service.accounts import account_failed, bound_account
from inventory_sync.steps.archive import counted_for
from inventory_sync.steps.gather import Gathered, gather_one, pull
from inventory_sync.steps.leases import account_of, accounts, push_lease_name
from inventory_sync.steps.settle import settle

log = structlog.get_logger(__name__)
Hasten = Callable[[Warehouse], None]


def pull_source(runtime: Runtime, name: SourceName, hasten: Hasten) -> None:
    """Pull one source; record new content, and bring its warehouses' reconciles forward."""
    with runtime.job(f"pull:{name}") as generation:
        configured = generation.source(name) if generation else None
        if generation is None or configured is None:
            return
        if not any(_leased(runtime, generation.app, w) for w in configured.warehouses):
            generation.health.elsewhere(name)  # another replica works for these accounts
            return
        try:
            snapshot = pull(configured)
        except SourceError as exc:
            generation.health.failed(name, exc)
            return
        generation.health.pulled(name, snapshot)
        again = not generation.cache.is_new(snapshot)
        if again and not _left_behind(generation.app, configured, snapshot):
            return  # the same content again: recorded already, nothing new to reconcile
        _admit(generation, configured, snapshot)
        for warehouse in configured.warehouses:
            hasten(warehouse)


def _left_behind(app: App, configured: ConfiguredSource, snapshot: Snapshot) -> bool:
    """A change file every warehouse counted, read again: its archive failed. It is admitted
    again, so the archive is tried again and the source held while it fails (the newer
    change files wait behind it); read as new content once more, it is not applied twice."""
    if snapshot.completeness is not Completeness.PARTIAL:
        return False
    return counted_for(app, configured, snapshot) == set(configured.warehouses)


def _admit(generation: Generation, configured: ConfiguredSource, snapshot: Snapshot) -> None:
    app = generation.app
    # Snapshots belong to a run in the ledger; a pull is a small run of its own.
    with service.recorded_run(app, f"pull:{configured.name}") as ending:
        gathered = Gathered()
        gather_one(app, ending.run_id, configured, gathered, snapshot=snapshot)
        ending.status = RunStatus.HELD if gathered.holds else RunStatus.SUCCEEDED
        ending.summary = {"rows": snapshot.row_count, "rejected_rows": len(snapshot.rejected)}
    generation.cache.admit(configured, snapshot, gathered)


def reconcile_warehouse(runtime: Runtime, warehouse: Warehouse, hasten: Hasten) -> None:
    """Reconcile one warehouse from the snapshots in memory; the lock keeps it one pusher."""
    job_id = f"reconcile:{warehouse}"
    with runtime.job(job_id) as generation:
        if generation is None or not generation.cache.has_data(warehouse):
            return  # nothing pulled yet: a run now could only say so
        with _pushing(runtime, generation.app, warehouse) as fence:
            if runtime.replicas is not None and fence is None:
                return  # the account's lease went to another replica since the data came
            _reconcile(runtime, generation, warehouse, fence)
    if warehouse in runtime.dirty:
        hasten(warehouse)  # data arrived during the run; reconcile again soon


def _reconcile(
    runtime: Runtime, generation: Generation, warehouse: Warehouse, fence: Fence | None
) -> None:
    job_id = f"reconcile:{warehouse}"
    runtime.dirty.discard(warehouse)
    options = service.RunOptions(
        trigger=f"daemon:{warehouse}", warehouses=frozenset({warehouse}), fence=fence
    )
    app = generation.app.for_warehouse(warehouse)  # its account's client and budget
    try:
        with bound_account(app), _taken(generation.cache, app, warehouse) as gathered:
            report = service.reconcile(
                app, options, progress=runtime.progress(job_id), gathered=gathered
            )
    except StopRequested:
        _settle_leftovers(app, warehouse)
        return
    except LeaseLost as exc:  # the lease's next holder settles what this run left
        log.error("lease.lost", lease=exc.lease, fence=exc.fence, reason=exc.reason)
        return
    except (ShipStationError, MappingError) as exc:  # run.finished has logged it
        runtime.notifier.status(f"{warehouse}: failed: {exc}")
        return
    runtime.notifier.status(status_line(warehouse, report))


@contextmanager
def _taken(cache: SnapshotCache, app: App, warehouse: Warehouse) -> Iterator[Gathered]:
    """The warehouse's data in memory, for one reconcile; the change snapshots it did not
    count (busy, held by a guard, failed) go back to the cache, however the run ended."""
    gathered = cache.take(warehouse, app.clock.now())
    taken = [
        s for s in gathered.snapshots.get(warehouse, ()) if s.completeness is Completeness.PARTIAL
    ]
    try:
        yield gathered
    finally:
        if taken:
            _give_back(cache, app, warehouse, taken)


def _give_back(
    cache: SnapshotCache, app: App, warehouse: Warehouse, taken: Sequence[Snapshot]
) -> None:
    try:
        left = [
            s
            for s in taken
            if s.snapshot_id not in app.ledger.counted_snapshot_ids(s.source, warehouse)
        ]
    except LedgerError:
        # Unknown: keep them all. The next run asks the ledger again before using any, so a
        # change already counted is left out then, not applied twice.
        left = list(taken)
    if left:
        log.info(
            "daemon.changes_kept",
            warehouse=warehouse,
            snapshot_ids=[s.snapshot_id for s in left],
        )
        cache.give_back(warehouse, left)


@contextmanager
def _pushing(runtime: Runtime, app: App, warehouse: Warehouse) -> Iterator[Fence | None]:
    """The fence a run must carry; while the block runs, the account's lease is not given up
    to another replica (a rebalance waits for the run to end)."""
    if runtime.replicas is None:
        yield None
        return
    with runtime.replicas.pushing(push_lease_name(account_of(app, warehouse))) as fence:
        yield fence


def _fence(runtime: Runtime, app: App, warehouse: Warehouse) -> Fence | None:
    if runtime.replicas is None:
        return None
    return runtime.replicas.fence(push_lease_name(account_of(app, warehouse)))


def _leased(runtime: Runtime, app: App, warehouse: Warehouse) -> bool:
    """True when this process may work for the warehouse: alone, or holding its account."""
    return runtime.replicas is None or _fence(runtime, app, warehouse) is not None


def _holds(runtime: Runtime, account: App) -> bool:
    """True when this process may spend ``account``'s budget: alone, or holding its lease."""
    return runtime.replicas is None or runtime.replicas.holds(push_lease_name(account.account))


def _leads(runtime: Runtime, app: App) -> bool:
    """The replica that holds the first account's lease runs the daily tasks."""
    if runtime.replicas is None:
        return True
    return runtime.replicas.holds(push_lease_name(min(accounts(app))))


def tick_replica(runtime: Runtime, on_taken: Callable[[], None]) -> None:
    """Beat, renew this replica's leases and take its share of free ones; new work starts now."""
    generation = runtime.current
    store = generation.app.leases
    if runtime.replicas is None or store is None or runtime.stopping.is_set():
        return
    wanted = [push_lease_name(a) for a in accounts(generation.app)]
    if runtime.replicas.tick(store, wanted):
        # What this replica pulled before it last lost a lease is old news now; reconciling
        # from it would push stale numbers until the next pull. Start empty, and pull now.
        generation.cache = SnapshotCache(generation.app.sources)
        on_taken()


def _settle_leftovers(app: App, warehouse: Warehouse) -> None:
    # A stopped push leaves adjustments planned (never sent) or sent but cancelled before
    # leaving; settling them now by reading back records each one, as the next run would.
    leftovers = [e for e in app.ledger.unsettled() if e.adjustment.warehouse == warehouse]
    settle(app, leftovers)


def status_line(warehouse: Warehouse, report: RunReport) -> str:
    """The one-line summary systemctl status shows for the last run."""
    counts = report.counts()
    busy = " (skipped: another process was pushing to it)" if report.busy else ""
    return (
        f"{warehouse}: {report.status.value} at {time.strftime('%H:%M:%S')}{busy}: "
        f"{counts['applied']} applied, {counts['failed']} failed, {counts['unchanged']} unchanged"
    )


def scan_drift(runtime: Runtime) -> None:
    """Compare every level with the sources' data in memory, writing nothing."""
    with runtime.job("drift-scan") as generation:
        if generation is None:
            return
        for app in generation.app.account_apps():  # each account with its own client
            # Its lease's holder only, so one replica spends its budget; held to the scan's end.
            with _scanning(runtime, app) as ours:
                if ours:
                    with bound_account(app):
                        _scan_account(generation, app)


@contextmanager
def _scanning(runtime: Runtime, account: App) -> Iterator[bool]:
    """True when this process may read ``account``; a rebalance waits for the block's end."""
    if runtime.replicas is None:
        yield True
        return
    with runtime.replicas.pushing(push_lease_name(account.account)) as fence:
        yield fence is not None


def _scan_account(generation: Generation, app: App) -> None:
    if not any(generation.cache.has_data(name) for name in app.targets.names):
        return  # no source data yet: "no drift" would be a claim without a basis
    gathered = Gathered()
    for name in app.targets.names:
        one = generation.cache.take(name, app.clock.now(), consume=False)
        gathered.snapshots[name].extend(one.snapshots.get(name, ()))
        gathered.holds.extend(one.holds)
    options = service.RunOptions(dry_run=True, trigger="drift-scan")
    try:
        report_drift(service.reconcile(app, options, gathered=gathered))
    except (ShipStationError, MappingError) as exc:
        if len(generation.app.account_apps()) == 1:
            raise  # one account: the job fails as it always did
        account_failed(app, exc)


def check_keys(runtime: Runtime) -> None:
    """Warn ahead of an API key's expiry (the client logs shipstation.key_expiring)."""
    with runtime.job("key-check") as generation:
        if generation is None:
            return
        for app in generation.app.account_apps():
            if _holds(runtime, app):
                with bound_account(app):
                    app.inventory.check_key_expiry(app.clock.now().date())


def prune_ledger(runtime: Runtime) -> None:
    """Forget history older than ledger.retention_days."""
    with runtime.job("retention") as generation:
        if generation is None or not _leads(runtime, generation.app):
            return
        app = generation.app
        older_than = app.clock.now() - timedelta(days=generation.settings.ledger.retention_days)
        counts = app.ledger.prune(older_than)
        log.info("ledger.pruned", older_than=older_than.isoformat(), **counts)


def heartbeat(runtime: Runtime) -> None:
    """Proves the scheduler still dispatches jobs; the main thread pings the watchdog on it."""
    runtime.beat = time.monotonic()
