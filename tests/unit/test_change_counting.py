"""When a change (partial) snapshot counts for a warehouse, with every port in memory: only
with a plan that was recorded from it, and its source hears `commit` only once all counted."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from inventory_sync import bootstrap, service
from inventory_sync.app import ConfiguredSource
from inventory_sync.clock import FixedClock
from inventory_sync.config import load_settings
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import Completeness, RunStatus, SourceName, Warehouse
from inventory_sync.errors import LedgerError, SourceUnavailable
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.shipstation.models import InventoryUpdate
from inventory_sync.sources import MemorySource, snapshot_of

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MAIN = Warehouse("main")
CHANGES, STOCK = SourceName("changes"), SourceName("stock")
SKUS = [f"SKU-{i:02d}" for i in range(12)]


class FailingPlanLedger(MemoryLedger):
    """The in-memory ledger, unable to record a plan while ``broken`` is set."""

    broken = False

    def record_planned(self, run_id, adjustments, *, at, fence=None, uses=()):
        if self.broken:
            raise LedgerError("database is locked")
        super().record_planned(run_id, adjustments, at=at, fence=fence, uses=uses)


class ArchiveFailingSource(MemorySource):
    """The in-memory source, unable to archive (commit) while ``broken`` is set."""

    broken = False

    def commit(self, snapshot):
        if self.broken:
            raise SourceUnavailable(
                "could not archive into done: permission denied", source=CHANGES, origin="memory"
            )
        super().commit(snapshot)


class Harness:
    """One warehouse fed by a change source and, optionally, a complete one."""

    def __init__(self, *, precedence: str = "first", with_stock: bool = False) -> None:
        self.clock = FixedClock(NOW)
        self.ledger = FailingPlanLedger()
        self.inventory = MemoryInventory.from_seed(
            {
                "products": SKUS,
                "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
                "locations": [
                    {
                        "inventory_location_id": "se-11",
                        "name": "A",
                        "inventory_warehouse_id": "se-1",
                    }
                ],
                "levels": [
                    {"sku": s, "inventory_location_id": "se-11", "on_hand": 10} for s in SKUS
                ],
            }
        )
        self.changes = ArchiveFailingSource(CHANGES)
        self.stock = MemorySource(STOCK) if with_stock else None
        self.precedence = precedence

    def change(self, levels: dict[str, int], *, files_waiting: int | None = None):
        snapshot = snapshot_of(
            CHANGES, {MAIN: levels}, taken_at=self.clock.now(), completeness=Completeness.PARTIAL
        )
        snapshot = replace(snapshot, files_waiting=files_waiting)
        self.changes.queue(snapshot)
        return snapshot

    def run(self, **options: object):
        self.clock.advance(timedelta(minutes=1))
        return service.reconcile(self.app(), service.RunOptions(**options))

    def app(self):
        settings = load_settings(
            None,
            require_file=False,
            overrides={
                "shipstation": {"api_key": "unit-test-key"},
                "warehouses": [{"name": "main", "inventory_location_id": "se-11"}],
                "reconcile": {"precedence": self.precedence},
            },
        )
        sources = [ConfiguredSource(self.changes, (MAIN,), Completeness.PARTIAL, GateRules())]
        if self.stock is not None:
            sources.append(ConfiguredSource(self.stock, (MAIN,), Completeness.COMPLETE))
        return bootstrap.build(
            settings,
            inventory=self.inventory,
            ledger=self.ledger,
            sources=tuple(sources),
            clock=self.clock,
        )

    def sell(self, sku: str, units: int) -> None:
        self.inventory.state.apply_update(InventoryUpdate("decrement", sku, units, "se-11"))

    def on_hand(self, sku: str) -> int:
        levels = self.inventory.list_levels(inventory_location_id="se-11")
        return {level.sku: level.on_hand for level in levels}[sku]


class TestCounted:
    def test_a_change_applied_is_counted_and_committed_once(self):
        h = Harness()
        change = h.change({"SKU-01": 15})
        h.run()
        assert h.on_hand("SKU-01") == 15
        assert h.ledger.counted_snapshot_ids(CHANGES, MAIN) == {change.snapshot_id}
        assert [s.snapshot_id for s in h.changes.committed] == [change.snapshot_id]

    def test_a_change_that_matches_already_still_counts(self):
        h = Harness()
        change = h.change({"SKU-01": 10})  # nothing to send: still read, still counted
        assert h.run().counts()["planned"] == 0
        assert h.ledger.counted_snapshot_ids(CHANGES, MAIN) == {change.snapshot_id}
        assert len(h.changes.committed) == 1

    def test_the_same_change_read_again_is_not_applied_again_but_committed(self):
        h = Harness()
        h.change({"SKU-01": 15})
        h.run()
        h.sell("SKU-01", 3)  # a sale: applying the change again would undo it
        assert h.run().counts()["planned"] == 0  # the last pull repeats: the same bytes
        assert h.on_hand("SKU-01") == 12
        assert len(h.changes.committed) == 2  # a copy put back is archived again


class TestNotCounted:
    def test_a_run_held_by_a_guard_counts_nothing_and_commits_nothing(self):
        h = Harness()
        h.change(dict.fromkeys(SKUS[:8], 20))  # 8 of 12 SKUs: over max_changed_share
        assert h.run().guard_held
        assert h.ledger.counted_snapshot_ids(CHANGES, MAIN) == set()
        assert h.changes.committed == []
        h.run(force=True)
        assert h.on_hand("SKU-01") == 20
        assert len(h.changes.committed) == 1

    def test_a_dry_run_counts_nothing(self):
        h = Harness()
        h.change({"SKU-01": 15})
        h.run(dry_run=True)
        assert h.ledger.counted_snapshot_ids(CHANGES, MAIN) == set()
        assert h.changes.committed == []

    def test_a_plan_the_ledger_could_not_record_counts_nothing(self):
        h = Harness()
        h.change({"SKU-01": 15})
        h.ledger.broken = True
        with pytest.raises(LedgerError):
            h.run()
        assert h.changes.committed == []
        h.ledger.broken = False
        h.run()
        assert h.on_hand("SKU-01") == 15
        assert len(h.changes.committed) == 1

    def test_a_sum_with_a_held_part_counts_nothing(self):
        h = Harness(precedence="sum", with_stock=True)
        h.stock.queue(SourceUnavailable("down", source=STOCK, origin="memory"))
        h.change({"SKU-01": 5})
        h.run()
        assert h.on_hand("SKU-01") == 10  # nothing planned: the total is not known
        assert h.ledger.counted_snapshot_ids(CHANGES, MAIN) == set()
        assert h.changes.committed == []


class TestAnArchiveThatFails:
    def test_holds_the_source_and_the_changes_are_not_applied_twice(self):
        h = Harness()
        h.change({"SKU-01": 15}, files_waiting=1)
        h.changes.broken = True
        first = h.run()
        assert h.on_hand("SKU-01") == 15
        assert first.status is RunStatus.HELD
        (hold,) = first.holds
        assert hold.subject == "source:changes"
        assert "could not archive" in hold.reason
        assert "newer change files wait" in hold.reason
        assert first.files_waiting == {"changes": 1}

        h.sell("SKU-01", 3)
        second = h.run()  # the same file read again: counted, so only its archive is tried
        assert (second.counts()["planned"], second.status) == (0, RunStatus.HELD)
        assert h.on_hand("SKU-01") == 12
        assert h.changes.committed == []

        h.changes.broken = False
        third = h.run()
        assert (third.counts()["planned"], third.status) == (0, RunStatus.SUCCEEDED)
        assert third.holds == ()
        assert len(h.changes.committed) == 1
        assert h.on_hand("SKU-01") == 12

    def test_a_source_without_a_backlog_reports_none_waiting(self):
        h = Harness()
        h.change({"SKU-01": 15}, files_waiting=0)
        assert h.run().files_waiting == {}
