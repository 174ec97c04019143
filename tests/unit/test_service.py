"""The run service with in-memory ports: record before send, settle by reading back, isolation."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from inventory_sync import bootstrap, service
from inventory_sync.app import AccountRequired, ConfiguredSource
from inventory_sync.clock import FixedClock
from inventory_sync.config import load_settings
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentId,
    AdjustmentStatus,
    Completeness,
    LocationId,
    Rejected,
    RunId,
    RunRecord,
    RunStatus,
    Sku,
    SourceName,
    TransactionType,
    Warehouse,
)
from inventory_sync.errors import (
    AuthError,
    LedgerError,
    LockHeld,
    OutcomeUncertain,
    RequestRejected,
    ServerError,
    SourceUnavailable,
    UsageError,
)
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.report import RunReport
from inventory_sync.shipstation.emulator.state import LevelFilter
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.shipstation.models import InventoryUpdate
from inventory_sync.sources import MemorySource, snapshot_of
from inventory_sync.steps import runs
from inventory_sync.steps.manual import ManualChange

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MAIN = Warehouse("main")
KEY_ONLY = {"shipstation": {"api_key": "unit-test-key"}}
SKUS = [f"SKU-{i:02d}" for i in range(12)]


def seed(on_hand: int = 10) -> dict:
    return {
        "products": [*SKUS, "NEW"],
        "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
        "locations": [
            {"inventory_location_id": "se-11", "name": "A", "inventory_warehouse_id": "se-1"}
        ],
        "levels": [{"sku": s, "inventory_location_id": "se-11", "on_hand": on_hand} for s in SKUS],
    }


class BrokenLedger(MemoryLedger):
    """The in-memory ledger, failing to record planned changes once ``broken`` is set."""

    broken = False

    def record_planned(self, run_id, adjustments, *, at, fence=None, uses=()):
        if self.broken:
            raise LedgerError("database is locked")
        super().record_planned(run_id, adjustments, at=at, fence=fence, uses=uses)


class Harness:
    """One warehouse, one source, every port in memory."""

    def __init__(self, **reconcile: object) -> None:
        self.clock = FixedClock(NOW)
        self.ledger = BrokenLedger()
        self.inventory = MemoryInventory.from_seed(seed())
        self.source = MemorySource(SourceName("feed"))
        self.reconcile_settings = {"max_changed_share": 1.0, "max_units_share": 100.0, **reconcile}
        self.overrides: dict[str, object] = {}

    def feed(self, levels: dict[str, int], **kw: object) -> None:
        self.source.queue(
            snapshot_of(SourceName("feed"), {MAIN: levels}, taken_at=self.clock.now(), **kw)
        )

    def run(self, **options: object) -> RunReport:
        app = self.app()
        self.clock.advance(timedelta(minutes=1))
        return service.reconcile(app, service.RunOptions(**options))

    def app(self, inventory=None):
        """The App over this harness; ``inventory`` replaces ShipStation (say, one that is down)."""
        settings = load_settings(
            None,
            require_file=False,
            overrides={
                "shipstation": {"api_key": "unit-test-key"},
                "warehouses": [
                    {"name": "main", "inventory_location_id": "se-11", "reconcile": self.overrides}
                ],
                "reconcile": self.reconcile_settings,
            },
        )
        configured = ConfiguredSource(self.source, (MAIN,), Completeness.COMPLETE, GateRules())
        return bootstrap.build(
            settings,
            inventory=inventory or self.inventory,
            ledger=self.ledger,
            sources=(configured,),
            clock=self.clock,
        )

    def left_sent(self, adjustment: Adjustment) -> None:
        """What a run killed mid-request leaves: the change recorded and sent, no outcome."""
        self.ledger.begin_run(RunRecord(RunId("run-old"), NOW, "cli"))
        self.ledger.record_planned(RunId("run-old"), [adjustment], at=NOW)
        self.ledger.mark_sent(adjustment.adjustment_id, request="{}", at=NOW)

    def on_hand(self) -> dict[str, int]:
        return {
            r.sku: r.on_hand
            for r in self.inventory.state.levels(LevelFilter(inventory_location_id="se-11"))
        }


def all_at(value: int, **changes: int) -> dict[str, int]:
    return {**dict.fromkeys(SKUS, value), **changes}


class TestMirror:
    def test_a_run_applies_the_plan_and_a_second_run_has_nothing_to_do(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15, "SKU-02": 3}))
        report = h.run()
        assert report.status is RunStatus.SUCCEEDED
        assert {e.adjustment.sku: e.status for e in report.entries} == {
            "SKU-01": AdjustmentStatus.APPLIED,
            "SKU-02": AdjustmentStatus.APPLIED,
        }
        assert h.on_hand()["SKU-01"] == 15
        assert h.ledger.agreed_levels(MAIN)["SKU-01"] == 15
        assert h.run().entries == ()

    def test_every_request_carries_its_adjustment_id_in_notes(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        (entry,) = h.run().entries
        assert h.inventory.sent[0].notes == f"inventory-sync {entry.adjustment.adjustment_id}"

    def test_a_dry_run_sends_nothing_and_records_no_plan(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        report = h.run(dry_run=True)
        assert [e.status for e in report.entries] == [AdjustmentStatus.PLANNED]
        assert h.inventory.sent == []
        assert h.ledger.journal() == []

    def test_one_failing_sku_never_stops_the_others(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15, "SKU-02": 16, "SKU-03": 17}))
        h.inventory.fail_next(ServerError("boom", status_code=503))
        report = h.run()
        statuses = sorted(e.status.value for e in report.entries)
        assert statuses == ["applied", "applied", "failed"]
        assert report.status is RunStatus.PARTIAL
        assert report.exit_code == 1
        failed = next(e for e in report.entries if e.status is AdjustmentStatus.FAILED)
        assert "boom" in (failed.error or "")


class TestDeltaAndUncertainOutcomes:
    def test_a_lost_answer_is_settled_by_reading_back_not_by_sending_again(self):
        h = Harness(mode="delta")
        h.feed(all_at(10))
        h.run()  # first sight: agreed levels established
        h.feed(all_at(10, **{"SKU-01": 13}))
        h.inventory.fail_next(OutcomeUncertain("read timeout"), after_applying=True)
        report = h.run()
        (entry,) = report.entries
        assert entry.adjustment.transaction_type is TransactionType.INCREMENT
        assert entry.status is AdjustmentStatus.APPLIED
        assert h.on_hand()["SKU-01"] == 13
        assert len(h.inventory.sent) == 1  # never replayed
        assert h.run().entries == ()  # and the agreed level moved on, so no second increment

    def test_a_delta_that_never_landed_is_planned_again_and_applied_once(self):
        h = Harness(mode="delta")
        h.feed(all_at(10))
        h.run()
        h.feed(all_at(10, **{"SKU-01": 13}))
        h.inventory.fail_next(OutcomeUncertain("reset before sending"), after_applying=False)
        (entry,) = h.run().entries
        assert entry.status is AdjustmentStatus.FAILED
        assert h.on_hand()["SKU-01"] == 10
        (again,) = h.run().entries
        assert again.status is AdjustmentStatus.APPLIED
        assert h.on_hand()["SKU-01"] == 13

    def test_sales_in_shipstation_between_runs_are_kept_by_delta(self):
        h = Harness(mode="delta")
        h.feed(all_at(10))
        h.run()
        h.inventory.state.apply_update(_sale("SKU-01", 4))  # ShipStation sold 4
        h.feed(all_at(10, **{"SKU-01": 12}))  # the feed received 2 more
        h.run()
        assert h.on_hand()["SKU-01"] == 8


class TestRecovery:
    def test_a_change_left_sent_by_a_crash_is_settled_before_new_work(self):
        h = Harness()
        crashed = Adjustment(
            AdjustmentId("adj-crashed"), MAIN, LocationId("se-11"), Sku("SKU-05"),
            TransactionType.ADJUST, 20, 10, 20, "mirror", {"source_value": 20},
        )  # fmt: skip
        h.left_sent(crashed)
        h.inventory.state.apply_update(_adjust("SKU-05", 20))  # it landed; the answer was lost
        h.feed(all_at(10, **{"SKU-05": 20}))
        report = h.run()
        assert [e.adjustment.adjustment_id for e in report.settled] == ["adj-crashed"]
        assert report.settled[0].status is AdjustmentStatus.APPLIED
        assert report.entries == ()  # nothing left to send
        assert h.inventory.sent == []

    def test_an_auth_failure_stops_the_run_and_leftovers_are_skipped_later(self):
        h = Harness(mode="mirror")
        h.reconcile_settings["max_changed_share"] = 1.0
        h.feed(all_at(11))
        h.inventory.fail_next(AuthError("401 with every key", status_code=401))
        with pytest.raises(AuthError):
            h.run()
        leftovers = h.ledger.unsettled()
        report = h.run()
        settled = {e.status for e in report.settled}
        assert len(report.settled) == len(leftovers)
        assert settled <= {
            AdjustmentStatus.SKIPPED,
            AdjustmentStatus.APPLIED,
            AdjustmentStatus.FAILED,
        }
        assert all(v == 11 for v in h.on_hand().values())


class TestHoldsAndLocks:
    def test_an_unavailable_source_contributes_nothing(self):
        h = Harness()
        h.source.queue(SourceUnavailable("feed host down", source="feed"))
        report = h.run()
        assert report.entries == ()
        assert report.holds[0].subject == "source:feed"

    def test_a_feed_that_drops_to_all_zero_is_held_by_its_gate(self):
        h = Harness()
        h.feed(all_at(10))
        h.run()
        h.feed(all_at(0))
        report = h.run()
        assert report.entries == ()
        assert any(hold.subject == "source:feed" for hold in report.holds)
        assert h.on_hand()["SKU-01"] == 10

    def test_a_guard_holds_the_run_and_nothing_is_pushed(self):
        h = Harness(max_changed_share=0.5)
        h.feed(all_at(11))
        report = h.run()
        assert report.status is RunStatus.HELD
        assert report.exit_code == 3
        assert h.inventory.sent == []
        assert {e.status for e in h.ledger.journal()} == {AdjustmentStatus.SKIPPED}
        forced = h.run(force=True)
        assert forced.status is RunStatus.SUCCEEDED

    def test_a_warehouse_another_process_is_pushing_to_is_skipped(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        h.ledger.acquire_lock("push:main", "other-host:1:run-x", timedelta(minutes=5), NOW)
        report = h.run()
        assert report.exit_code == 5
        assert h.inventory.sent == []
        assert report.holds[0].subject == "warehouse:main"


class TestUnknownIsNotAbsent:
    def test_a_sku_missing_from_a_complete_snapshot_is_zeroed_only_as_configured(self):
        h = Harness(zero_absent_after=1)
        levels = all_at(10)
        del levels["SKU-07"]
        h.feed(levels)
        h.run()
        assert h.on_hand()["SKU-07"] == 0

    def test_a_sku_whose_row_was_rejected_is_never_zeroed(self):
        h = Harness(zero_absent_after=1)
        levels = all_at(10)
        del levels["SKU-07"]
        bad = Rejected(SourceName("feed"), "feed.csv", 9, "quantity", "ten", "not a number",
                       sku=Sku("SKU-07"), warehouse=MAIN)  # fmt: skip
        h.feed(levels, rejected=(bad,))
        report = h.run()
        assert h.on_hand()["SKU-07"] == 10
        assert report.rejected == (bad,)


def _sale(sku: str, units: int):
    return InventoryUpdate("decrement", sku, units, "se-11")


def _adjust(sku: str, units: int):
    return InventoryUpdate("adjust", sku, units, "se-11")


class TestAbsentCountsAcrossRuns:
    def without(self, sku: str, **changes: int) -> dict[str, int]:
        levels = all_at(10, **changes)
        del levels[sku]
        return levels

    def test_an_absent_sku_is_zeroed_after_two_complete_snapshots_not_two_reads(self):
        h = Harness(zero_absent_after=2)
        h.feed(self.without("SKU-07"))
        h.run()
        h.run()  # the same file read again is the same snapshot
        assert h.on_hand()["SKU-07"] == 10
        h.feed(self.without("SKU-07", **{"SKU-01": 11}))  # a new snapshot, still without it
        h.run()
        assert h.on_hand()["SKU-07"] == 0

    def test_a_sku_that_comes_back_starts_counting_again(self):
        h = Harness(zero_absent_after=2)
        h.feed(self.without("SKU-07"))
        h.run()
        h.feed(all_at(10, **{"SKU-01": 11}))
        h.run()
        h.feed(self.without("SKU-07", **{"SKU-01": 12}))
        h.run()
        assert h.on_hand()["SKU-07"] == 10

    def test_never_means_never(self):
        h = Harness(zero_absent_after="never")
        for bump in range(4):
            h.feed(self.without("SKU-07", **{"SKU-01": 11 + bump}))
            h.run()
        assert h.on_hand()["SKU-07"] == 10

    def test_a_partial_snapshot_never_makes_a_sku_absent(self):
        h = Harness(zero_absent_after=1)
        h.feed({"SKU-01": 11}, completeness=Completeness.PARTIAL)
        h.run()
        assert h.on_hand()["SKU-07"] == 10


class TestObservedMovements:
    def test_a_sale_made_in_shipstation_is_recorded_as_a_movement(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        h.run()
        h.inventory.state.apply_update(_sale("SKU-02", 3))
        h.run()
        (movement,) = h.ledger.movements_for(MAIN, Sku("SKU-02"))
        assert (movement.before, movement.after) == (10, 7)

    def test_inventory_syncs_own_changes_are_not_movements(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        h.run()
        h.feed(all_at(10, **{"SKU-01": 18}))
        h.run()
        h.run()
        assert h.ledger.movements_for(MAIN, Sku("SKU-01")) == []


class TestHeldSourcesZeroNothing:
    def test_with_its_only_source_held_a_warehouse_zeroes_nothing_and_keeps_its_counts(self):
        h = Harness(zero_absent_after=2)
        levels = all_at(10)
        del levels["SKU-07"]
        h.feed(levels)
        h.run()
        h.source.queue(SourceUnavailable("feed host down", source="feed"))
        report = h.run()
        assert report.entries == ()
        assert [hold.subject for hold in report.holds] == ["source:feed"]  # reported once
        assert dict(h.ledger.absent_counts(MAIN).counts) == {"SKU-07": 1}


class TestDeadLeases:
    def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_over(self):
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        holder = f"{socket.gethostname()}:{dead.stdout.strip()}:run-killed"
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        h.ledger.acquire_lock("push:main", holder, timedelta(minutes=5), NOW)
        report = h.run()
        assert report.exit_code == 0
        assert h.on_hand()["SKU-01"] == 15

    def test_a_lease_of_a_live_process_is_respected(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        holder = f"{socket.gethostname()}:{os.getppid()}:run-live"
        h.ledger.acquire_lock("push:main", holder, timedelta(minutes=5), NOW)
        assert h.run().exit_code == 5


class TestUndecidableChangesAreHeldForAPerson:
    def crashed_delta(self, h: Harness) -> Adjustment:
        delta = Adjustment(
            AdjustmentId("adj-delta"), MAIN, LocationId("se-11"), Sku("SKU-03"),
            TransactionType.INCREMENT, 3, 10, 13, "delta", {"source_value": 13},
        )  # fmt: skip
        h.left_sent(delta)
        h.ledger.record_agreed(MAIN, dict.fromkeys(map(Sku, SKUS), 10), at=NOW)
        return delta

    def test_a_sku_whose_change_needs_review_is_not_planned_again(self):
        h = Harness(mode="delta")
        self.crashed_delta(h)
        h.inventory.state.apply_update(_adjust("SKU-03", 12))  # neither 10 nor 13: undecidable
        h.feed(all_at(10, **{"SKU-03": 13}))
        report = h.run()
        assert [e.status for e in report.settled] == [AdjustmentStatus.NEEDS_REVIEW]
        assert report.entries == ()
        assert "sku:main/SKU-03" in [hold.subject for hold in report.holds]
        assert h.run().entries == ()  # still held on the next run
        assert h.on_hand()["SKU-03"] == 12

    def test_resolving_it_as_applied_moves_the_agreed_level_on(self):
        h = Harness(mode="delta")
        self.crashed_delta(h)
        h.inventory.state.apply_update(_adjust("SKU-03", 12))
        h.feed(all_at(10, **{"SKU-03": 13}))
        h.run()
        app = bootstrap.build(
            load_settings(None, require_file=False, overrides=KEY_ONLY),
            inventory=h.inventory, ledger=h.ledger, sources=(), clock=h.clock,
        )  # fmt: skip
        resolved = service.resolve(app, "adj-delta", applied=True, note="checked the app")
        assert resolved.status is AdjustmentStatus.APPLIED
        assert h.ledger.agreed_levels(MAIN)["SKU-03"] == 13
        h.feed(all_at(10, **{"SKU-03": 15}))  # the feed moves on by 2
        (entry,) = h.run().entries
        assert (entry.adjustment.transaction_type, entry.adjustment.quantity) == (
            TransactionType.INCREMENT,
            2,
        )
        assert h.on_hand()["SKU-03"] == 14

    def test_only_a_waiting_change_can_be_resolved(self):
        h = Harness()
        app = bootstrap.build(
            load_settings(None, require_file=False, overrides=KEY_ONLY),
            inventory=h.inventory, ledger=h.ledger, sources=(), clock=h.clock,
        )  # fmt: skip
        with pytest.raises(UsageError):
            service.resolve(app, "adj-nope", applied=True, note=None)


class TestPerWarehousePolicies:
    def test_a_warehouses_own_keys_win_over_the_defaults(self):
        h = Harness(max_changed_share=0.5)
        h.overrides = {"max_changed_share": 1.0, "tolerance": 1}
        h.feed(all_at(11, **{"SKU-01": 15}))
        report = h.run()
        assert report.status is RunStatus.SUCCEEDED  # not held: the warehouse allows it
        assert [e.adjustment.sku for e in report.entries] == ["SKU-01"]  # 10 -> 11 is tolerated

    def test_a_warehouse_can_run_delta_while_the_default_is_mirror(self):
        h = Harness()
        h.overrides = {"mode": "delta"}
        h.feed(all_at(10))
        h.run()
        h.inventory.state.apply_update(_sale("SKU-01", 4))
        h.feed(all_at(10, **{"SKU-01": 12}))
        h.run()
        assert h.on_hand()["SKU-01"] == 8  # the sale is kept, as delta does


class TestQuarantine:
    def test_a_sku_failing_max_attempts_times_in_a_row_is_quarantined_until_released(self):
        h = Harness(max_attempts=2)
        h.feed(all_at(10, NEW=5))  # NEW: ShipStation answers 400 until the product exists
        for _ in range(2):
            h.inventory.fail_next(RequestRejected("no product record", status_code=400))
        statuses = [[e.status.value for e in h.run().entries] for _ in range(3)]
        assert statuses == [["failed"], ["failed"], []]  # the third run leaves it alone
        report = h.run()
        assert any(hold.subject == "sku:main/NEW" for hold in report.holds)
        service.release(h.app(), "main", Sku("NEW"))
        (entry,) = h.run().entries
        assert entry.status is AdjustmentStatus.APPLIED
        assert h.on_hand()["NEW"] == 5

    def test_a_release_asks_shipstation_nothing(self):
        h = Harness(max_attempts=1)
        h.feed(all_at(10, NEW=5))
        h.inventory.fail_next(RequestRejected("no product record", status_code=400))
        h.run()
        # Every call to this inventory raises: the release must not make one.
        released = service.release(h.app(inventory=AccountRequired()), "main", Sku("NEW"))
        assert (released.status, released.adjustment.location_id) == (
            AdjustmentStatus.SKIPPED,
            "se-11",  # where the failed change was sent
        )
        (entry,) = h.run().entries
        assert (entry.adjustment.sku, entry.status) == ("NEW", AdjustmentStatus.APPLIED)


class TestNarrowedRuns:
    def test_a_run_for_a_few_skus_reads_only_their_levels(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15, "SKU-02": 3}))
        report = h.run(skus=frozenset({"SKU-01"}))
        assert [e.adjustment.sku for e in report.entries] == ["SKU-01"]
        assert [(r.inventory_location_id, r.sku) for r in h.inventory.reads] == [
            ("se-11", "SKU-01")
        ]
        assert h.on_hand()["SKU-02"] == 10

    def test_a_run_for_many_skus_reads_the_location_once(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        many = frozenset(SKUS[:6])
        assert len(many) > runs.PER_SKU_READS
        report = h.run(skus=many)
        assert [e.adjustment.sku for e in report.entries] == ["SKU-01"]
        assert [(r.inventory_location_id, r.sku) for r in h.inventory.reads] == [("se-11", None)]

    def test_a_narrowed_run_sees_no_movement_in_the_skus_it_did_not_read(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        h.run()
        h.feed(all_at(10, **{"SKU-01": 16}))
        h.run(skus=frozenset({"SKU-01"}))
        assert h.ledger.movements_for(MAIN, Sku("SKU-02")) == []
        assert h.ledger.seen_levels(MAIN)[Sku("SKU-02")] == 10

    def test_a_narrowed_run_still_sees_a_sale_in_the_skus_it_read(self):
        h = Harness()
        h.feed(all_at(10))
        h.run()
        h.inventory.state.apply_update(_sale("SKU-03", 2))
        h.feed(all_at(10))
        h.run(skus=frozenset({"SKU-03"}))
        (moved,) = h.ledger.movements_for(MAIN, Sku("SKU-03"))
        assert (moved.before, moved.after) == (10, 8)


class TestEveryRunIsFinished:
    """Whatever stops a run, it is finished in the ledger as failed, and its locks released."""

    def only_run(self, h: Harness) -> RunRecord:
        (run,) = [r for r in h.ledger.list_runs() if r.run_id != "run-old"]
        assert run.finished_at is not None
        assert h.ledger.lock_holder("push:main", NOW) is None
        return run

    def test_a_ledger_error_mid_reconcile_leaves_a_finished_failed_run(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        h.ledger.broken = True
        with pytest.raises(LedgerError):
            h.run()
        assert self.only_run(h).status is RunStatus.FAILED
        assert h.inventory.sent == []

    def test_a_ledger_error_while_applying_a_plan_leaves_a_finished_failed_run(self):
        h = Harness()
        planned = Adjustment(
            AdjustmentId("adj-plan"), MAIN, LocationId("se-11"), Sku("SKU-01"),
            TransactionType.ADJUST, 15, 10, 15, "mirror", {},
        )  # fmt: skip
        h.ledger.broken = True
        with pytest.raises(LedgerError):
            service.apply_plan(h.app(), [planned])
        assert self.only_run(h).status is RunStatus.FAILED
        assert h.inventory.sent == []

    def test_a_ledger_error_in_a_manual_change_leaves_a_finished_failed_run(self):
        h = Harness()
        h.ledger.broken = True
        change = ManualChange(Sku("SKU-01"), TransactionType.ADJUST, 4, "count")
        with pytest.raises(LedgerError):
            service.manual_adjust(h.app(), "main", change)
        run = self.only_run(h)
        assert (run.status, run.trigger) == (RunStatus.FAILED, "manual:count")
        assert h.inventory.sent == []

    def test_a_manual_change_to_a_busy_warehouse_is_refused_and_finished(self):
        h = Harness()
        h.ledger.acquire_lock("push:main", "other-host:1:run-x", timedelta(minutes=5), NOW)
        change = ManualChange(Sku("SKU-01"), TransactionType.ADJUST, 4, "count")
        with pytest.raises(LockHeld):
            service.manual_adjust(h.app(), "main", change)
        (run,) = h.ledger.list_runs()
        assert (run.status, run.finished_at) == (RunStatus.FAILED, NOW)
        assert h.ledger.lock_holder("push:main", NOW) == "other-host:1:run-x"
        assert h.inventory.sent == []

    def test_a_skipped_plan_row_is_not_a_failure(self):
        h = Harness()
        moved = Adjustment(
            AdjustmentId("adj-moved"), MAIN, LocationId("se-11"), Sku("SKU-01"),
            TransactionType.ADJUST, 15, 9, 15, "mirror", {},
        )  # fmt: skip
        report = service.apply_plan(h.app(), [moved])  # ShipStation holds 10, not 9
        assert [e.status for e in report.entries] == [AdjustmentStatus.SKIPPED]
        assert report.status is RunStatus.SUCCEEDED
        assert h.ledger.list_runs()[0].status is RunStatus.SUCCEEDED

    def test_a_run_that_only_records_is_finished_as_its_body_says(self):
        h = Harness()
        with service.recorded_run(h.app(), "pull:feed") as ending:
            ending.status, ending.summary = RunStatus.HELD, {"rows": 3}
        (run,) = h.ledger.list_runs()
        assert (run.trigger, run.status, dict(run.summary)) == (
            "pull:feed",
            RunStatus.HELD,
            {"rows": 3},
        )
        assert run.finished_at is not None

    def test_a_run_that_only_records_and_raises_is_finished_failed(self):
        h = Harness()
        with pytest.raises(RuntimeError), service.recorded_run(h.app(), "pull:feed"):
            raise RuntimeError("a bug")
        (run,) = h.ledger.list_runs()
        assert (run.status, run.finished_at) == (RunStatus.FAILED, NOW)
