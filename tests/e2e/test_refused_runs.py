"""Runs ShipStation refuses are recorded with their error, `status` turns unhealthy, and the
exit code and `--json` status agree on each kind of failure.

Budget: about 60 s on a quiet machine (five scenarios of three or four commands; the 429 one
sits out ten 1-second Retry-After pauses).
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

import pytest
from e2e_support import make_world
from terminal import set_faults

from inventory_sync.daemon.health import Unhealthy
from inventory_sync.ledger.repository import open_ledger

WRONG_KEY = "wrong-key-0c4f9e2b"
PLAN_REFUSED_KEY = "no-addon-key-7d2a91"


def failed_run(world, result):
    """The run the refused command recorded, as `history --json` shows it."""
    run_id = result.json()["run_id"]
    assert run_id, result.stdout
    runs = world.run("history", "--json").json()["runs"]
    (run,) = [r for r in runs if r["run_id"] == run_id]
    return run


def assert_unhealthy_for(world, run_id):
    status = world.run("status", "--json")
    assert status.code == 1, status.stdout
    found = status.json()
    assert Unhealthy.RUN_FAILED.value in found["conditions"]
    (problem,) = [p for p in found["problems"] if p.startswith("warehouse main:")]
    assert run_id in problem


@pytest.fixture
def refusing_world(tmp_path):
    world = make_world(
        tmp_path, f"sqlite:///{tmp_path / 'ledger.db'}", plan_refused_keys=(PLAN_REFUSED_KEY,)
    )
    try:
        yield world
    finally:
        world.emulator.stop()


class TestARefusedRunIsRecorded:
    def test_every_request_answering_503_exits_4_recorded_failed_with_its_support_record(
        self, refusing_world
    ):
        world = refusing_world
        set_faults(world, error_rate=1.0, error_after_commit_share=0.0)
        result = world.run("reconcile", "-w", "main", "--json")
        assert result.code == 4, result.stderr[-2000:]
        run = failed_run(world, result)
        assert (run["status"], run["status_code"], run["error_type"]) == (
            "failed",
            503,
            "ServerError",
        )
        assert "503" in run["error"]
        set_faults(world, error_rate=0.0)
        assert_unhealthy_for(world, run["run_id"])
        bundle = world.run("support-bundle", run["run_id"])
        assert bundle.code == 0, bundle.stderr
        assert f"=== run {run['run_id']}: failed" in bundle.stdout
        assert "503" in bundle.stdout

    @pytest.mark.parametrize(
        ("key", "error_type"), [(WRONG_KEY, "AuthError"), (PLAN_REFUSED_KEY, "PlanError")]
    )
    def test_a_refused_key_exits_4_and_is_recorded_failed(self, refusing_world, key, error_type):
        world = refusing_world
        env = {"INVENTORY_SYNC_SHIPSTATION__API_KEY": key}
        result = world.run("reconcile", "-w", "main", "--json", env=env)
        assert result.code == 4, result.stderr[-2000:]
        run = failed_run(world, result)
        assert (run["status"], run["error_type"]) == ("failed", error_type)
        assert key not in str(run)
        assert_unhealthy_for(world, run["run_id"])


class TestExitCodesAgree:
    def test_429_past_every_pause_exits_4_saying_how_long_it_waited(self, refusing_world):
        world = refusing_world
        set_faults(world, burst_429_rate=1.0, burst_429_length=1, burst_retry_after=1)
        result = world.run("reconcile", "-w", "main", "--json")
        assert result.code == 4, result.stderr[-2000:]
        error = result.json()["error"]
        assert "after waiting 10 s over 10 Retry-After pause(s)" in error, error
        run = failed_run(world, result)
        assert (run["status"], run["error_type"]) == ("failed", "RateLimited")
        set_faults(world, burst_429_rate=0.0)
        assert_unhealthy_for(world, run["run_id"])

    def test_a_run_that_skipped_a_busy_warehouse_does_not_hide_its_failed_run(self, refusing_world):
        world = refusing_world
        set_faults(world, error_rate=1.0, error_after_commit_share=0.0)
        failed = failed_run(world, world.run("reconcile", "-w", "main", "--json"))
        set_faults(world, error_rate=0.0)
        ledger = open_ledger(world.ledger_url, migrate=True)
        try:
            holder = f"{socket.gethostname()}:{os.getpid()}:run-elsewhere"  # alive: this test
            assert ledger.acquire_lock("push:main", holder, timedelta(minutes=5), datetime.now(UTC))
            busy = world.run("reconcile", "-w", "main", "--json")
        finally:
            ledger.close()
        assert busy.code == 5, busy.stderr[-2000:]
        assert failed_run(world, busy)["busy_warehouses"] == "main"
        assert_unhealthy_for(world, failed["run_id"])  # main's last run is still the failed one

    def test_a_warehouse_another_process_pushes_to_is_skipped_exit_5_status_busy(self, world):
        ledger = open_ledger(world.ledger_url, migrate=True)
        try:
            holder = f"{socket.gethostname()}:{os.getpid()}:run-elsewhere"  # alive: this test
            now = datetime.now(UTC)
            assert ledger.acquire_lock("push:main", holder, timedelta(minutes=5), now)
            result = world.run("reconcile", "--json")
        finally:
            ledger.close()
        assert result.code == 5, result.stderr[-2000:]
        summary = result.json()
        assert summary["status"] == "busy"
        assert any(h["subject"] == "warehouse:main" for h in summary["holds"])
        assert world.on_hand()["RED"] == 10  # nothing pushed
