"""`inventory-sync run` keeps ShipStation true to the feed, alone or beside a one-shot run."""

from __future__ import annotations

import json
import signal

from daemon_support import SKUS, START_BOUND, make_world, wait_for

from inventory_sync.domain.model import AdjustmentStatus

CYCLE = 1 + 2  # seconds: the source's interval plus [daemon] reconcile_interval


class TestFeedToShipStation:
    def test_a_feed_change_reaches_the_emulator_within_two_cycles(self, world):
        daemon = world.start()
        try:
            world.write_feed(dict.fromkeys(SKUS, 10) | {"RED": 12})
            wait_for(lambda: world.on_hand()["RED"] == 12, START_BOUND, "the first push")
            world.write_feed(dict.fromkeys(SKUS, 10) | {"RED": 12, "BLUE": 3})
            wait_for(lambda: world.on_hand()["BLUE"] == 3, 2 * CYCLE, "BLUE to reach 3")
        finally:
            assert daemon.stop() == 0

    def test_every_pushed_adjustment_is_applied_in_the_ledger(self, world):
        daemon = world.start()
        try:
            world.write_feed(dict.fromkeys(SKUS, 10) | {"GOLD": 4})
            wait_for(lambda: world.on_hand()["GOLD"] == 4, START_BOUND, "GOLD to reach 4")
        finally:
            assert daemon.stop() == 0
        with world.ledger() as ledger:
            gold = [e for e in ledger.journal() if e.adjustment.sku == "GOLD"]
        assert [e.status for e in gold] == [AdjustmentStatus.APPLIED]


class TestReload:
    def test_a_broken_config_on_sighup_is_refused_and_the_old_one_kept(self, world):
        daemon = world.start()
        try:
            daemon.wait_event("daemon.started", START_BOUND)
            world.write_config(extra='drift_scan = "whenever"')
            daemon.signal(signal.SIGHUP)
            (failed,) = daemon.wait_event("config.reload_failed")
            assert any("daemon.drift_scan" in problem for problem in failed["problems"])
            world.write_feed(dict.fromkeys(SKUS, 10) | {"TEAL": 1})
            wait_for(lambda: world.on_hand()["TEAL"] == 1, 4 * CYCLE, "TEAL after the reload")
            assert daemon.process.poll() is None
        finally:
            assert daemon.stop() == 0
        assert daemon.named("config.reloaded") == []

    def test_a_valid_config_on_sighup_is_taken(self, world):
        daemon = world.start()
        try:
            daemon.wait_event("daemon.started", START_BOUND)
            world.write_config(extra="stale_after_intervals = 5")
            daemon.signal(signal.SIGHUP)
            (reloaded,) = daemon.wait_event("config.reloaded")
            assert reloaded["sources"] == ["feed"]
            world.write_feed(dict.fromkeys(SKUS, 10) | {"PINK": 2})
            wait_for(lambda: world.on_hand()["PINK"] == 2, 4 * CYCLE, "PINK after the reload")
        finally:
            assert daemon.stop() == 0


class TestOnePusherPerWarehouse:
    def test_a_one_shot_run_beside_a_pushing_daemon_skips_the_warehouse(self, tmp_path):
        skus = [f"SKU-{n:03d}" for n in range(300)]
        world = make_world(tmp_path, skus, latency_ms=200)
        try:
            daemon = world.start()
            world.write_feed(dict.fromkeys(skus, 25))
            # The daemon's push takes seconds at 200 ms a request: start the one-shot inside it.
            wait_for(lambda: _posts(world), START_BOUND, "the daemon's first adjustment")
            one_shot = world.run("reconcile", "--json")
            pushing = daemon.process.poll() is None
            assert daemon.stop() == 0
        finally:
            world.close()
        assert pushing
        assert one_shot.returncode == 5, one_shot.stderr
        summary = json.loads(one_shot.stdout)
        assert summary["planned"] == 0
        assert any(h["subject"] == "warehouse:main" for h in summary["holds"])
        with world.ledger() as ledger:
            daemon_ids = {
                e.adjustment.adjustment_id
                for run in ledger.list_runs(500)
                if run.trigger == "daemon:main"
                for e in ledger.journal(run_id=run.run_id)
            }
        sent = {post.body["notes"].split()[-1] for post in _posts(world)}
        assert sent <= daemon_ids  # nothing reached ShipStation but the daemon's own


def _posts(world):
    return [e for e in world.emulator.applied() if e.method == "POST"]


class TestTwoDaemons:
    def test_two_daemons_on_one_ledger_never_push_the_same_warehouse_at_once(self, tmp_path):
        skus = [f"SKU-{n:03d}" for n in range(200)]
        world = make_world(tmp_path, skus, latency_ms=100)
        try:
            first, second = world.start(), world.start()
            world.write_feed(dict.fromkeys(skus, 25))
            wait_for(lambda: set(world.on_hand().values()) == {25}, 4 * START_BOUND, "the push")
            assert first.stop() == 0
            assert second.stop() == 0
        finally:
            world.close()
        # Each adjustment reached ShipStation once, from whichever daemon held the lock.
        noted = [post.body["notes"].split()[-1] for post in _posts(world)]
        assert len(noted) == len(set(noted)) == len(skus)
        assert all(post.count == 1 for post in _posts(world))
        busy = first.named("warehouse.busy") + second.named("warehouse.busy")
        assert busy  # the other one found the warehouse taken at least once


class TestStartAndStop:
    def test_sigint_stops_it_like_sigterm(self, world):
        daemon = world.start()
        daemon.wait_event("daemon.started", START_BOUND)
        daemon.signal(signal.SIGINT)
        assert daemon.process.wait(timeout=20) == 0
        assert daemon.named("daemon.stopped")[0]["signal"] == "SIGINT"

    def test_an_invalid_configuration_exits_2_before_anything_starts(self, world):
        world.write_config('stuck_after = "soon"')
        daemon = world.start()
        assert daemon.process.wait(timeout=START_BOUND) == 2
        assert daemon.named("daemon.started") == []

    def test_shipstation_unreachable_at_start_exits_4_for_systemd_to_retry(self, world):
        world.emulator.stop()
        daemon = world.start()
        assert daemon.process.wait(timeout=120) == 4
        assert daemon.named("daemon.started") == []
