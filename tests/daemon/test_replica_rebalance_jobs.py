"""The daemon's reconcile job holds its account's lease to the end of the run: a rebalance that
decides mid-push lets the lease go only after the push, and the joiner then works under a new
fence. Two accounts, two replicas, in memory."""

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
EAST, WEST = Warehouse("east"), Warehouse("west")  # of acme, of bolt
FEED = SourceName("feed")
BOLT = "push:account:bolt"  # the last account by name: the one given up
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
        "accounts": [
            {
                "name": name,
                "api_key": f"{name}-unit-test-key",
                "warehouses": [{"name": warehouse, "inventory_location_id": "se-11"}],
            }
            for name, warehouse in (("acme", EAST), ("bolt", WEST))
        ],
        "reconcile": {"max_changed_share": 1.0, "max_units_share": 100.0},
        "sources": [
            {
                "name": "feed",
                "type": "csv",
                "warehouses": [EAST, WEST],
                "options": {"path": "x"},
            }
        ],
    },
)


class Seconds:
    """A monotonic clock moved by hand, together with the wall clock."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds
        self.clock.advance(timedelta(seconds=seconds))


class DuringPush(MemoryInventory):
    """bolt's ShipStation: runs ``during`` once, as its first write arrives (mid-push), or
    ``reading`` once, as levels are first read."""

    during = None
    reading = None

    def update_level(self, update, *, before_send=None):
        hook, self.during = self.during, None
        if hook is not None:
            hook()
        return super().update_level(update, before_send=before_send)

    def list_levels(self, *args, **kwargs):
        hook, self.reading = self.reading, None
        if hook is not None:
            hook()
        return super().list_levels(*args, **kwargs)


class Replica:
    def __init__(self, ledger, inventories, clock, seconds) -> None:
        self.source = MemorySource(FEED)
        configured = ConfiguredSource(self.source, (EAST, WEST), Completeness.COMPLETE, GateRules())
        app = bootstrap.build(
            SETTINGS,
            ledger=ledger,
            inventories=inventories,
            sources=(configured,),
            clock=clock,
            leases=ledger,
        )
        self.leases = ReplicaLeases(clock, TIMES)
        self.leases._monotonic = seconds
        self.runtime = Runtime(Generation.build(SETTINGS, app), Notifier(None), self.leases)

    def tick(self) -> None:
        jobs.tick_replica(self.runtime, lambda: None)

    def pull(self, levels: dict[str, int]) -> None:
        self.source.queue(snapshot_of(FEED, {EAST: levels, WEST: levels}, taken_at=T0))
        jobs.pull_source(self.runtime, FEED, lambda _: None)


def two_replicas_a_over_its_share():
    clock = FixedClock(T0)
    seconds = Seconds(clock)
    ledger = MemoryLedger()
    bolt = DuringPush.from_seed(SEED)
    inventories = {"acme": MemoryInventory.from_seed(SEED), "bolt": bolt}
    a = Replica(ledger, inventories, clock, seconds)
    b = Replica(ledger, inventories, clock, seconds)
    a.tick()  # a is alone: it takes both accounts
    b.tick()  # b beats; nothing is free
    a.tick()  # a sees it holds more than its share
    return seconds, ledger, bolt, a, b


class TestRebalanceBetweenRuns:
    def test_a_lease_decided_away_mid_push_goes_only_after_the_push(self):
        seconds, ledger, bolt, a, b = two_replicas_a_over_its_share()
        seen = {}

        def ticks_mid_push() -> None:
            seconds.advance(TIMES.renew_every)
            a.tick()  # a decides to give bolt up, but a push for it is under way
            b.tick()
            seen["history"] = [(h.holder, h.fence) for h in ledger.lease_history(BOLT)]

        bolt.during = ticks_mid_push
        a.pull({"A": 12, "B": 7})
        jobs.reconcile_warehouse(a.runtime, WEST, lambda _: None)

        holder_a = a.leases.me.replica_id
        assert seen["history"] == [(holder_a, 1)]  # not released during the run
        # The whole push went out under a's fence, and reached ShipStation.
        assert [u.notes.split()[1] for u in bolt.sent] == [f"fence={BOLT}#1"] * 2
        assert {lv.sku: lv.on_hand for lv in bolt.list_levels()} == {"A": 12, "B": 7}
        a.tick()  # between runs now: a lets bolt go
        b.tick()  # and b takes it, with a new fence
        history = [(h.holder, h.fence) for h in ledger.lease_history(BOLT)]
        assert history == [(holder_a, 1), (b.leases.me.replica_id, 2)]
        assert not a.leases.holds(BOLT)
        assert b.leases.holds(BOLT)

    def test_a_drift_scan_under_way_keeps_the_lease_to_its_end(self):
        seconds, ledger, bolt, a, b = two_replicas_a_over_its_share()
        a.pull({"A": 12, "B": 7})
        seen = {}

        def ticks_mid_scan() -> None:
            seconds.advance(TIMES.renew_every)
            a.tick()
            b.tick()
            seen["history"] = [h.fence for h in ledger.lease_history(BOLT)]

        bolt.reading = ticks_mid_scan
        jobs.scan_drift(a.runtime)
        assert seen["history"] == [1]  # one replica reads bolt's levels at a time
        a.tick()
        b.tick()
        assert [h.fence for h in ledger.lease_history(BOLT)] == [1, 2]
