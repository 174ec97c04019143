"""The SQL ledger's bulk paths: chunk boundaries, and the fast path storing what Core stores."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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
from inventory_sync.ledger.bulk import CHUNK, chunked
from inventory_sync.ledger.engine import create_ledger_engine

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def big_snapshot(rows: int) -> Snapshot:
    return Snapshot(
        source=SourceName("erp"),
        snapshot_id="big",
        taken_at=T0,
        completeness=Completeness.PARTIAL,
        basis=QuantityBasis.AVAILABLE,
        warehouses=frozenset({Warehouse("east")}),
        rows=rows_by_warehouse(
            Observation(Warehouse("east"), Sku(f"S{i}"), i % 7) for i in range(rows)
        ),
    )


class TestChunked:
    def test_chunks_cover_every_item_in_order(self):
        assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]

    def test_nothing_yields_no_chunks(self):
        assert list(chunked([], 3)) == []


@pytest.mark.slow
def test_a_snapshot_larger_than_a_chunk_is_written_whole(sql_backend):
    ledger = sql_backend.ledger()
    ledger.begin_run(RunRecord(RunId("r1"), T0, "cli"))
    rows = CHUNK + 3
    assert ledger.record_snapshot(RunId("r1"), big_snapshot(rows), at=T0, healthy=True) == rows
    stats = ledger.last_good_snapshot(SourceName("erp"))
    assert (stats.rows, stats.units) == (rows, sum(i % 7 for i in range(rows)))
    (last,) = ledger.observations_for(Warehouse("east"), Sku(f"S{rows - 1}"))
    assert (last.quantity, last.observed_at) == ((rows - 1) % 7, T0)


def test_the_fast_path_stores_times_exactly_as_core_does(sql_backend):
    ledger = sql_backend.ledger()
    ledger.begin_run(RunRecord(RunId("r1"), T0, "cli"))
    ledger.record_snapshot(RunId("r1"), big_snapshot(2), at=T0, healthy=True)
    engine = create_ledger_engine(sql_backend.url)
    with engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT DISTINCT CAST(o.observed_at AS TEXT), CAST(s.taken_at AS TEXT)"
            " FROM observations o JOIN snapshots s ON s.snapshot_id = o.snapshot_id"
        ).all()
    engine.dispose()
    assert len(stored) == 1
    assert stored[0][0] == stored[0][1]
