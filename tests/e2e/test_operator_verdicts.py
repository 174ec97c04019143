"""A person's verdict (`resolve`) and the end of a quarantine (`release`) while ShipStation is
down: both are ledger actions, and an operator needs them exactly then.

Real runs against the emulator make the waiting change and the quarantine; the emulator is then
stopped (its port refuses connections) and the command must still succeed and be on record.
Budget: about 30 s.
"""

from __future__ import annotations

import json

import pytest
from crash_support import (
    Scenario,
    agree_on_the_first_feed,
    agreed,
    crash_world,
    journal,
    raise_one_sku_while_agreeing_fails,
    unsettled,
)
from e2e_support import FEED, World

from inventory_sync.domain.model import AdjustmentStatus

pytestmark = pytest.mark.slow
NEW = "NEW"  # in the feed, not a product in ShipStation: every push of it is refused (400)


def quarantine_new(world: World) -> None:
    """Three runs whose push of NEW is refused: the fourth holds it (max_attempts = 3)."""
    world.write_feed(FEED + f"{NEW},5\n")
    for _ in range(3):
        done = world.run("reconcile", "--json")
        assert done.code == 1, done.stderr[-2000:]  # NEW failed, the others were applied
    held = world.run("reconcile", "--json")
    assert f"sku:main/{NEW}" in [h["subject"] for h in held.json()["holds"]], held.stdout


def entries_of(world: World, sku: str) -> list[dict]:
    done = world.run("history", "--sku", sku, "--json")
    assert done.code == 0, done.stderr[-2000:]
    return done.json()["adjustments"]


class TestReleaseWhileShipStationIsDown:
    def test_a_quarantine_ends_on_record_and_the_failed_run_still_shows(self, world):
        quarantine_new(world)
        world.emulator.stop()
        down = world.run("reconcile")
        assert down.code == 4, down.stderr[-2000:]  # the outage, as status must go on saying

        done = world.run("release", NEW, "-w", "main")
        assert done.code == 0, done.stderr[-2000:]
        assert "nothing sent, the next run plans it" in done.stdout
        *failures, marker = entries_of(world, NEW)
        assert [e["status"] for e in failures] == ["failed"] * 3
        assert (marker["rule"], marker["status"]) == ("release", "skipped")
        assert marker["inventory_location_id"] == "se-11"  # where the failures were sent
        status = world.run("status", "--json")
        (main,) = json.loads(status.stdout)["warehouses"]
        assert (status.code, main["last_run"]["status"]) == (1, "failed")

    def test_an_unknown_warehouse_is_still_a_usage_error(self, world):
        world.emulator.stop()
        done = world.run("release", NEW, "-w", "north")
        assert done.code == 2, done.stderr[-2000:]
        assert "unknown warehouse 'north'; configured: main" in done.stderr


class TestReleaseWhileShipStationIsUp:
    def test_once_released_the_next_run_pushes_the_sku(self, world):
        quarantine_new(world)
        with world.emulator.state.lock:  # the cause fixed: the product now exists
            world.emulator.state.products.add(NEW)
        done = world.run("release", NEW, "-w", "main")
        assert done.code == 0, done.stderr[-2000:]
        after = world.run("reconcile", "--json")
        assert (after.code, after.json()["applied"]) == (0, 1), after.stderr[-2000:]
        assert world.on_hand()[NEW] == 5


class TestResolveWhileShipStationIsDown:
    @pytest.mark.parametrize(
        ("verdict", "status"), [("--applied", "applied"), ("--not-applied", "failed")]
    )
    def test_a_verdict_on_a_change_left_unsettled_is_recorded(self, tmp_path, verdict, status):
        scenario = Scenario("delta", seed=53, skus=10, latency_ms=0)
        with crash_world(tmp_path, scenario) as (world, first):
            agree_on_the_first_feed(world)
            target = raise_one_sku_while_agreeing_fails(world, first)  # SKU-003, sent
            (waiting,) = unsettled(world)
            world.emulator.stop()
            done = world.run("resolve", waiting.adjustment.adjustment_id, verdict, "--json")
            assert done.code == 0, done.stderr[-2000:]
            assert done.json()["status"] == status
            (entry,) = [
                e
                for e in journal(world)
                if e.adjustment.adjustment_id == waiting.adjustment.adjustment_id
            ]
            assert entry.status is AdjustmentStatus(status)
            assert unsettled(world) == []
            assert agreed(world)["SKU-003"] == (
                target["SKU-003"] if verdict == "--applied" else first["SKU-003"]
            )
