"""A replica's run writes only under a current fence, and says which fence in every request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_service import MAIN, Harness, all_at

from inventory_sync import service
from inventory_sync.domain.model import AdjustmentStatus, RunStatus
from inventory_sync.errors import LeaseLost
from inventory_sync.ports import Fence

LEASE = "push:account:default"
TTL = timedelta(seconds=20)


def fence_for(h: Harness, holder: str = "replica-a", **kw) -> Fence:
    lease = h.ledger.take_lease(LEASE, holder, TTL, h.clock.now())
    assert lease is not None
    return Fence(lease.name, lease.holder, lease.fence, **kw)


class TestFencedPush:
    def test_a_current_fence_pushes_and_every_request_names_it_before_the_id(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        fence = fence_for(h, margin=timedelta(seconds=5))
        report = service.reconcile(h.app(), service.RunOptions(fence=fence))
        assert report.status is RunStatus.SUCCEEDED
        (sent,) = h.inventory.sent
        entry = report.entries[0]
        assert sent.notes == f"inventory-sync fence={LEASE}#1 {entry.adjustment.adjustment_id}"

    def test_a_superseded_fence_records_nothing_sends_nothing_and_fails_the_run(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        old = fence_for(h)
        h.clock.advance(TTL * 2)
        fence_for(h, holder="replica-b")  # the lease ran out and another replica took it
        with pytest.raises(LeaseLost):
            service.reconcile(h.app(), service.RunOptions(fence=old))
        assert h.inventory.sent == []
        assert h.ledger.journal() == []
        assert h.ledger.list_runs()[0].status is RunStatus.FAILED

    def test_a_lease_the_holder_sees_run_out_mid_push_stops_sending_and_recording(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15, "SKU-02": 3, "SKU-03": 4}))
        answers = iter([True, True])  # the first adjustment's two checks pass, then no more
        fence = fence_for(h, still_held=lambda: next(answers, False))
        with pytest.raises(LeaseLost, match="renewal is overdue"):
            service.reconcile(h.app(), service.RunOptions(fence=fence))
        assert len(h.inventory.sent) == 1
        statuses = sorted(e.status.value for e in h.ledger.journal())
        # The one that left is recorded sent, not applied, and no level is agreed: the lease's
        # next holder reads it back, and may have agreed newer levels by the time this one
        # would have written. The others never left this process.
        assert statuses == ["planned", "planned", "sent"]
        assert h.ledger.agreed_levels(MAIN) == {}

    def test_a_lease_lost_after_the_push_writes_no_levels(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        answers = iter([True, True, True])  # send, before_send, outcome; then lost
        fence = fence_for(h, still_held=lambda: next(answers, False))
        with pytest.raises(LeaseLost):
            service.reconcile(h.app(), service.RunOptions(fence=fence))
        assert len(h.inventory.sent) == 1
        # Only the change's own agreed level; a completed run would agree all twelve SKUs.
        assert h.ledger.agreed_levels(MAIN) == {"SKU-01": 15}

    def test_a_replica_paused_between_its_checks_sends_nothing_after_it(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        answers = iter([True])  # passes the ledger's check, then finds the lease gone at send
        fence = fence_for(h, still_held=lambda: next(answers, False))
        with pytest.raises(LeaseLost):
            service.reconcile(h.app(), service.RunOptions(fence=fence))
        assert h.inventory.sent == []
        (entry,) = h.ledger.journal()
        assert entry.status is AdjustmentStatus.SENT  # read back by the next holder


class TestWarehouseLocksOfReplicas:
    def test_a_lock_left_under_an_older_fence_is_taken_over_at_once(self):
        h = Harness()
        h.feed(all_at(10, **{"SKU-01": 15}))
        lock_ttl = TTL * 100  # still running: only the fence can free it
        h.ledger.acquire_lock("push:main", f"elsewhere:1:run-x@{LEASE}#1", lock_ttl, h.clock.now())
        h.clock.advance(TTL * 2)
        fence = fence_for(h, holder="replica-b")  # fence 1: a first holder
        h.clock.advance(TTL * 2)
        newer = fence_for(h, holder="replica-c")  # fence 2: the lock's holder is fenced out
        assert (fence.number, newer.number) == (1, 2)
        report = service.reconcile(h.app(), service.RunOptions(fence=newer))
        assert (report.busy, len(h.inventory.sent)) == (False, 1)

    def test_a_lock_held_under_the_current_fence_or_by_a_one_shot_run_is_respected(self):
        for other in (f"elsewhere:1:run-x@{LEASE}#1", "elsewhere:1:run-cli"):
            h = Harness()
            h.feed(all_at(10, **{"SKU-01": 15}))
            fence = fence_for(h)
            h.ledger.acquire_lock("push:main", other, TTL * 10, h.clock.now())
            report = service.reconcile(h.app(), service.RunOptions(fence=fence))
            assert (report.busy, h.inventory.sent) == (True, [])
