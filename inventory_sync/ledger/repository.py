"""SqlLedger: the Ledger port on SQLite or PostgreSQL, through SQLAlchemy Core."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import Connection, Engine, Select, delete, insert, or_, select, update

from inventory_sync.domain.model import (
    AbsentCounts,
    Adjustment,
    AdjustmentId,
    AdjustmentStatus,
    JournalEntry,
    Movement,
    Outcome,
    Rejected,
    RunId,
    RunRecord,
    RunStatus,
    Sku,
    Snapshot,
    SnapshotStats,
    SnapshotUse,
    SourceName,
    SummaryValue,
    Warehouse,
)
from inventory_sync.errors import LedgerError
from inventory_sync.ledger import bulk, leases, locks, retention, rows
from inventory_sync.ledger.engine import create_ledger_engine
from inventory_sync.ledger.migrate import upgrade_engine
from inventory_sync.ledger.records import RecordedObservation, RecordedRejection
from inventory_sync.ledger.sql_leases import SqlLeases
from inventory_sync.ledger.tables import (
    ABSENT,
    ADJUSTMENTS,
    AGREED,
    MOVEMENTS,
    OBSERVATIONS,
    REJECTED,
    RUNS,
    SEEN,
    SNAPSHOT_USES,
    SNAPSHOTS,
)
from inventory_sync.ledger.transactions import Transactions
from inventory_sync.ledger.values import as_utc, excerpt
from inventory_sync.ports import Fence

UNSETTLED = [
    s.value for s in (AdjustmentStatus.PLANNED, AdjustmentStatus.SENT, AdjustmentStatus.UNCERTAIN)
]


ANY_WAREHOUSE = "*"  # snapshot_uses: counted for every warehouse (carried over by 0007)
_ALL_SOURCES = "*"  # counts are kept per warehouse; the column leaves room for per-source ones


def open_ledger(url: str, *, migrate: bool = True) -> SqlLedger:
    """Open the ledger at `url` (or a bare SQLite path), bringing its schema up to date."""
    engine = create_ledger_engine(url)
    if migrate:
        try:
            upgrade_engine(engine)
        except LedgerError:
            engine.dispose()
            raise
    return SqlLedger(engine)


class SqlLedger(SqlLeases):
    """The Ledger port backed by SQL; every method is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self._tx = Transactions(engine)

    def close(self) -> None:
        self._tx.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # Runs

    def begin_run(self, run: RunRecord) -> None:
        with self._tx.write() as conn:
            conn.execute(RUNS.insert().values(rows.run_values(run)))

    def finish_run(
        self, run_id: RunId, *, status: RunStatus, summary: Mapping[str, SummaryValue], at: datetime
    ) -> None:
        values = {"status": status.value, "summary": dict(summary), "finished_at": as_utc(at)}
        with self._tx.write() as conn:
            result = conn.execute(update(RUNS).where(RUNS.c.run_id == run_id).values(values))
            _require_one(result.rowcount, f"run {run_id!r}")

    def get_run(self, run_id: RunId) -> RunRecord | None:
        found = self._tx.fetch(select(RUNS).where(RUNS.c.run_id == run_id))
        return rows.run_from(found[0]) if found else None

    def list_runs(self, limit: int = 20) -> list[RunRecord]:
        query = select(RUNS).order_by(RUNS.c.started_at.desc(), RUNS.c.run_id.desc()).limit(limit)
        return [rows.run_from(r) for r in self._tx.fetch(query)]

    # Snapshots, observations, quarantine

    def record_snapshot(
        self, run_id: RunId, snapshot: Snapshot, *, at: datetime, healthy: bool
    ) -> int:
        """Write the snapshot, its observations and rejected rows; return rows written.

        A snapshot id already recorded for its source writes nothing and returns 0, so the
        same content is never counted twice."""
        stats = SnapshotStats.of(snapshot)
        with self._tx.write() as conn:
            if _snapshot_recorded(conn, snapshot.source, snapshot.snapshot_id):
                return 0
            conn.execute(
                SNAPSHOTS.insert().values(
                    rows.snapshot_values(run_id, snapshot, stats, at=at, healthy=healthy)
                )
            )
            written = bulk.insert_observations(
                conn, run_id, snapshot, observed_at=snapshot.taken_at
            )
            at = as_utc(at)
            quarantined = (rows.rejected_values(run_id, r, at=at) for r in snapshot.rejected)
            return written + bulk.insert_rows(conn, REJECTED, quarantined)

    def last_good_snapshot(self, source: SourceName) -> SnapshotStats | None:
        query = (
            select(SNAPSHOTS)
            .where(SNAPSHOTS.c.source == source, SNAPSHOTS.c.healthy.is_(True))
            .order_by(SNAPSHOTS.c.taken_at.desc(), SNAPSHOTS.c.recorded_at.desc())
            .limit(1)
        )
        found = self._tx.fetch(query)
        return rows.stats_from(found[0]) if found else None

    def counted_snapshot_ids(self, source: SourceName, warehouse: Warehouse) -> set[str]:
        # "*": a use carried over from before revision 0007, counted for every warehouse.
        query = select(SNAPSHOT_USES.c.snapshot_id).where(
            SNAPSHOT_USES.c.source == source,
            SNAPSHOT_USES.c.warehouse.in_([warehouse, ANY_WAREHOUSE]),
        )
        return {row.snapshot_id for row in self._tx.fetch(query)}

    def record_rejected(self, run_id: RunId, rejected: Iterable[Rejected], *, at: datetime) -> int:
        at = as_utc(at)
        with self._tx.write() as conn:
            return bulk.insert_rows(
                conn, REJECTED, (rows.rejected_values(run_id, r, at=at) for r in rejected)
            )

    def rejected_for_run(self, run_id: RunId) -> list[Rejected]:
        query = select(REJECTED).where(REJECTED.c.run_id == run_id).order_by(REJECTED.c.id)
        return [rows.rejected_from(r) for r in self._tx.fetch(query)]

    def rejected_for(
        self, warehouse: Warehouse, sku: Sku, limit: int = 20
    ) -> list[RecordedRejection]:
        """The newest rejected rows naming this SKU here or in no warehouse, newest first."""
        here = or_(REJECTED.c.warehouse == warehouse, REJECTED.c.warehouse.is_(None))
        query = (
            select(REJECTED)
            .where(REJECTED.c.sku == sku, here)
            .order_by(REJECTED.c.at.desc(), REJECTED.c.id.desc())
            .limit(limit)
        )
        return [rows.rejection_from(r) for r in self._tx.fetch(query)]

    def observations_for(
        self, warehouse: Warehouse, sku: Sku, limit: int = 20
    ) -> list[RecordedObservation]:
        """The newest observations of one SKU in one warehouse, newest first."""
        query = (
            select(OBSERVATIONS)
            .where(OBSERVATIONS.c.warehouse == warehouse, OBSERVATIONS.c.sku == sku)
            .order_by(OBSERVATIONS.c.observed_at.desc(), OBSERVATIONS.c.id.desc())
            .limit(limit)
        )
        return [rows.observation_from(r) for r in self._tx.fetch(query)]

    # Adjustments

    def record_planned(
        self,
        run_id: RunId,
        adjustments: Sequence[Adjustment],
        *,
        at: datetime,
        fence: Fence | None = None,
        uses: Sequence[SnapshotUse] = (),
    ) -> None:
        at = as_utc(at)
        values = [rows.adjustment_values(run_id, a, at=at) for a in adjustments]
        counted = [rows.use_values(run_id, u, at=at) for u in uses]
        if values or counted:
            with self._tx.write() as conn:
                if fence is not None:
                    leases.check(conn, fence, at)
                bulk.insert_ignoring(conn, ADJUSTMENTS, values)
                # The same transaction: a plan recorded is a change file counted, never one
                # without the other, whatever stops the run between.
                bulk.insert_ignoring(conn, SNAPSHOT_USES, counted)

    def mark_sent(
        self,
        adjustment_id: AdjustmentId,
        *,
        request: str,
        at: datetime,
        fence: Fence | None = None,
    ) -> None:
        self._update_adjustment(
            adjustment_id,
            fence=fence,
            at=as_utc(at),
            status=AdjustmentStatus.SENT.value,
            sent_at=as_utc(at),
            request=excerpt(request),
            attempts=ADJUSTMENTS.c.attempts + 1,
        )

    def mark_outcome(self, adjustment_id: AdjustmentId, outcome: Outcome) -> None:
        """Record what happened; settled_at is set only when the status is final."""
        self._update_adjustment(
            adjustment_id,
            status=outcome.status.value,
            settled_at=as_utc(outcome.at) if outcome.status.is_final else None,
            request_id=outcome.request_id,
            response=excerpt(outcome.response),
            error=excerpt(outcome.error),
        )

    def record_support(self, adjustment_id: AdjustmentId, record_json: str) -> None:
        """Keep the support record (a SupportRecord as JSON) of a failed call."""
        self._update_adjustment(adjustment_id, support=record_json)

    def support_record(self, adjustment_id: AdjustmentId) -> str | None:
        query = select(ADJUSTMENTS.c.support).where(ADJUSTMENTS.c.adjustment_id == adjustment_id)
        found = self._tx.fetch(query)
        return found[0].support if found else None

    def _update_adjustment(
        self,
        adjustment_id: AdjustmentId,
        *,
        fence: Fence | None = None,
        at: datetime | None = None,
        **values: object,
    ) -> None:
        where = ADJUSTMENTS.c.adjustment_id == adjustment_id
        with self._tx.write() as conn:
            if fence is not None and at is not None:
                leases.check(conn, fence, at)
            result = conn.execute(update(ADJUSTMENTS).where(where).values(values))
            _require_one(result.rowcount, f"adjustment {adjustment_id!r}")

    def journal(
        self,
        *,
        run_id: RunId | None = None,
        sku: Sku | None = None,
        status: AdjustmentStatus | None = None,
    ) -> list[JournalEntry]:
        query = select(ADJUSTMENTS)
        if status is not None:
            query = query.where(ADJUSTMENTS.c.status == status.value)
        if run_id is not None:
            query = query.where(ADJUSTMENTS.c.run_id == run_id)
        if sku is not None:
            query = query.where(ADJUSTMENTS.c.sku == sku)
        return self._entries(query)

    def unsettled(self) -> list[JournalEntry]:
        return self._entries(select(ADJUSTMENTS).where(ADJUSTMENTS.c.status.in_(UNSETTLED)))

    def _entries(self, query: Select[Any]) -> list[JournalEntry]:
        ordered = query.order_by(ADJUSTMENTS.c.planned_at, ADJUSTMENTS.c.adjustment_id)
        return [rows.journal_entry_from(r) for r in self._tx.fetch(ordered)]

    # Agreed levels

    def agreed_levels(self, warehouse: Warehouse) -> dict[Sku, int]:
        query = select(AGREED.c.sku, AGREED.c.quantity).where(AGREED.c.warehouse == warehouse)
        return {Sku(r.sku): r.quantity for r in self._tx.fetch(query)}

    def record_agreed(
        self,
        warehouse: Warehouse,
        levels: Mapping[Sku, int],
        *,
        at: datetime,
        run_id: RunId | None = None,
    ) -> None:
        at = as_utc(at)
        values = [
            {"warehouse": warehouse, "sku": sku, "quantity": q, "agreed_at": at, "run_id": run_id}
            for sku, q in levels.items()
        ]
        if values:
            with self._tx.write() as conn:
                bulk.upsert(conn, AGREED, values)

    # Absent counts: complete snapshots in a row that did not list a SKU ShipStation holds

    def absent_counts(self, warehouse: Warehouse) -> AbsentCounts:
        query = select(ABSENT).where(ABSENT.c.warehouse == warehouse)
        found = self._tx.fetch(query)
        # The row with the empty SKU (no real SKU is empty) names the snapshots counted last.
        basis = next((r.source for r in found if r.sku == ""), None)
        counts = {Sku(r.sku): r.consecutive_missing for r in found if r.sku != ""}
        return AbsentCounts(counts, basis)

    def replace_absent_counts(
        self, warehouse: Warehouse, counts: Mapping[Sku, int], *, basis: str
    ) -> None:
        rows = [
            {"warehouse": warehouse, "sku": sku, "source": _ALL_SOURCES, "consecutive_missing": n}
            for sku, n in counts.items()
            if n > 0
        ]
        rows.append({"warehouse": warehouse, "sku": "", "source": basis, "consecutive_missing": 0})
        with self._tx.write() as conn:
            conn.execute(delete(ABSENT).where(ABSENT.c.warehouse == warehouse))
            if rows:
                conn.execute(insert(ABSENT), rows)

    # What ShipStation held when last seen, and what changed there without us

    def seen_levels(self, warehouse: Warehouse) -> dict[Sku, int]:
        query = select(SEEN.c.sku, SEEN.c.on_hand).where(SEEN.c.warehouse == warehouse)
        return {Sku(r.sku): r.on_hand for r in self._tx.fetch(query)}

    def record_seen_levels(
        self, warehouse: Warehouse, levels: Mapping[Sku, int], *, at: datetime, run_id: RunId
    ) -> None:
        at = as_utc(at)
        values = [
            {"warehouse": warehouse, "sku": sku, "on_hand": q, "seen_at": at, "run_id": run_id}
            for sku, q in levels.items()
        ]
        if values:
            with self._tx.write() as conn:
                bulk.upsert(conn, SEEN, values)

    def record_movements(self, movements: Sequence[Movement]) -> None:
        values = [
            {"run_id": m.run_id, "warehouse": m.warehouse, "sku": m.sku, "before": m.before,
             "after": m.after, "observed_at": as_utc(m.observed_at)}
            for m in movements
        ]  # fmt: skip
        if values:
            with self._tx.write() as conn:
                conn.execute(insert(MOVEMENTS), values)

    def movements_for(self, warehouse: Warehouse, sku: Sku, limit: int = 20) -> list[Movement]:
        query = (
            select(MOVEMENTS)
            .where(MOVEMENTS.c.warehouse == warehouse, MOVEMENTS.c.sku == sku)
            .order_by(MOVEMENTS.c.observed_at.desc(), MOVEMENTS.c.id.desc())
            .limit(limit)
        )
        return [
            Movement(
                Warehouse(r.warehouse),
                Sku(r.sku),
                r.before,
                r.after,
                r.observed_at,
                RunId(r.run_id),
            )
            for r in self._tx.fetch(query)
        ]

    # Locks and retention

    def acquire_lock(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        """Take the named lock unless another holder's lease is still running."""
        with self._tx.write() as conn:
            return locks.acquire(conn, name, holder, ttl, as_utc(now))

    def refresh_lock(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        """Extend our unexpired lease by `ttl` from `now`; False when it is no longer ours."""
        with self._tx.write() as conn:
            return locks.refresh(conn, name, holder, ttl, as_utc(now))

    def release_lock(self, name: str, holder: str) -> bool:
        with self._tx.write() as conn:
            return locks.release(conn, name, holder)

    def lock_holder(self, name: str, now: datetime) -> str | None:
        """Who holds an unexpired lease on the lock, if anyone (for LockHeld messages)."""
        with self._tx.read() as conn:
            return locks.holder_of(conn, name, as_utc(now))

    def prune(self, older_than: datetime) -> dict[str, int]:
        with self._tx.write() as conn:
            return retention.prune(conn, as_utc(older_than))


def _snapshot_recorded(conn: Connection, source: SourceName, snapshot_id: str) -> bool:
    key = (SNAPSHOTS.c.source == source, SNAPSHOTS.c.snapshot_id == snapshot_id)
    return conn.execute(select(SNAPSHOTS.c.rows).where(*key)).first() is not None


def _require_one(rowcount: int, what: str) -> None:
    if rowcount != 1:
        raise LedgerError(f"{what} is not in the ledger")


if TYPE_CHECKING:  # mypy holds the class to the port; nothing runs
    from inventory_sync.ports import Leases, Ledger

    def _conforms(ledger: SqlLedger) -> Ledger:
        return ledger

    def _has_leases(ledger: SqlLedger) -> Leases:
        return ledger
