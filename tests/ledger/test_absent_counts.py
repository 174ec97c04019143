"""Absent counts survive between runs, on every ledger, with the snapshots they counted."""

from __future__ import annotations

import pytest

from inventory_sync.domain.model import Sku, Warehouse
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.ledger.repository import open_ledger


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def ledger(request, tmp_path):
    if request.param == "memory":
        yield MemoryLedger()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("scratch_postgres_url")
    sql = open_ledger(url)
    try:
        yield sql
    finally:
        sql.close()


class TestAbsentCounts:
    def test_nothing_stored_reads_as_no_counts_and_no_basis(self, ledger):
        stored = ledger.absent_counts(Warehouse("east"))
        assert (dict(stored.counts), stored.basis) == ({}, None)

    def test_counts_and_basis_round_trip_and_replace_the_old_ones(self, ledger):
        east = Warehouse("east")
        ledger.replace_absent_counts(east, {Sku("A"): 1, Sku("B"): 2}, basis="snap-1")
        ledger.replace_absent_counts(east, {Sku("B"): 3, Sku("C"): 0}, basis="snap-2")
        stored = ledger.absent_counts(east)
        assert dict(stored.counts) == {"B": 3}
        assert stored.basis == "snap-2"

    def test_warehouses_keep_their_own_counts(self, ledger):
        ledger.replace_absent_counts(Warehouse("east"), {Sku("A"): 1}, basis="e")
        ledger.replace_absent_counts(Warehouse("west"), {Sku("A"): 2}, basis="w")
        assert dict(ledger.absent_counts(Warehouse("east")).counts) == {"A": 1}
        assert ledger.absent_counts(Warehouse("west")).basis == "w"
