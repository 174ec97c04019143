"""`status` judges each warehouse by the last run that was about it, and names the condition.

Budget: under 2 s (in-memory ports).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inventory_sync import bootstrap, service
from inventory_sync.app import ConfiguredSource
from inventory_sync.clock import FixedClock
from inventory_sync.config import load_settings
from inventory_sync.daemon.health import Unhealthy
from inventory_sync.daemon.overview import overview
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import Completeness, SourceName, Warehouse
from inventory_sync.errors import AuthError
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.sources import MemorySource, snapshot_of

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
EAST, WEST = Warehouse("east"), Warehouse("west")
SEED = {
    "products": ["RED"],
    "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
    "locations": [
        {"inventory_location_id": "se-11", "name": "A", "inventory_warehouse_id": "se-1"},
        {"inventory_location_id": "se-12", "name": "B", "inventory_warehouse_id": "se-1"},
    ],
    "levels": [
        {"sku": "RED", "inventory_location_id": "se-11", "on_hand": 10},
        {"sku": "RED", "inventory_location_id": "se-12", "on_hand": 10},
    ],
}


FEED_SETTINGS = {
    "name": "feed",
    "type": "csv",
    "warehouses": ["east", "west"],
    "options": {"path": "/nonexistent.csv"},  # never read: the test queues snapshots
}


class TwoWarehouses:
    def __init__(self) -> None:
        self.clock = FixedClock(NOW)
        self.ledger = MemoryLedger()
        self.inventory = MemoryInventory.from_seed(SEED)
        self.source = MemorySource(SourceName("feed"))
        self.settings = load_settings(
            None,
            require_file=False,
            overrides={
                "shipstation": {"api_key": "unit-test-key"},
                "warehouses": [
                    {"name": "east", "inventory_location_id": "se-11"},
                    {"name": "west", "inventory_location_id": "se-12"},
                ],
                "sources": [FEED_SETTINGS],
                "reconcile": {"max_changed_share": 1.0, "max_units_share": 100.0},
            },
        )

    def run(self, *warehouses: str) -> None:
        self.source.queue(
            snapshot_of(SourceName("feed"), {EAST: {"RED": 12}, WEST: {"RED": 10}}, taken_at=NOW)
        )
        configured = ConfiguredSource(self.source, (EAST, WEST), Completeness.COMPLETE, GateRules())
        app = bootstrap.build(
            self.settings,
            inventory=self.inventory,
            ledger=self.ledger,
            sources=(configured,),
            clock=self.clock,
        )
        self.clock.advance(timedelta(minutes=1))
        service.reconcile(app, service.RunOptions(warehouses=frozenset(warehouses)))

    def problems(self) -> list[tuple[str, str]]:
        found = overview(self.settings, self.ledger, self.clock.now())
        return [(p.condition.value, p.text.partition(":")[0]) for p in found.problems]


class TestEachWarehouseByItsOwnLastRun:
    def test_a_refused_run_of_east_is_not_hidden_by_a_quiet_run_of_west(self):
        h = TwoWarehouses()
        h.inventory.fail_next(AuthError("every configured API key was refused", status_code=401))
        with pytest.raises(AuthError):
            h.run("east")
        h.run("west")  # nothing to change in west: it touches no adjustment
        assert h.problems() == [(Unhealthy.RUN_FAILED.value, "warehouse east")]

    def test_the_failed_run_keeps_its_error_for_status_to_show(self):
        h = TwoWarehouses()
        h.inventory.fail_next(AuthError("every configured API key was refused", status_code=401))
        with pytest.raises(AuthError):
            h.run("east")
        (run,) = h.ledger.list_runs()
        assert dict(run.summary) | {"request_id": None} == {
            "error": "every configured API key was refused",
            "error_type": "AuthError",
            "status_code": 401,
            "request_id": None,
            "warehouses": "east",
        }
        (east,) = overview(h.settings, h.ledger, h.clock.now()).problems
        assert "every configured API key was refused" in east.text
