"""The daemon's jobs as two replicas on one (in-memory) ledger: only the lease holder works."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inventory_sync import bootstrap
from inventory_sync.app import ConfiguredSource
from inventory_sync.clock import FixedClock
from inventory_sync.config import load_settings
from inventory_sync.daemon import jobs
from inventory_sync.daemon.replicas import LeaseTimes, ReplicaLeases
from inventory_sync.daemon.runtime import Generation, Runtime
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import Completeness, SourceName, Warehouse
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.notify import Notifier
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.sources import MemorySource, snapshot_of

T0 = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
MAIN = Warehouse("main")
FEED = SourceName("feed")
TIMES = LeaseTimes(timedelta(seconds=20), renew_every=5.0)
SEED = {
    "products": ["A", "B"],
    "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
    "locations": [
        {"inventory_location_id": "se-11", "name": "A", "inventory_warehouse_id": "se-1"}
    ],
    "levels": [{"sku": s, "inventory_location_id": "se-11", "on_hand": 10} for s in ("A", "B")],
}
SETTINGS = load_settings(
    None,
    require_file=False,
    overrides={
        "shipstation": {"api_key": "unit-test-key"},
        "warehouses": [{"name": "main", "inventory_location_id": "se-11"}],
        "reconcile": {"max_changed_share": 1.0, "max_units_share": 100.0},
        # Named for the schedule and health; the pulls go to the MemorySource given below.
        "sources": [
            {"name": "feed", "type": "csv", "warehouses": ["main"], "options": {"path": "x"}}
        ],
    },
)


class Replica:
    """One replica's runtime on the shared ledger and ShipStation, with its own source reader."""

    def __init__(self, ledger: MemoryLedger, inventory: MemoryInventory, clock: FixedClock):
        self.source = MemorySource(FEED)
        configured = ConfiguredSource(self.source, (MAIN,), Completeness.COMPLETE, GateRules())
        app = bootstrap.build(
            SETTINGS,
            inventory=inventory,
            ledger=ledger,
            sources=(configured,),
            clock=clock,
            leases=ledger,
        )
        self.leases = ReplicaLeases(clock, TIMES)
        self.runtime = Runtime(Generation.build(SETTINGS, app), Notifier(None), self.leases)
        self.taken = 0

    def tick(self) -> None:
        jobs.tick_replica(self.runtime, self._taken)

    def _taken(self) -> None:
        self.taken += 1

    def feed(self, levels: dict[str, int], at: datetime) -> None:
        self.source.queue(snapshot_of(FEED, {MAIN: levels}, taken_at=at))

    def pull_and_reconcile(self) -> None:
        jobs.pull_source(self.runtime, FEED, lambda _: None)
        jobs.reconcile_warehouse(self.runtime, MAIN, lambda _: None)


def two_replicas():
    clock = FixedClock(T0)
    ledger, inventory = MemoryLedger(), MemoryInventory.from_seed(SEED)
    return clock, inventory, Replica(ledger, inventory, clock), Replica(ledger, inventory, clock)


class TestJobsOfReplicas:
    def test_only_the_holder_pulls_and_pushes_and_its_requests_carry_its_fence(self):
        _, inventory, a, b = two_replicas()
        a.tick()
        b.tick()
        for replica in (a, b):
            replica.feed({"A": 12, "B": 10}, T0)
            replica.pull_and_reconcile()
        assert (a.source.pulls, b.source.pulls) == (1, 0)
        (sent,) = inventory.sent
        assert sent.notes.startswith("inventory-sync fence=push:account:default#1 ")

    def test_a_replica_that_takes_the_lease_back_starts_from_a_fresh_pull(self):
        clock, inventory, a, b = two_replicas()
        a.tick()
        a.feed({"A": 12, "B": 10}, T0)
        a.pull_and_reconcile()
        clock.advance(timedelta(seconds=30))  # a stopped renewing: b takes over
        b.tick()
        a.tick()  # a finds its lease gone
        b.runtime.replicas.release_all(b.runtime.current.app.ledger)  # b stops cleanly
        a.tick()  # a takes it back, with what it pulled before still in memory
        assert a.taken == 2
        assert not a.runtime.current.cache.has_data(MAIN)
        a.source.queue()  # nothing new queued: a reconcile now would have used the old pull
        jobs.reconcile_warehouse(a.runtime, MAIN, lambda _: None)
        assert len(inventory.sent) == 1
