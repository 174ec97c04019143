"""MemoryLedger: the Ledger port in plain dicts and lists, for the service's unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypeVar

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
from inventory_sync.ledger.memory_locks import MemoryLeases
from inventory_sync.ledger.memory_replicas import MemoryReplicas
from inventory_sync.ledger.records import RecordedObservation, RecordedRejection
from inventory_sync.ledger.values import as_utc, excerpt
from inventory_sync.ports import Fence

T = TypeVar("T")

_UNSETTLED = {AdjustmentStatus.PLANNED, AdjustmentStatus.SENT, AdjustmentStatus.UNCERTAIN}


@dataclass(frozen=True, slots=True)
class _SnapshotEntry:
    stats: SnapshotStats
    run_id: RunId
    recorded_at: datetime
    healthy: bool


@dataclass(frozen=True, slots=True)
class _Seen:
    warehouse: Warehouse
    sku: Sku
    observation: RecordedObservation


@dataclass(frozen=True, slots=True)
class _Quarantined:
    run_id: RunId
    at: datetime
    rejected: Rejected


class MemoryLedger(MemoryReplicas):
    """Behaves as SqlLedger does (the shared contract test holds both to it), minus the disk."""

    def __init__(self) -> None:
        super().__init__()
        self._runs: dict[RunId, RunRecord] = {}
        self._snapshots: dict[tuple[SourceName, str], _SnapshotEntry] = {}
        self._uses: set[SnapshotUse] = set()
        self._observations: list[_Seen] = []
        self._rejected: list[_Quarantined] = []
        self._journal: dict[AdjustmentId, JournalEntry] = {}
        self._support: dict[AdjustmentId, str] = {}
        self._agreed: dict[tuple[Warehouse, Sku], tuple[int, datetime, RunId | None]] = {}
        self._absent: dict[Warehouse, AbsentCounts] = {}
        self._seen: dict[Warehouse, dict[Sku, int]] = {}
        self._movements: list[Movement] = []
        self._locks = MemoryLeases()

    def close(self) -> None:
        """Nothing to release; here so callers treat both ledgers alike."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # Runs

    def begin_run(self, run: RunRecord) -> None:
        if run.run_id in self._runs:
            raise LedgerError(f"run {run.run_id!r} is already in the ledger")
        finished = as_utc(run.finished_at) if run.finished_at else None
        self._runs[run.run_id] = replace(
            run, started_at=as_utc(run.started_at), finished_at=finished, summary=dict(run.summary)
        )

    def finish_run(
        self, run_id: RunId, *, status: RunStatus, summary: Mapping[str, SummaryValue], at: datetime
    ) -> None:
        run = self._run(run_id)
        self._runs[run_id] = replace(
            run, status=status, summary=dict(summary), finished_at=as_utc(at)
        )

    def get_run(self, run_id: RunId) -> RunRecord | None:
        return self._runs.get(run_id)

    def list_runs(self, limit: int = 20) -> list[RunRecord]:
        newest = sorted(self._runs.values(), key=lambda r: (r.started_at, r.run_id), reverse=True)
        return newest[:limit]

    def _run(self, run_id: RunId) -> RunRecord:
        if run_id not in self._runs:
            raise LedgerError(f"run {run_id!r} is not in the ledger")
        return self._runs[run_id]

    # Snapshots, observations, quarantine

    def record_snapshot(
        self, run_id: RunId, snapshot: Snapshot, *, at: datetime, healthy: bool
    ) -> int:
        self._run(run_id)
        key = (snapshot.source, snapshot.snapshot_id)
        if key in self._snapshots:
            return 0
        stats = replace(SnapshotStats.of(snapshot), taken_at=as_utc(snapshot.taken_at))
        self._snapshots[key] = _SnapshotEntry(stats, run_id, as_utc(at), healthy)
        for warehouse, rows in snapshot.rows.items():
            for sku, quantity in rows.items():
                seen = RecordedObservation(
                    snapshot.source, snapshot.snapshot_id, quantity, stats.taken_at, run_id
                )
                self._observations.append(_Seen(warehouse, sku, seen))
        return snapshot.row_count + self.record_rejected(run_id, snapshot.rejected, at=at)

    def last_good_snapshot(self, source: SourceName) -> SnapshotStats | None:
        good = [e for (s, _), e in self._snapshots.items() if s == source and e.healthy]
        if not good:
            return None
        return max(good, key=lambda e: (e.stats.taken_at, e.recorded_at)).stats

    def counted_snapshot_ids(self, source: SourceName, warehouse: Warehouse) -> set[str]:
        return {u.snapshot_id for u in self._uses if (u.source, u.warehouse) == (source, warehouse)}

    def record_rejected(self, run_id: RunId, rejected: Iterable[Rejected], *, at: datetime) -> int:
        at = as_utc(at)
        before = len(self._rejected)
        self._rejected.extend(_Quarantined(run_id, at, r) for r in rejected)
        return len(self._rejected) - before

    def rejected_for_run(self, run_id: RunId) -> list[Rejected]:
        return [q.rejected for q in self._rejected if q.run_id == run_id]

    def rejected_for(
        self, warehouse: Warehouse, sku: Sku, limit: int = 20
    ) -> list[RecordedRejection]:
        mine = [
            RecordedRejection(q.rejected, q.run_id, q.at)
            for q in self._rejected
            if q.rejected.sku == sku and q.rejected.warehouse in {warehouse, None}
        ]
        # Newest first; among equal times, the later-written first (as SQL orders by id).
        newest = sorted(enumerate(mine), key=lambda pair: (pair[1].at, pair[0]))
        return [r for _, r in reversed(newest)][:limit]

    def observations_for(
        self, warehouse: Warehouse, sku: Sku, limit: int = 20
    ) -> list[RecordedObservation]:
        mine = [
            s.observation for s in self._observations if (s.warehouse, s.sku) == (warehouse, sku)
        ]
        # Newest first; among equal times, the later-written first (as SQL orders by id).
        newest = sorted(enumerate(mine), key=lambda pair: (pair[1].observed_at, pair[0]))
        return [o for _, o in reversed(newest)][:limit]

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
        if adjustments:
            self._run(run_id)  # as the adjustments' foreign key does; uses have none
        if adjustments or uses:
            self.check_fence(fence, at)
        self._uses.update(uses)  # a set: a use recorded again is the same use
        for a in adjustments:
            if a.adjustment_id not in self._journal:
                entry = JournalEntry(
                    run_id, replace(a, basis=dict(a.basis)), AdjustmentStatus.PLANNED, at
                )
                self._journal[a.adjustment_id] = entry

    def mark_sent(
        self,
        adjustment_id: AdjustmentId,
        *,
        request: str,
        at: datetime,
        fence: Fence | None = None,
    ) -> None:
        entry = self._entry(adjustment_id)
        self.check_fence(fence, at)
        self._journal[adjustment_id] = replace(
            entry,
            status=AdjustmentStatus.SENT,
            sent_at=as_utc(at),
            request=excerpt(request),
            attempts=entry.attempts + 1,
        )

    def mark_outcome(self, adjustment_id: AdjustmentId, outcome: Outcome) -> None:
        self._journal[adjustment_id] = replace(
            self._entry(adjustment_id),
            status=outcome.status,
            settled_at=as_utc(outcome.at) if outcome.status.is_final else None,
            request_id=outcome.request_id,
            response=excerpt(outcome.response),
            error=excerpt(outcome.error),
        )

    def record_support(self, adjustment_id: AdjustmentId, record_json: str) -> None:
        self._entry(adjustment_id)
        self._support[adjustment_id] = record_json

    def support_record(self, adjustment_id: AdjustmentId) -> str | None:
        return self._support.get(adjustment_id)

    def _entry(self, adjustment_id: AdjustmentId) -> JournalEntry:
        if adjustment_id not in self._journal:
            raise LedgerError(f"adjustment {adjustment_id!r} is not in the ledger")
        return self._journal[adjustment_id]

    def journal(
        self,
        *,
        run_id: RunId | None = None,
        sku: Sku | None = None,
        status: AdjustmentStatus | None = None,
    ) -> list[JournalEntry]:
        return _ordered(
            e
            for e in self._journal.values()
            if (run_id is None or e.run_id == run_id)
            and (sku is None or e.adjustment.sku == sku)
            and (status is None or e.status is status)
        )

    def unsettled(self) -> list[JournalEntry]:
        return _ordered(e for e in self._journal.values() if e.status in _UNSETTLED)

    # Agreed levels

    def agreed_levels(self, warehouse: Warehouse) -> dict[Sku, int]:
        return {sku: q for (w, sku), (q, _, _) in self._agreed.items() if w == warehouse}

    def record_agreed(
        self,
        warehouse: Warehouse,
        levels: Mapping[Sku, int],
        *,
        at: datetime,
        run_id: RunId | None = None,
    ) -> None:
        at = as_utc(at)
        for sku, quantity in levels.items():
            self._agreed[warehouse, sku] = (quantity, at, run_id)

    def absent_counts(self, warehouse: Warehouse) -> AbsentCounts:
        return self._absent.get(warehouse, AbsentCounts({}, None))

    def replace_absent_counts(
        self, warehouse: Warehouse, counts: Mapping[Sku, int], *, basis: str
    ) -> None:
        self._absent[warehouse] = AbsentCounts({s: n for s, n in counts.items() if n > 0}, basis)

    def seen_levels(self, warehouse: Warehouse) -> dict[Sku, int]:
        return dict(self._seen.get(warehouse, {}))

    def record_seen_levels(
        self, warehouse: Warehouse, levels: Mapping[Sku, int], *, at: datetime, run_id: RunId
    ) -> None:
        as_utc(at)  # the same refusal of naive times as the SQL ledger
        self._seen.setdefault(warehouse, {}).update(levels)
        del run_id

    def record_movements(self, movements: Sequence[Movement]) -> None:
        self._movements.extend(movements)

    def movements_for(self, warehouse: Warehouse, sku: Sku, limit: int = 20) -> list[Movement]:
        found = [m for m in self._movements if m.warehouse == warehouse and m.sku == sku]
        return sorted(found, key=lambda m: m.observed_at, reverse=True)[:limit]

    # Locks and retention

    def acquire_lock(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        return self._locks.acquire(name, holder, ttl, now)

    def refresh_lock(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        return self._locks.refresh(name, holder, ttl, now)

    def release_lock(self, name: str, holder: str) -> bool:
        return self._locks.release(name, holder)

    def lock_holder(self, name: str, now: datetime) -> str | None:
        return self._locks.holder(name, now)

    def prune(self, older_than: datetime) -> dict[str, int]:
        cut = as_utc(older_than)
        counts = {
            "observations": _drop(self._observations, lambda s: s.observation.observed_at < cut),
            "rejected_rows": _drop(self._rejected, lambda q: q.at < cut),
            "adjustments": self._prune_journal(cut),
            "snapshots": self._prune_snapshots(cut),
            "movements": _drop(self._movements, lambda m: m.observed_at < cut),
        }
        counts["runs"] = self._prune_runs(cut)
        return counts

    def _prune_journal(self, cut: datetime) -> int:
        old = [i for i, e in self._journal.items() if e.status.is_final and e.planned_at < cut]
        for adjustment_id in old:
            del self._journal[adjustment_id]
            self._support.pop(adjustment_id, None)
        return len(old)

    def _prune_snapshots(self, cut: datetime) -> int:
        # Each source's newest healthy snapshot survives: the next run's guards compare to it.
        newest: dict[SourceName, datetime] = {}
        for (source, _), e in self._snapshots.items():
            if e.healthy and (source not in newest or e.stats.taken_at > newest[source]):
                newest[source] = e.stats.taken_at
        old = [
            key
            for key, e in self._snapshots.items()
            if e.recorded_at < cut and not (e.healthy and newest.get(key[0]) == e.stats.taken_at)
        ]
        for key in old:
            del self._snapshots[key]
        return len(old)

    def _prune_runs(self, cut: datetime) -> int:
        referenced = {e.run_id for e in self._journal.values()}
        referenced |= {e.run_id for e in self._snapshots.values()}
        old = [
            r.run_id
            for r in self._runs.values()
            if r.started_at < cut and r.status != RunStatus.RUNNING and r.run_id not in referenced
        ]
        for run_id in old:
            del self._runs[run_id]
        return len(old)


def _ordered(entries: Iterable[JournalEntry]) -> list[JournalEntry]:
    return sorted(entries, key=lambda e: (e.planned_at, e.adjustment.adjustment_id))


def _drop(items: list[T], old: Callable[[T], bool]) -> int:
    before = len(items)
    items[:] = [item for item in items if not old(item)]
    return before - len(items)


if TYPE_CHECKING:  # mypy holds the class to the port; nothing runs
    from inventory_sync.ports import Ledger

    def _conforms(ledger: MemoryLedger) -> Ledger:
        return ledger
