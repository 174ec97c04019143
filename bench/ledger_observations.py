"""Benchmark: observations written through SqlLedger.record_snapshot versus raw sqlite3."""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from inventory_sync.domain.model import (
    Completeness,
    Observation,
    QuantityBasis,
    RunId,
    RunRecord,
    Sku,
    Snapshot,
    SourceName,
    Warehouse,
    rows_by_warehouse,
)
from inventory_sync.ledger.engine import BUSY_TIMEOUT_MS
from inventory_sync.ledger.repository import open_ledger
from inventory_sync.ledger.tables import OBSERVATIONS

TAKEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COLUMNS = "run_id, source, snapshot_id, completeness, observed_at, warehouse, sku, quantity"


def make_snapshot(rows: int) -> Snapshot:
    warehouses = [Warehouse(f"wh-{i}") for i in range(10)]
    observations = tuple(
        Observation(warehouses[i % 10], Sku(f"SKU-{i // 10:07d}"), i % 97) for i in range(rows)
    )
    return Snapshot(
        source=SourceName("erp"),
        snapshot_id="bench",
        taken_at=TAKEN,
        completeness=Completeness.COMPLETE,
        basis=QuantityBasis.ON_HAND,
        warehouses=frozenset(warehouses),
        rows=rows_by_warehouse(observations),
    )


def time_ledger(path: Path, snapshot: Snapshot) -> float:
    ledger = open_ledger(str(path))  # migration happens here, outside the timing
    ledger.begin_run(RunRecord(RunId("bench"), TAKEN, "bench"))
    start = time.perf_counter()
    written = ledger.record_snapshot(RunId("bench"), snapshot, at=TAKEN, healthy=True)
    elapsed = time.perf_counter() - start
    ledger.close()
    assert written == snapshot.row_count
    return elapsed


def time_raw(path: Path, snapshot: Snapshot, rows: list[Observation]) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", f"busy_timeout={BUSY_TIMEOUT_MS}"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("PRAGMA foreign_keys=ON")
    dialect = sqlite.dialect()
    conn.execute(str(CreateTable(OBSERVATIONS).compile(dialect=dialect)))
    for index in OBSERVATIONS.indexes:
        conn.execute(str(CreateIndex(index).compile(dialect=dialect)))
    at = TAKEN.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    head = ("bench", snapshot.source, snapshot.snapshot_id, snapshot.completeness.value, at)
    sql = f"INSERT INTO observations ({COLUMNS}) VALUES ({', '.join('?' * 8)})"  # noqa: S608  (fixed names)
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(sql, ((*head, o.warehouse, o.sku, o.quantity) for o in rows))
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="alternate runs; report the best")
    args = parser.parse_args()
    snapshot = make_snapshot(args.rows)
    rows = list(snapshot.observations)  # raw sqlite3 gets the rows ready-made, outside the clock
    raws, ledgers = [], []
    for attempt in range(args.repeat):
        # A fresh directory each time: both sides always start from an empty file.
        with tempfile.TemporaryDirectory(prefix="ledger-bench-") as scratch:
            raws.append(time_raw(Path(scratch) / f"raw{attempt}.db", snapshot, rows))
            ledgers.append(time_ledger(Path(scratch) / f"ledger{attempt}.db", snapshot))
    raw, ledger = min(raws), min(ledgers)
    print(f"rows:           {args.rows:,}  (best of {args.repeat})")
    print(f"raw sqlite3:    {raw:8.2f} s  ({args.rows / raw:,.0f} rows/s)")
    print(f"SqlLedger:      {ledger:8.2f} s  ({args.rows / ledger:,.0f} rows/s)")
    print(f"ratio:          {ledger / raw:8.2f}x  (target <= 2x)")


if __name__ == "__main__":
    main()
