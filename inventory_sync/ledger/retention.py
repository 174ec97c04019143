"""Retention: forget old history, never what is still in flight or what was agreed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, delete, exists, func, select, tuple_

from inventory_sync.domain.model import AdjustmentStatus, RunStatus
from inventory_sync.ledger.tables import (
    ADJUSTMENTS,
    MOVEMENTS,
    OBSERVATIONS,
    REJECTED,
    RUNS,
    SNAPSHOTS,
)

FINAL = [s.value for s in AdjustmentStatus if s.is_final]


def prune(conn: Connection, older_than: datetime) -> dict[str, int]:
    """Delete history older than the cut-off; return rows deleted per table.

    Kept whatever its age: unsettled adjustments, each source's last good snapshot (the next
    run's guards compare against it), runs still referenced, agreed levels, locks."""
    counts = {
        "observations": _count(
            conn, delete(OBSERVATIONS).where(OBSERVATIONS.c.observed_at < older_than)
        ),
        "rejected_rows": _count(conn, delete(REJECTED).where(REJECTED.c.at < older_than)),
        "adjustments": _count(
            conn,
            delete(ADJUSTMENTS).where(
                ADJUSTMENTS.c.status.in_(FINAL), ADJUSTMENTS.c.planned_at < older_than
            ),
        ),
        "snapshots": _prune_snapshots(conn, older_than),
        "movements": _count(conn, delete(MOVEMENTS).where(MOVEMENTS.c.observed_at < older_than)),
    }
    counts["runs"] = _prune_runs(conn, older_than)
    return counts


def _count(conn: Connection, statement: object) -> int:
    return int(conn.execute(statement).rowcount)  # type: ignore[call-overload]


def _prune_snapshots(conn: Connection, older_than: datetime) -> int:
    newest = (
        select(SNAPSHOTS.c.source, func.max(SNAPSHOTS.c.taken_at).label("taken_at"))
        .where(SNAPSHOTS.c.healthy.is_(True))
        .group_by(SNAPSHOTS.c.source)
        .subquery()
    )
    keep = select(SNAPSHOTS.c.source, SNAPSHOTS.c.snapshot_id).join(
        newest,
        and_(SNAPSHOTS.c.source == newest.c.source, SNAPSHOTS.c.taken_at == newest.c.taken_at),
    )
    kept = {(r.source, r.snapshot_id) for r in conn.execute(keep)}
    statement = delete(SNAPSHOTS).where(SNAPSHOTS.c.recorded_at < older_than)
    if kept:
        statement = statement.where(
            tuple_(SNAPSHOTS.c.source, SNAPSHOTS.c.snapshot_id).not_in(list(kept))
        )
    return _count(conn, statement)


def _prune_runs(conn: Connection, older_than: datetime) -> int:
    referenced = exists().where(ADJUSTMENTS.c.run_id == RUNS.c.run_id)
    has_snapshot = exists().where(SNAPSHOTS.c.run_id == RUNS.c.run_id)
    statement = delete(RUNS).where(
        RUNS.c.started_at < older_than,
        RUNS.c.status != RunStatus.RUNNING.value,
        ~referenced,
        ~has_snapshot,
    )
    return _count(conn, statement)
