"""The Ledger contract: MemoryLedger and SqlLedger (SQLite, PostgreSQL) behave alike."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentId,
    AdjustmentStatus,
    Completeness,
    LocationId,
    Movement,
    Observation,
    Outcome,
    QuantityBasis,
    Rejected,
    RunId,
    RunRecord,
    RunStatus,
    Sku,
    Snapshot,
    SnapshotUse,
    SourceName,
    TransactionType,
    Warehouse,
    rows_by_warehouse,
)
from inventory_sync.errors import LedgerError
from inventory_sync.ledger.values import EXCERPT_LIMIT

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WH = Warehouse("east")
OTHER = Warehouse("west")
SRC = SourceName("erp")
TTL = timedelta(minutes=5)


def use(snapshot_id: str, warehouse: Warehouse = WH) -> SnapshotUse:
    return SnapshotUse(SRC, snapshot_id, warehouse)


def run(run_id: str = "r1", at: datetime = T0, **kw) -> RunRecord:
    return RunRecord(run_id=RunId(run_id), started_at=at, trigger="cli", **kw)


def snapshot(snapshot_id: str = "sha-1", *quantities: int, at: datetime = T0, rejected=()):
    observations = tuple(Observation(WH, Sku(f"SKU-{i}"), q) for i, q in enumerate(quantities))
    return Snapshot(
        source=SRC,
        snapshot_id=snapshot_id,
        taken_at=at,
        completeness=Completeness.COMPLETE,
        basis=QuantityBasis.ON_HAND,
        warehouses=frozenset({WH}),
        rows=rows_by_warehouse(observations),
        rejected=tuple(rejected),
        origin="stock.csv",
    )


def bad_row(line: int, sku: str | None = None, warehouse: Warehouse | None = None) -> Rejected:
    named = None if sku is None else Sku(sku)
    reason = "not a whole number"
    return Rejected(SRC, "stock.csv", line, "qty", "x", reason, sku=named, warehouse=warehouse)


def adjustment(adjustment_id: str = "a1", sku: str = "SKU-1", after: int = 7) -> Adjustment:
    return Adjustment(
        adjustment_id=AdjustmentId(adjustment_id),
        warehouse=WH,
        location_id=LocationId("loc-1"),
        sku=Sku(sku),
        transaction_type=TransactionType.ADJUST,
        quantity=after,
        before=3,
        after=after,
        rule="source-wins",
        basis={"source": "erp", "source_qty": after, "note": None},
    )


def planned(ledger, *adjustments: Adjustment, run_id: str = "r1", at: datetime = T0) -> None:
    if ledger.get_run(RunId(run_id)) is None:
        ledger.begin_run(run(run_id))
    ledger.record_planned(RunId(run_id), list(adjustments), at=at)


def entry(ledger, adjustment_id: str):
    (found,) = [e for e in ledger.journal() if e.adjustment.adjustment_id == adjustment_id]
    return found


class TestRuns:
    def test_a_begun_run_reads_back_as_running(self, ledger):
        ledger.begin_run(run(summary={}))
        assert ledger.get_run(RunId("r1")) == run()

    def test_finishing_a_run_records_status_summary_and_time(self, ledger):
        ledger.begin_run(run())
        ledger.finish_run(
            RunId("r1"), status=RunStatus.PARTIAL, summary={"applied": 3}, at=T0 + timedelta(1)
        )
        got = ledger.get_run(RunId("r1"))
        assert (got.status, dict(got.summary), got.finished_at) == (
            RunStatus.PARTIAL,
            {"applied": 3},
            T0 + timedelta(1),
        )

    def test_a_failed_run_keeps_its_error_facts_and_a_busy_one_its_status(self, ledger):
        ledger.begin_run(run())
        facts = {"error": "503: unavailable", "error_type": "ServerError", "status_code": 503,
                 "request_id": None, "support": '{"action": "x"}'}  # fmt: skip
        ledger.finish_run(RunId("r1"), status=RunStatus.FAILED, summary=facts, at=T0)
        ledger.begin_run(run("r2"))
        ledger.finish_run(RunId("r2"), status=RunStatus.BUSY, summary={}, at=T0)
        assert dict(ledger.get_run(RunId("r1")).summary) == facts
        assert ledger.get_run(RunId("r2")).status is RunStatus.BUSY

    def test_an_unknown_run_is_none_and_cannot_be_finished(self, ledger):
        assert ledger.get_run(RunId("nope")) is None
        with pytest.raises(LedgerError):
            ledger.finish_run(RunId("nope"), status=RunStatus.FAILED, summary={}, at=T0)

    def test_a_run_id_is_recorded_once(self, ledger):
        ledger.begin_run(run())
        with pytest.raises(LedgerError):
            ledger.begin_run(run())

    def test_runs_are_listed_newest_first_up_to_the_limit(self, ledger):
        for i in range(3):
            ledger.begin_run(run(f"r{i}", at=T0 + timedelta(hours=i)))
        assert [r.run_id for r in ledger.list_runs(limit=2)] == ["r2", "r1"]

    def test_times_come_back_as_the_same_instant_in_utc(self, ledger):
        paris = timezone(timedelta(hours=1))
        ledger.begin_run(run(at=datetime(2026, 3, 1, 13, 0, 0, 123456, tzinfo=paris)))
        started = ledger.get_run(RunId("r1")).started_at
        assert started == T0.replace(microsecond=123456)
        assert started.utcoffset() == timedelta(0)

    def test_naive_times_are_refused(self, ledger):
        with pytest.raises(LedgerError):
            ledger.begin_run(run(at=datetime(2026, 3, 1, 12, 0)))  # noqa: DTZ001


class TestSnapshots:
    def test_recording_writes_observations_and_quarantined_rows(self, ledger):
        ledger.begin_run(run())
        bad = [bad_row(9), bad_row(10, "SKU-9"), bad_row(11, "SKU-9", WH)]
        snap = snapshot("sha-1", 5, 0, 7, rejected=bad)
        assert ledger.record_snapshot(RunId("r1"), snap, at=T0, healthy=True) == 6
        assert ledger.rejected_for_run(RunId("r1")) == bad  # with their SKU and warehouse

    def test_a_healthy_snapshot_becomes_the_last_good_one(self, ledger):
        ledger.begin_run(run())
        ledger.record_snapshot(RunId("r1"), snapshot("sha-1", 5, 0, 7), at=T0, healthy=True)
        good = ledger.last_good_snapshot(SRC)
        assert (good.snapshot_id, good.rows, good.units, good.nonzero_rows) == ("sha-1", 3, 12, 2)
        assert good.taken_at == T0

    def test_an_unhealthy_snapshot_is_remembered_but_never_good(self, ledger):
        ledger.begin_run(run())
        ledger.record_snapshot(RunId("r1"), snapshot("sha-1", 5), at=T0, healthy=True)
        later = snapshot("sha-2", 0, at=T0 + timedelta(hours=1))
        ledger.record_snapshot(RunId("r1"), later, at=T0, healthy=False)
        assert ledger.last_good_snapshot(SRC).snapshot_id == "sha-1"

    def test_the_newest_healthy_snapshot_wins(self, ledger):
        ledger.begin_run(run())
        newer = snapshot("sha-new", 1, at=T0 + timedelta(hours=2))
        ledger.record_snapshot(RunId("r1"), newer, at=T0, healthy=True)
        ledger.record_snapshot(RunId("r1"), snapshot("sha-old", 1), at=T0, healthy=True)
        assert ledger.last_good_snapshot(SRC).snapshot_id == "sha-new"
        assert ledger.last_good_snapshot(SourceName("other")) is None

    def test_the_same_snapshot_is_never_counted_twice(self, ledger):
        ledger.begin_run(run())
        ledger.record_snapshot(RunId("r1"), snapshot("sha-1", 5), at=T0, healthy=True)
        assert ledger.record_snapshot(RunId("r1"), snapshot("sha-1", 5), at=T0, healthy=True) == 0
        assert len(ledger.observations_for(WH, Sku("SKU-0"))) == 1

    def test_observations_come_back_newest_first_up_to_the_limit(self, ledger):
        ledger.begin_run(run())
        for hour in range(3):
            snap = snapshot(f"sha-{hour}", 10 + hour, at=T0 + timedelta(hours=hour))
            ledger.record_snapshot(RunId("r1"), snap, at=T0, healthy=True)
        seen = ledger.observations_for(WH, Sku("SKU-0"), limit=2)
        assert [(o.snapshot_id, o.quantity, o.source, o.run_id) for o in seen] == [
            ("sha-2", 12, SRC, "r1"),
            ("sha-1", 11, SRC, "r1"),
        ]
        assert seen[0].observed_at == T0 + timedelta(hours=2)

    def test_a_snapshot_needs_a_known_run(self, ledger):
        with pytest.raises(LedgerError):
            ledger.record_snapshot(RunId("ghost"), snapshot("sha-1", 1), at=T0, healthy=True)

    def test_rejected_rows_can_be_recorded_on_their_own(self, ledger):
        ledger.begin_run(run())
        assert ledger.record_rejected(RunId("r1"), iter([bad_row(3, "A", WH)]), at=T0) == 1
        assert ledger.rejected_for_run(RunId("r1")) == [bad_row(3, "A", WH)]
        assert ledger.rejected_for_run(RunId("r2")) == []

    def test_a_skus_rejected_rows_come_back_newest_first_here_or_in_no_warehouse(self, ledger):
        ledger.begin_run(run())
        rows = {
            T0: [bad_row(1, "A", WH), bad_row(2, "A", Warehouse("west")), bad_row(3, "B", WH)],
            T0 + timedelta(hours=1): [bad_row(4, "A"), bad_row(5, "A", WH)],
            T0 + timedelta(hours=2): [bad_row(6), bad_row(7, "A", WH)],
        }
        for at, bad in rows.items():
            ledger.record_rejected(RunId("r1"), bad, at=at)
        found = ledger.rejected_for(WH, Sku("A"), limit=3)
        assert [(r.rejected.line, r.rejected.warehouse) for r in found] == [
            (7, WH),
            (5, WH),  # the later-written of two at the same time first
            (4, None),
        ]
        assert (found[0].run_id, found[0].at) == ("r1", T0 + timedelta(hours=2))
        assert [r.rejected.line for r in ledger.rejected_for(WH, Sku("A"))] == [7, 5, 4, 1]
        assert ledger.rejected_for(WH, Sku("C")) == []


class TestCountedSnapshots:
    """A partial snapshot counts for a warehouse once a plan made from it is recorded."""

    def test_a_recorded_change_snapshot_is_counted_nowhere_yet(self, ledger):
        ledger.begin_run(run())
        ledger.record_snapshot(RunId("r1"), snapshot("sha-1", 5), at=T0, healthy=True)
        assert ledger.counted_snapshot_ids(SRC, WH) == set()

    def test_uses_recorded_with_a_plan_count_for_their_warehouse_only(self, ledger):
        ledger.begin_run(run())
        ledger.record_planned(RunId("r1"), [adjustment()], at=T0, uses=[use("sha-1")])
        assert ledger.counted_snapshot_ids(SRC, WH) == {"sha-1"}
        assert ledger.counted_snapshot_ids(SRC, OTHER) == set()
        assert ledger.counted_snapshot_ids(SourceName("other"), WH) == set()

    def test_a_plan_with_nothing_to_change_still_counts_its_snapshots(self, ledger):
        ledger.begin_run(run())
        ledger.record_planned(RunId("r1"), [], at=T0, uses=[use("sha-1"), use("sha-2", OTHER)])
        assert ledger.counted_snapshot_ids(SRC, WH) == {"sha-1"}
        assert ledger.counted_snapshot_ids(SRC, OTHER) == {"sha-2"}

    def test_a_use_recorded_again_is_the_same_use(self, ledger):
        ledger.begin_run(run())
        ledger.begin_run(run("r2"))
        ledger.record_planned(RunId("r1"), [], at=T0, uses=[use("sha-1")])
        ledger.record_planned(RunId("r2"), [], at=T0 + TTL, uses=[use("sha-1"), use("sha-2")])
        assert ledger.counted_snapshot_ids(SRC, WH) == {"sha-1", "sha-2"}

    def test_a_plan_that_fails_to_record_counts_nothing(self, ledger):
        with pytest.raises(LedgerError):
            ledger.record_planned(RunId("ghost"), [adjustment()], at=T0, uses=[use("sha-1")])
        assert ledger.counted_snapshot_ids(SRC, WH) == set()

    def test_uses_outlive_pruned_history(self, ledger):
        """A change file left in its inbox must not count again once its run is forgotten."""
        ledger.begin_run(run())
        ledger.finish_run(RunId("r1"), status=RunStatus.SUCCEEDED, summary={}, at=T0)
        ledger.record_planned(RunId("r1"), [], at=T0, uses=[use("sha-1")])
        ledger.prune(T0 + timedelta(days=400))
        assert ledger.get_run(RunId("r1")) is None
        assert ledger.counted_snapshot_ids(SRC, WH) == {"sha-1"}


class TestAdjustments:
    def test_a_planned_adjustment_is_journalled_as_planned(self, ledger):
        planned(ledger, adjustment("a1"))
        got = entry(ledger, "a1")
        assert (got.adjustment, got.status, got.planned_at, got.attempts) == (
            adjustment("a1"),
            AdjustmentStatus.PLANNED,
            T0,
            0,
        )

    def test_planning_is_idempotent_per_adjustment_id(self, ledger):
        planned(ledger, adjustment("a1", after=7))
        ledger.mark_sent(AdjustmentId("a1"), request="{}", at=T0)
        planned(ledger, adjustment("a1", after=99), at=T0 + timedelta(1))
        got = entry(ledger, "a1")
        assert (got.adjustment.after, got.status, got.planned_at) == (7, "sent", T0)
        assert len(ledger.journal()) == 1

    def test_sent_then_applied(self, ledger):
        planned(ledger, adjustment("a1"))
        ledger.mark_sent(
            AdjustmentId("a1"), request='{"sku": "SKU-1"}', at=T0 + timedelta(seconds=1)
        )
        done = Outcome(AdjustmentStatus.APPLIED, T0 + timedelta(seconds=2), "req-9", "{}", None)
        ledger.mark_outcome(AdjustmentId("a1"), done)
        got = entry(ledger, "a1")
        assert (got.status, got.attempts, got.request, got.request_id, got.response) == (
            AdjustmentStatus.APPLIED,
            1,
            '{"sku": "SKU-1"}',
            "req-9",
            "{}",
        )
        assert (got.sent_at, got.settled_at) == (
            T0 + timedelta(seconds=1),
            T0 + timedelta(seconds=2),
        )
        assert ledger.unsettled() == []

    def test_a_failure_is_settled_with_its_error(self, ledger):
        planned(ledger, adjustment("a1"))
        ledger.mark_sent(AdjustmentId("a1"), request="{}", at=T0)
        ledger.mark_outcome(
            AdjustmentId("a1"), Outcome(AdjustmentStatus.FAILED, T0, error="422: bad sku")
        )
        got = entry(ledger, "a1")
        assert (got.status, got.error, got.settled_at) == ("failed", "422: bad sku", T0)
        assert ledger.unsettled() == []

    def test_an_uncertain_outcome_stays_unsettled(self, ledger):
        planned(ledger, adjustment("a1"))
        ledger.mark_sent(AdjustmentId("a1"), request="{}", at=T0)
        ledger.mark_outcome(
            AdjustmentId("a1"), Outcome(AdjustmentStatus.UNCERTAIN, T0, error="timeout")
        )
        (got,) = ledger.unsettled()
        assert (got.status, got.settled_at) == (AdjustmentStatus.UNCERTAIN, None)

    def test_every_send_counts_an_attempt(self, ledger):
        planned(ledger, adjustment("a1"))
        ledger.mark_sent(AdjustmentId("a1"), request="{}", at=T0)
        ledger.mark_sent(AdjustmentId("a1"), request="{}", at=T0 + timedelta(minutes=1))
        assert entry(ledger, "a1").attempts == 2

    def test_long_texts_are_kept_as_bounded_excerpts(self, ledger):
        planned(ledger, adjustment("a1"))
        ledger.mark_sent(AdjustmentId("a1"), request="q" * 10_000, at=T0)
        ledger.mark_outcome(
            AdjustmentId("a1"), Outcome(AdjustmentStatus.FAILED, T0, response="r" * 10_000)
        )
        got = entry(ledger, "a1")
        assert len(got.request) == len(got.response) == EXCERPT_LIMIT
        assert got.request.startswith("qqq")

    def test_unknown_adjustments_cannot_be_marked(self, ledger):
        with pytest.raises(LedgerError):
            ledger.mark_sent(AdjustmentId("ghost"), request="{}", at=T0)
        with pytest.raises(LedgerError):
            ledger.mark_outcome(AdjustmentId("ghost"), Outcome(AdjustmentStatus.APPLIED, T0))

    def test_planning_needs_a_known_run(self, ledger):
        with pytest.raises(LedgerError):
            ledger.record_planned(RunId("ghost"), [adjustment("a1")], at=T0)

    def test_the_journal_filters_by_run_and_by_sku(self, ledger):
        planned(ledger, adjustment("a1", sku="SKU-1"), adjustment("a2", sku="SKU-2"))
        planned(ledger, adjustment("b1", sku="SKU-1"), run_id="r2")
        ids = lambda entries: [e.adjustment.adjustment_id for e in entries]  # noqa: E731
        assert ids(ledger.journal(run_id=RunId("r1"))) == ["a1", "a2"]
        assert ids(ledger.journal(sku=Sku("SKU-1"))) == ["a1", "b1"]
        assert ids(ledger.journal(run_id=RunId("r2"), sku=Sku("SKU-2"))) == []

    def test_unsettled_lists_planned_sent_and_uncertain_oldest_first(self, ledger):
        planned(ledger, adjustment("late"), at=T0 + timedelta(minutes=2))
        planned(ledger, adjustment("early"), adjustment("done"), at=T0)
        ledger.mark_sent(AdjustmentId("early"), request="{}", at=T0)
        ledger.mark_outcome(AdjustmentId("done"), Outcome(AdjustmentStatus.SKIPPED, T0))
        assert [e.adjustment.adjustment_id for e in ledger.unsettled()] == ["early", "late"]

    def test_a_support_record_is_kept_with_its_adjustment(self, ledger):
        planned(ledger, adjustment("a1"))
        assert ledger.support_record(AdjustmentId("a1")) is None
        ledger.record_support(AdjustmentId("a1"), '{"action": "update_level"}')
        assert ledger.support_record(AdjustmentId("a1")) == '{"action": "update_level"}'


class TestAgreedLevels:
    def test_agreed_levels_are_upserted_per_warehouse_and_sku(self, ledger):
        ledger.record_agreed(WH, {Sku("A"): 1, Sku("B"): 2}, at=T0)
        ledger.record_agreed(WH, {Sku("B"): 5, Sku("C"): 0}, at=T0 + timedelta(1))
        ledger.record_agreed(Warehouse("west"), {Sku("A"): 9}, at=T0, run_id=None)
        assert ledger.agreed_levels(WH) == {"A": 1, "B": 5, "C": 0}
        assert ledger.agreed_levels(Warehouse("north")) == {}


class TestLocks:
    def test_a_free_lock_is_acquired_and_a_held_one_refused(self, ledger):
        assert ledger.acquire_lock("push:east", "host-a", TTL, T0)
        assert not ledger.acquire_lock("push:east", "host-b", TTL, T0 + timedelta(minutes=4))
        assert ledger.lock_holder("push:east", T0) == "host-a"

    def test_the_holder_may_acquire_again(self, ledger):
        assert ledger.acquire_lock("push:east", "host-a", TTL, T0)
        assert ledger.acquire_lock("push:east", "host-a", TTL, T0 + timedelta(minutes=1))

    def test_a_crashed_holders_lock_is_taken_over_after_expiry(self, ledger):
        ledger.acquire_lock("push:east", "host-a", TTL, T0)
        assert ledger.acquire_lock("push:east", "host-b", TTL, T0 + TTL)
        assert ledger.lock_holder("push:east", T0 + TTL) == "host-b"
        assert not ledger.refresh_lock("push:east", "host-a", TTL, T0 + TTL)

    def test_refresh_extends_only_a_live_lease_of_the_holder(self, ledger):
        ledger.acquire_lock("push:east", "host-a", TTL, T0)
        assert ledger.refresh_lock("push:east", "host-a", TTL, T0 + timedelta(minutes=4))
        assert not ledger.acquire_lock("push:east", "host-b", TTL, T0 + timedelta(minutes=8))
        assert not ledger.refresh_lock("push:east", "host-a", TTL, T0 + timedelta(minutes=10))

    def test_only_the_holder_releases(self, ledger):
        ledger.acquire_lock("push:east", "host-a", TTL, T0)
        assert not ledger.release_lock("push:east", "host-b")
        assert ledger.release_lock("push:east", "host-a")
        assert ledger.lock_holder("push:east", T0) is None
        assert ledger.acquire_lock("push:east", "host-b", TTL, T0)

    def test_locks_are_independent_by_name(self, ledger):
        assert ledger.acquire_lock("push:east", "host-a", TTL, T0)
        assert ledger.acquire_lock("push:west", "host-b", TTL, T0)


class TestRetention:
    def test_old_history_goes_and_what_matters_stays(self, ledger):
        old, cut = T0, T0 + timedelta(days=30)
        ledger.begin_run(run("old", at=old))
        ledger.record_snapshot(
            RunId("old"), snapshot("good", 5, rejected=[bad_row(4)]), at=old, healthy=True
        )
        ledger.record_snapshot(
            RunId("old"), snapshot("stale", 1, at=old - timedelta(1)), at=old, healthy=True
        )
        ledger.record_planned(RunId("old"), [adjustment("settled"), adjustment("inflight")], at=old)
        ledger.mark_outcome(AdjustmentId("settled"), Outcome(AdjustmentStatus.APPLIED, old))
        ledger.mark_sent(AdjustmentId("inflight"), request="{}", at=old)
        ledger.record_agreed(WH, {Sku("A"): 1}, at=old)
        ledger.begin_run(run("empty", at=old))
        ledger.finish_run(RunId("empty"), status=RunStatus.HELD, summary={}, at=old)
        ledger.record_movements(
            [
                Movement(WH, Sku("A"), 3, 2, old, RunId("old")),
                Movement(WH, Sku("A"), 2, 1, cut + timedelta(1), RunId("old")),
            ]
        )

        counts = ledger.prune(cut)

        assert counts == {
            "observations": 2,
            "rejected_rows": 1,
            "adjustments": 1,
            "snapshots": 1,
            "movements": 1,
            "runs": 1,
        }
        assert [e.adjustment.adjustment_id for e in ledger.journal()] == ["inflight"]
        assert ledger.last_good_snapshot(SRC).snapshot_id == "good"
        assert ledger.agreed_levels(WH) == {"A": 1}
        assert [m.after for m in ledger.movements_for(WH, Sku("A"))] == [1]
        assert ledger.get_run(RunId("old")) is not None
        assert ledger.get_run(RunId("empty")) is None

    def test_nothing_newer_than_the_cut_is_pruned(self, ledger):
        ledger.begin_run(run())
        ledger.record_snapshot(
            RunId("r1"), snapshot("s", 1, rejected=[bad_row(1)]), at=T0, healthy=False
        )
        assert set(ledger.prune(T0).values()) == {0}


class TestDurability:
    def test_an_adjustment_in_flight_is_seen_after_a_crash(self, sql_backend):
        first = sql_backend.ledger()
        planned(first, adjustment("a1"))
        first.mark_sent(AdjustmentId("a1"), request="{}", at=T0)
        del first  # the process dies without finishing: no close, no outcome

        reopened = sql_backend.ledger()
        (got,) = reopened.unsettled()
        assert (got.adjustment.adjustment_id, got.status, got.attempts) == ("a1", "sent", 1)

    def test_a_counted_snapshot_is_still_counted_after_a_reopen(self, sql_backend):
        first = sql_backend.ledger()
        first.begin_run(run())
        first.record_planned(RunId("r1"), [], at=T0, uses=[use("sha-1")])
        del first
        assert sql_backend.ledger().counted_snapshot_ids(SRC, WH) == {"sha-1"}

    def test_two_ledgers_on_one_store_respect_each_others_lock(self, sql_backend):
        a, b = sql_backend.ledger(), sql_backend.ledger()
        assert a.acquire_lock("push:east", "host-a", TTL, T0)
        assert not b.acquire_lock("push:east", "host-b", TTL, T0 + timedelta(minutes=1))
        assert b.acquire_lock("push:east", "host-b", TTL, T0 + TTL)
        assert not a.refresh_lock("push:east", "host-a", TTL, T0 + TTL)

    def test_exactly_one_of_many_contenders_gets_the_lock(self, sql_backend):
        ledgers = [sql_backend.ledger() for _ in range(6)]
        start = threading.Barrier(len(ledgers))
        won: list[str] = []

        def contend(i: int) -> None:
            start.wait()
            if ledgers[i].acquire_lock("push:east", f"host-{i}", TTL, T0):
                won.append(f"host-{i}")

        threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(ledgers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1
        assert ledgers[0].lock_holder("push:east", T0) == won[0]


def test_datetimes_in_and_out_are_utc(ledger):
    ledger.record_agreed(WH, {Sku("A"): 1}, at=datetime.now(UTC))
    ledger.begin_run(run(at=datetime(2026, 1, 1, tzinfo=UTC)))
    assert ledger.get_run(RunId("r1")).started_at.tzinfo is not None
