"""Stopping: SIGTERM mid-push sends nothing more, records every outcome, and exits 0 in time."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from daemon_support import START_BOUND, STOP_TIMEOUT, make_world, wait_for

from inventory_sync.domain.model import AdjustmentStatus

SKUS = [f"SKU-{n:03d}" for n in range(300)]
NOT_SENT = {AdjustmentStatus.PLANNED, AdjustmentStatus.SENT}


@pytest.fixture
def slow_world(tmp_path):
    # 300 adjustments at 200 ms each, 8 at a time: a push of several seconds to interrupt.
    world = make_world(tmp_path, SKUS, latency_ms=200)
    try:
        yield world
    finally:
        world.close()


class TestStopDuringAPush:
    def test_sigterm_mid_push_exits_zero_within_the_bound(self, slow_world):
        daemon = slow_world.start()
        slow_world.write_feed(dict.fromkeys(SKUS, 25))
        wait_for(lambda: _posts(slow_world) >= 5, START_BOUND, "the push to start")
        asked = time.monotonic()
        code = daemon.stop()
        assert code == 0
        assert time.monotonic() - asked < STOP_TIMEOUT
        assert _posts(slow_world) < len(SKUS)  # it stopped sending, rather than finishing

    def test_the_ledger_is_consistent_after_the_stop(self, slow_world):
        daemon = slow_world.start()
        slow_world.write_feed(dict.fromkeys(SKUS, 25))
        wait_for(lambda: _posts(slow_world) >= 5, START_BOUND, "the push to start")
        assert daemon.stop() == 0
        with slow_world.ledger() as ledger:
            journal = ledger.journal()
            holder = ledger.lock_holder("push:main", datetime.now(UTC))
        assert journal
        assert [e for e in journal if e.status in NOT_SENT] == []
        applied = {e.adjustment.sku for e in journal if e.status is AdjustmentStatus.APPLIED}
        on_hand = slow_world.on_hand()
        assert applied == {sku for sku in SKUS if on_hand[sku] == 25}
        assert holder is None  # the daemon's lock went with it

    def test_the_interrupted_run_is_recorded_as_stopped(self, slow_world):
        daemon = slow_world.start()
        slow_world.write_feed(dict.fromkeys(SKUS, 25))
        wait_for(lambda: _posts(slow_world) >= 5, START_BOUND, "the push to start")
        assert daemon.stop() == 0
        finished = [e for e in daemon.named("run.finished") if e["status"] == "failed"]
        assert any("the service is stopping" in (e["error"] or "") for e in finished)
        assert daemon.named("daemon.stopped")


def _posts(world) -> int:
    return sum(1 for e in world.emulator.applied() if e.method == "POST")


class TestStopBound:
    def test_jobs_that_outlive_stop_timeout_do_not_keep_the_process(self, slow_world):
        # Settling the interrupted push reads back at 200 ms a request: longer than 0.2 s.
        slow_world.write_config(stop_timeout="0.2s")
        daemon = slow_world.start()
        slow_world.write_feed(dict.fromkeys(SKUS, 25))
        wait_for(lambda: _posts(slow_world) >= 5, START_BOUND, "the push to start")
        assert daemon.stop() == 0
        (timed_out,) = daemon.named("daemon.stop_timed_out")
        assert timed_out["running_jobs"] == ["reconcile:main"]
        assert daemon.named("daemon.stopped") == []
