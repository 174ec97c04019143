"""Archive change files once counted: a partial snapshot leaves its inbox only when every
warehouse of its source has applied it (the ledger's snapshot uses say which have). One that
cannot be archived holds its source: the newer change files wait behind it."""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from inventory_sync.app import App, ConfiguredSource
from inventory_sync.domain.model import Hold, Snapshot, Warehouse
from inventory_sync.errors import SourceError
from inventory_sync.ports import commit_snapshot

log = structlog.get_logger(__name__)


def counted_for(app: App, configured: ConfiguredSource, snapshot: Snapshot) -> set[Warehouse]:
    """The warehouses of the source that already counted this partial snapshot."""
    return {
        w
        for w in configured.warehouses
        if snapshot.snapshot_id in app.ledger.counted_snapshot_ids(configured.name, w)
    }


def archive_counted(app: App, snapshots: Iterable[Snapshot]) -> tuple[Hold, ...]:
    """Archive each partial snapshot that every warehouse of its source has now counted.

    Called after the plan (and the uses with it) is recorded. A failed archive undoes nothing:
    the changes were applied, and the uses keep a second read from counting them again. But
    the file stays the oldest in its inbox, and the newer ones wait behind it: the source is
    held (the Holds returned) so the run says so."""
    sources = {s.name: s for s in app.sources}
    done: set[tuple[str, str]] = set()
    holds: list[Hold] = []
    for snapshot in snapshots:
        configured = sources.get(snapshot.source)
        key = (snapshot.source, snapshot.snapshot_id)
        if configured is None or key in done:
            continue
        done.add(key)
        if counted_for(app, configured, snapshot) == set(configured.warehouses):
            hold = archive_or_hold(configured, snapshot)
            holds.extend([hold] if hold is not None else [])
    return tuple(holds)


def archive_or_hold(configured: ConfiguredSource, snapshot: Snapshot) -> Hold | None:
    """Archive a counted change file; a failure is logged (source.archive_failed, then
    source.held) and returned as a Hold on the source, not raised."""
    try:
        commit_snapshot(configured.source, snapshot)  # e.g. move its file to the archive
    except SourceError as exc:
        # The message names the store and the archive folder (never a password), and the
        # file stays in its inbox: the next read of it is counted nowhere and archived again.
        log.error(
            "source.archive_failed",
            source=configured.name,
            snapshot_id=snapshot.snapshot_id,
            error=str(exc),
            origin=exc.origin,
        )
        reason = (
            f"could not archive {snapshot.origin or 'a counted change file'} ({exc}); its changes"
            " are applied, newer change files wait until it is archived"
        )
        log.error("source.held", source=configured.name, reason=reason)
        return Hold(f"source:{configured.name}", reason)
    return None
