"""A one-shot run on a ledger replicas share takes its account's lease, as a replica does.

Every port in memory: the memory ledger is also the Leases port (the SQL twin is held to the
same contract). The end-to-end test beside a real `inventory-sync run` on PostgreSQL is
tests/e2e/test_one_shot_beside_replica.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inventory_sync import bootstrap
from inventory_sync.app import ConfiguredSource
from inventory_sync.clock import FixedClock
from inventory_sync.config import load_settings
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import Completeness, RunStatus, SourceName, Warehouse
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.service.accounts import apply_by_account, reconcile_accounts
from inventory_sync.service.run import RunOptions
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.sources import MemorySource, snapshot_of
from inventory_sync.steps.account_lease import LEASE_HOLDER_KEY

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MAIN = Warehouse("main")
LEASE = "push:account:default"
REPLICA = "host-b:4242:ab12cd"
SKUS = ("RED", "BLUE", "GREEN")
SETTINGS = {
    "shipstation": {"api_key": "unit-test-key"},
    "warehouses": [
        {"name": "main", "inventory_warehouse_id": "se-1", "inventory_location_id": "se-11"}
    ],
    "reconcile": {"max_changed_share": 1.0, "max_units_share": 100.0},
}


class World:
    def __init__(self, *, shared: bool = True) -> None:
        self.clock = FixedClock(NOW)
        self.ledger = MemoryLedger()
        self.inventory = MemoryInventory.from_seed(
            {
                "products": list(SKUS),
                "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
                "locations": [
                    {
                        "inventory_location_id": "se-11",
                        "name": "A",
                        "inventory_warehouse_id": "se-1",
                    }
                ],
                "levels": [
                    {"sku": s, "inventory_location_id": "se-11", "on_hand": 5} for s in SKUS
                ],
            }
        )
        self.source = MemorySource(SourceName("feed"))
        self.source.queue(
            snapshot_of(SourceName("feed"), {MAIN: {"RED": 7, "BLUE": 5, "GREEN": 1}}, taken_at=NOW)
        )
        settings = load_settings(None, require_file=False, overrides=SETTINGS)
        configured = ConfiguredSource(self.source, (MAIN,), Completeness.COMPLETE, GateRules())
        self.app = bootstrap.build(
            settings,
            inventory=self.inventory,
            ledger=self.ledger,
            leases=self.ledger if shared else None,
            sources=(configured,),
            clock=self.clock,
        )

    def replica_holds_the_lease(self) -> None:
        assert self.ledger.take_lease(LEASE, REPLICA, timedelta(seconds=20), NOW) is not None


class TestBesideAReplicaHoldingTheLease:
    def test_the_run_touches_nothing_and_is_recorded_busy_naming_the_holder(self):
        w = World()
        w.replica_holds_the_lease()
        summary = reconcile_accounts(w.app, RunOptions())
        assert summary.exit_code == 5
        (report,) = summary.reports
        assert (report.status, report.busy, report.entries) == (RunStatus.BUSY, True, ())
        (hold,) = report.holds
        assert (hold.subject, hold.details["holder"]) == ("account:default", REPLICA)
        # Not a request, not a pull: the replica is the account's one pusher.
        assert (w.inventory.reads, w.inventory.sent, w.source.pulls) == ([], [], 0)
        (run,) = w.ledger.list_runs(10)
        assert (run.status, run.summary[LEASE_HOLDER_KEY]) == (RunStatus.BUSY, REPLICA)
        assert [x.holder for x in w.ledger.lease_history(LEASE)] == [REPLICA]

    def test_a_dry_run_needs_no_lease(self):
        w = World()
        w.replica_holds_the_lease()
        summary = reconcile_accounts(w.app, RunOptions(dry_run=True))
        assert summary.exit_code == 0
        assert {e.adjustment.sku for e in summary.reports[0].entries} == {"RED", "GREEN"}
        assert w.inventory.sent == []

    def test_a_reviewed_plan_is_not_applied_either(self):
        w = World()
        planned = reconcile_accounts(w.app, RunOptions(dry_run=True)).reports[0].entries
        w.replica_holds_the_lease()
        summary = apply_by_account(w.app, [e.adjustment for e in planned])
        assert (summary.exit_code, w.inventory.sent) == (5, [])


class TestWithTheLeaseFree:
    def test_the_run_takes_the_lease_pushes_under_its_fence_and_lets_it_go(self):
        w = World()
        summary = reconcile_accounts(w.app, RunOptions())
        assert summary.exit_code == 0
        (taken,) = w.ledger.lease_history(LEASE)
        assert "one-shot-" in taken.holder
        assert {u.notes.split()[1] for u in w.inventory.sent} == {f"fence={LEASE}#{taken.fence}"}
        (lease,) = w.ledger.leases()
        assert not lease.held_at(NOW)  # let go at the end: a replica takes it at its next tick

    def test_a_reviewed_plan_is_pushed_under_the_fence_too(self):
        w = World()
        planned = reconcile_accounts(w.app, RunOptions(dry_run=True)).reports[0].entries
        summary = apply_by_account(w.app, [e.adjustment for e in planned])
        assert summary.exit_code == 0
        (taken,) = w.ledger.lease_history(LEASE)
        assert {u.notes.split()[1] for u in w.inventory.sent} == {f"fence={LEASE}#{taken.fence}"}


class TestWithoutLeases:
    def test_a_ledger_without_leases_runs_as_before(self):
        w = World(shared=False)
        summary = reconcile_accounts(w.app, RunOptions())
        assert summary.exit_code == 0
        assert all(u.notes.split()[1].startswith("adj-") for u in w.inventory.sent)
        assert w.ledger.leases() == []
