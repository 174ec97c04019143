"""Gather: pull every source, hold the ones that fail a gate, record what arrived."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

import structlog

from inventory_sync.app import App, ConfiguredSource
from inventory_sync.domain.gates import check_snapshot
from inventory_sync.domain.model import (
    Completeness,
    Hold,
    Rejected,
    RunId,
    Snapshot,
    SourceName,
    Warehouse,
)
from inventory_sync.errors import FeedFormatError, NoNewFile, SourceError
from inventory_sync.gcpause import gc_paused
from inventory_sync.ports import Unwatched, Watch, commit_snapshot, reads_from
from inventory_sync.steps.archive import archive_or_hold, counted_for
from inventory_sync.steps.waiting import no_new_file_hold

log = structlog.get_logger(__name__)
_LOGGED_REJECTS = 50  # per snapshot; the ledger keeps every one


@dataclass(slots=True)
class Gathered:
    """Healthy snapshots per warehouse, and why anything was left out."""

    snapshots: dict[Warehouse, list[Snapshot]] = field(default_factory=lambda: defaultdict(list))
    holds: list[Hold] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    files_waiting: dict[SourceName, int] = field(default_factory=dict)  # file sources' backlog


def gather(app: App, run_id: RunId, *, record: bool = True, watch: Watch | None = None) -> Gathered:
    """Pull each source once; a failing source never stops the others. ``watch`` hears each
    pull begin (with where it reads) and end."""
    gathered = Gathered()
    for configured in app.sources:
        snapshot = _watched_pull(app, configured, gathered, watch or Unwatched())
        if snapshot is not None:
            _admit(app, run_id, configured, snapshot, gathered, record=record)
    return gathered


def gather_one(
    app: App,
    run_id: RunId,
    configured: ConfiguredSource,
    gathered: Gathered,
    *,
    record: bool = True,
    snapshot: Snapshot | None = None,
) -> Snapshot | None:
    """Pull one source (or admit ``snapshot``, already pulled) into ``gathered``; the daemon's
    pull job. Returns the snapshot, or None when the source could not be read."""
    if snapshot is None:
        snapshot = _pull(app, configured, gathered)
    if snapshot is not None:
        _admit(app, run_id, configured, snapshot, gathered, record=record)
    return snapshot


def pull(configured: ConfiguredSource) -> Snapshot:
    """One pull of a source, with the cycle collector paused (a pull is a bulk step)."""
    with gc_paused():
        return configured.source.pull()


def _watched_pull(
    app: App, configured: ConfiguredSource, gathered: Gathered, watch: Watch
) -> Snapshot | None:
    watch.source_started(configured.name, reads_from(configured.source))
    try:
        return _pull(app, configured, gathered)
    finally:
        watch.source_finished(configured.name)


def _pull(app: App, configured: ConfiguredSource, gathered: Gathered) -> Snapshot | None:
    try:
        return pull(configured)
    except SourceError as exc:
        # An emptied archiving inbox that was read before waits for its next file.
        waiting = no_new_file_hold(app, configured, exc) if isinstance(exc, NoNewFile) else None
        if waiting is None:
            _hold(configured, exc, gathered)
        else:
            gathered.holds.append(waiting)
        return None


def _hold(configured: ConfiguredSource, exc: SourceError, gathered: Gathered) -> None:
    """Hold a source that could not be read (or archive what it read) for this run."""
    # A feed that is there but unusable (an encoding, a missing column) is not a source
    # that is down: waiting will not fix it, so it is named apart.
    unusable = isinstance(exc, FeedFormatError)
    event = "source.format_error" if unusable else "source.unavailable"
    log.error(event, source=configured.name, error=str(exc), origin=exc.origin)
    kind = "format error" if unusable else "unavailable"
    gathered.holds.append(Hold(f"source:{configured.name}", f"{kind}: {exc}"))


def _admit(
    app: App,
    run_id: RunId,
    configured: ConfiguredSource,
    snapshot: Snapshot,
    gathered: Gathered,
    *,
    record: bool,
) -> None:
    now = app.clock.now()
    holds = check_snapshot(
        snapshot, app.ledger.last_good_snapshot(configured.name), configured.gates, now=now
    )
    if record:
        app.ledger.record_snapshot(run_id, snapshot, at=now, healthy=not holds)
    _report_rejects(snapshot)
    gathered.rejected.extend(snapshot.rejected)
    waiting = {} if snapshot.files_waiting is None else {"files_waiting": snapshot.files_waiting}
    if snapshot.files_waiting is not None:
        gathered.files_waiting[configured.name] = snapshot.files_waiting
    log.info(
        "source.pulled",
        source=configured.name,
        snapshot_id=snapshot.snapshot_id,
        rows=snapshot.row_count,
        rejected=len(snapshot.rejected),
        completeness=snapshot.completeness.value,
        **waiting,
    )
    if holds:
        for hold in holds:
            log.error(
                "source.held", source=configured.name, reason=hold.reason, **dict(hold.details)
            )
        gathered.holds.extend(holds)
        return
    if snapshot.completeness is Completeness.PARTIAL:
        _admit_changes(app, configured, snapshot, gathered, record=record)
        return
    if record:
        try:
            commit_snapshot(configured.source, snapshot)  # e.g. move its file to the archive
        except SourceError as exc:
            # A store that lets us read but not archive (no right to rename or delete) holds
            # this source, as a failed read would; the file stays and the others go on.
            _hold(configured, exc, gathered)
            return
    for warehouse in configured.warehouses:
        gathered.snapshots[warehouse].append(_for_warehouse(snapshot, warehouse))


def _admit_changes(
    app: App,
    configured: ConfiguredSource,
    snapshot: Snapshot,
    gathered: Gathered,
    *,
    record: bool,
) -> None:
    """A change feed's snapshot goes to each warehouse that has not counted it yet; its file
    is archived only once all have (steps/archive.py), since recorded is not yet applied."""
    counted = counted_for(app, configured, snapshot)
    for warehouse in configured.warehouses:
        if warehouse in counted:
            # Read twice, a change file would count its changes twice; a full snapshot not.
            log.info(
                "source.already_counted",
                source=configured.name,
                snapshot_id=snapshot.snapshot_id,
                warehouse=warehouse,
            )
        else:
            gathered.snapshots[warehouse].append(_for_warehouse(snapshot, warehouse))
    if record and counted == set(configured.warehouses):
        # A copy put back, or an archive that failed before: it must go, or it stays the
        # oldest file and the newer ones are never read.
        hold = archive_or_hold(configured, snapshot)
        if hold is not None:
            gathered.holds.append(hold)


def _for_warehouse(snapshot: Snapshot, warehouse: Warehouse) -> Snapshot:
    if snapshot.warehouses == frozenset({warehouse}):
        return snapshot
    rows = {warehouse: snapshot.rows[warehouse]} if warehouse in snapshot.rows else {}
    return replace(snapshot, rows=rows, warehouses=frozenset({warehouse}))


def _report_rejects(snapshot: Snapshot) -> None:
    for rejected in snapshot.rejected[:_LOGGED_REJECTS]:
        log.warning(
            "source.row_rejected",
            source=rejected.source,
            origin=rejected.origin,
            line=rejected.line,
            field=rejected.field,
            value=rejected.value,
            reason=rejected.reason,
            sku=rejected.sku,
            warehouse=rejected.warehouse,
        )
    if len(snapshot.rejected) > _LOGGED_REJECTS:
        log.warning(
            "source.rows_rejected",
            source=snapshot.source,
            rejected=len(snapshot.rejected),
            logged=_LOGGED_REJECTS,
        )
