"""The Leases contract: fenced leases and heartbeats behave alike in memory, SQLite, PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentId,
    AdjustmentStatus,
    LocationId,
    RunId,
    RunRecord,
    Sku,
    SnapshotUse,
    SourceName,
    TransactionType,
    Warehouse,
)
from inventory_sync.errors import LeaseLost
from inventory_sync.ports import Fence, Replica

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TTL = timedelta(seconds=20)
NAME = "push:account:default"


def fence_of(lease, margin: timedelta = timedelta(0)) -> Fence:
    return Fence(lease.name, lease.holder, lease.fence, margin)


def adjustment(adjustment_id: str = "a1") -> Adjustment:
    return Adjustment(
        adjustment_id=AdjustmentId(adjustment_id),
        warehouse=Warehouse("east"),
        location_id=LocationId("loc-1"),
        sku=Sku("SKU-1"),
        transaction_type=TransactionType.INCREMENT,
        quantity=2,
        before=3,
        after=5,
        rule="source-wins",
        basis={},
    )


def begin(ledger) -> RunId:
    ledger.begin_run(RunRecord(run_id=RunId("r1"), started_at=T0, trigger="daemon"))
    return RunId("r1")


class TestTakingLeases:
    def test_the_first_holder_gets_fence_one_and_a_contender_is_refused(self, ledger):
        lease = ledger.take_lease(NAME, "a", TTL, T0)
        assert (lease.holder, lease.fence, lease.expires_at) == ("a", 1, T0 + TTL)
        assert ledger.take_lease(NAME, "b", TTL, T0 + TTL / 2) is None

    def test_taking_our_own_lease_again_extends_it_under_the_same_fence(self, ledger):
        ledger.take_lease(NAME, "a", TTL, T0)
        again = ledger.take_lease(NAME, "a", TTL, T0 + timedelta(seconds=5))
        assert (again.fence, again.expires_at) == (1, T0 + timedelta(seconds=5) + TTL)

    def test_an_expired_lease_goes_to_the_next_holder_with_a_higher_fence(self, ledger):
        ledger.take_lease(NAME, "a", TTL, T0)
        taken = ledger.take_lease(NAME, "b", TTL, T0 + TTL)
        assert (taken.holder, taken.fence) == ("b", 2)
        # Even the old holder coming back gets a new number: its old work stays fenced out.
        back = ledger.take_lease(NAME, "a", TTL, T0 + 3 * TTL)
        assert (back.holder, back.fence) == ("a", 3)

    def test_renewing_extends_only_a_current_unexpired_lease(self, ledger):
        lease = ledger.take_lease(NAME, "a", TTL, T0)
        renewed = ledger.renew_lease(lease, TTL, T0 + timedelta(seconds=10))
        assert renewed.expires_at == T0 + timedelta(seconds=10) + TTL
        assert ledger.renew_lease(lease, TTL, T0 + timedelta(seconds=10) + TTL) is None
        ledger.take_lease(NAME, "b", TTL, T0 + 3 * TTL)
        assert ledger.renew_lease(lease, TTL, T0 + 3 * TTL) is None

    def test_a_released_lease_is_free_at_once_and_keeps_counting(self, ledger):
        lease = ledger.take_lease(NAME, "a", TTL, T0)
        assert ledger.release_lease(lease, T0 + timedelta(seconds=1))
        assert not ledger.release_lease(lease, T0 + timedelta(seconds=1))
        assert ledger.take_lease(NAME, "b", TTL, T0 + timedelta(seconds=1)).fence == 2

    def test_leases_and_their_history_are_listed(self, ledger):
        ledger.take_lease(NAME, "a", TTL, T0)
        ledger.take_lease(NAME, "b", TTL, T0 + TTL)
        ledger.take_lease("pull:erp", "a", TTL, T0)
        assert [(x.name, x.holder, x.fence) for x in ledger.leases()] == [
            ("pull:erp", "a", 1),
            (NAME, "b", 2),
        ]
        assert [(x.holder, x.fence, x.acquired_at) for x in ledger.lease_history(NAME)] == [
            ("a", 1, T0),
            ("b", 2, T0 + TTL),
        ]


class TestFencedWrites:
    def test_a_current_fence_lets_planning_and_sending_through(self, ledger):
        run_id = begin(ledger)
        fence = fence_of(ledger.take_lease(NAME, "a", TTL, T0))
        ledger.record_planned(run_id, [adjustment()], at=T0, fence=fence)
        ledger.mark_sent(AdjustmentId("a1"), request="{}", at=T0, fence=fence)
        assert ledger.journal()[0].status is AdjustmentStatus.SENT

    def test_planning_under_a_superseded_fence_writes_nothing(self, ledger):
        run_id = begin(ledger)
        old = fence_of(ledger.take_lease(NAME, "a", TTL, T0))
        ledger.take_lease(NAME, "b", TTL, T0 + TTL)
        with pytest.raises(LeaseLost, match="fence 1"):
            ledger.record_planned(run_id, [adjustment()], at=T0 + TTL, fence=old)
        assert ledger.journal() == []

    def test_a_change_snapshot_is_not_counted_under_a_superseded_fence(self, ledger):
        run_id = begin(ledger)
        old = fence_of(ledger.take_lease(NAME, "a", TTL, T0))
        ledger.take_lease(NAME, "b", TTL, T0 + TTL)
        counted = SnapshotUse(SourceName("changes"), "sha-1", Warehouse("east"))
        with pytest.raises(LeaseLost):
            ledger.record_planned(run_id, [], at=T0 + TTL, fence=old, uses=[counted])
        assert ledger.counted_snapshot_ids(SourceName("changes"), Warehouse("east")) == set()

    def test_sending_is_refused_once_the_lease_has_less_than_its_margin_left(self, ledger):
        run_id = begin(ledger)
        fence = fence_of(ledger.take_lease(NAME, "a", TTL, T0), margin=timedelta(seconds=5))
        ledger.record_planned(run_id, [adjustment()], at=T0, fence=fence)
        with pytest.raises(LeaseLost, match="runs out"):
            ledger.mark_sent(
                AdjustmentId("a1"), request="{}", at=T0 + TTL - timedelta(seconds=4), fence=fence
            )
        assert ledger.journal()[0].status is AdjustmentStatus.PLANNED

    def test_a_fence_for_a_lease_never_taken_is_refused(self, ledger):
        run_id = begin(ledger)
        with pytest.raises(LeaseLost):
            ledger.record_planned(run_id, [adjustment()], at=T0, fence=Fence(NAME, "a", 1))


class TestReplicas:
    def test_a_heartbeat_records_and_refreshes_a_replica_until_it_is_forgotten(self, ledger):
        first = Replica("h:1:x", "h", 1, T0, T0)
        ledger.beat(first)
        ledger.beat(Replica("h:1:x", "h", 1, T0, T0 + timedelta(seconds=5)))
        ledger.beat(Replica("g:2:y", "g", 2, T0 + timedelta(1), T0 + timedelta(1)))
        assert ledger.replicas() == [
            Replica("h:1:x", "h", 1, T0, T0 + timedelta(seconds=5)),
            Replica("g:2:y", "g", 2, T0 + timedelta(1), T0 + timedelta(1)),
        ]
        ledger.forget_replica("h:1:x")
        assert [r.replica_id for r in ledger.replicas()] == ["g:2:y"]


class TestSharedStore:
    def test_exactly_one_of_many_contenders_takes_a_free_lease(self, sql_backend):
        ledgers = [sql_backend.ledger() for _ in range(6)]
        start = threading.Barrier(len(ledgers))
        won: list[int] = []

        def contend(i: int) -> None:
            start.wait()
            if ledgers[i].take_lease(NAME, f"r{i}", TTL, T0) is not None:
                won.append(i)

        threads = [threading.Thread(target=contend, args=(i,)) for i in range(len(ledgers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(won) == 1
        assert [x.fence for x in ledgers[0].lease_history(NAME)] == [1]

    def test_a_takeover_on_another_connection_fences_the_old_holder_out(self, sql_backend):
        a, b = sql_backend.ledger(), sql_backend.ledger()
        run_id = begin(a)
        old = fence_of(a.take_lease(NAME, "a", TTL, T0))
        assert b.take_lease(NAME, "b", TTL, T0 + TTL).fence == 2
        with pytest.raises(LeaseLost):
            a.record_planned(run_id, [adjustment()], at=T0, fence=old)
