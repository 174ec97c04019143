"""Repeated runs against an emulator injecting 5xx, lost acknowledgements and 429 bursts."""

from __future__ import annotations

import random
from collections import Counter

from crash_support import (
    DELTA_TYPES,
    LOCATION,
    Scenario,
    agree_on_the_first_feed,
    applied_by_id,
    applied_of_kind,
    changed_feed,
    crash_world,
    deltas_applied_twice,
    differences,
    feed_text,
    history,
    journal,
    ledger_disagrees,
    quiet,
    raise_one_sku_while_agreeing_fails,
    run_failing_reads_until,
    run_until_quiet,
    unaccounted,
    unsettled,
)
from e2e_support import Result, World

from inventory_sync.domain.model import AdjustmentStatus
from inventory_sync.shipstation.emulator.settings import FaultSettings
from inventory_sync.shipstation.models import InventoryUpdate

MAX_RUNS = 8  # per feed: the runs it may take to converge
UNANSWERED = None  # the emulator's record of a request whose connection it dropped


def faulty(mode: str, seed: int) -> Scenario:
    """About 5% 503s (half of them after the change was made), 5% lost acknowledgements of
    writes, 2% connections dropped before anything happened, and 3% chance of a burst of three
    429s, all seeded."""
    faults = FaultSettings(
        latency_ms=20,
        error_rate=0.05,
        lost_ack_rate=0.05,
        drop_before_rate=0.02,
        burst_429_rate=0.03,
        burst_429_length=3,
        burst_retry_after=1,
        seed=seed,
    )
    return Scenario(mode, seed=seed, skus=50, faults=faults)


def converge(world: World, target: dict[str, int], scenario: Scenario, what: str) -> list[Result]:
    """Run until quiet and check the world reached ``target``; ``what`` names the phase."""
    results = run_until_quiet(world, max_runs=MAX_RUNS)
    why = f"{scenario.describe()} {what} (replay with this seed)\n{history(results)}"
    assert quiet(results), f"{why}\nlast stderr:\n{results[-1].stderr[-3000:]}"
    assert differences(world, target) == {}, why
    return results


def faults_seen(world: World) -> Counter:
    return Counter(seen.status for seen in world.emulator.requests)


class TestRepeatedRunsUnderFaults:
    def test_mirror_runs_converge_to_the_feed_and_every_adjustment_ends_accounted_for(
        self, tmp_path
    ):
        scenario = faulty("mirror", seed=41)
        rng = random.Random(f"{scenario.seed}:feeds")
        with crash_world(tmp_path, scenario) as (world, first):
            converge(world, first, scenario, "first feed")
            target = changed_feed(first, rng)
            world.write_feed(feed_text(target))
            converge(world, target, scenario, "changed feed")
            entries, statuses = journal(world), faults_seen(world)
            why = f"{scenario.describe()} statuses {dict(statuses)}"
            assert unaccounted(entries) == [], why
            assert all(statuses[code] for code in (503, 429, UNANSWERED)), why

    def test_delta_runs_converge_with_no_change_applied_twice(self, tmp_path):
        scenario = faulty("delta", seed=42)
        rng = random.Random(f"{scenario.seed}:feeds")
        with crash_world(tmp_path, scenario) as (world, first):
            converge(world, first, scenario, "first sight")
            target = first
            for change in range(2):  # two rounds of increments and decrements
                target = changed_feed(target, rng)
                world.write_feed(feed_text(target))
                converge(world, target, scenario, f"change {change + 1}")
            entries, statuses = journal(world), faults_seen(world)
            kinds = Counter(kind for kind, _ in applied_by_id(world.emulator).values())
            read_back = [e for e in entries if (e.response or "").startswith("read back")]
            why = f"{scenario.describe()} statuses {dict(statuses)} applied {dict(kinds)}"
            assert deltas_applied_twice(world.emulator) == {}, why
            assert ledger_disagrees(entries, world.emulator, kinds=DELTA_TYPES) == [], why
            assert unaccounted(entries) == [], why
            assert all(statuses[code] for code in (503, 429, UNANSWERED)), why
            assert kinds["increment"], why
            assert kinds["decrement"], why
            assert read_back, f"no outcome was settled by reading back; {why}"


def raise_one_sku_and_die_as_it_lands(world: World, first: dict[str, int]) -> dict[str, int]:
    """Agree on the first feed, then raise one SKU by 2 in a run that dies right after the
    increment landed, leaving it `sent` in the ledger."""
    agree_on_the_first_feed(world)
    target = raise_one_sku_while_agreeing_fails(world, first)
    assert [e.status for e in unsettled(world)] == [AdjustmentStatus.SENT]
    return target


class TestReadBackFailingAtStart:
    def test_a_sku_whose_landed_delta_could_not_be_read_back_is_not_moved_again(self, tmp_path):
        scenario = Scenario("delta", seed=51, skus=10, latency_ms=0, check_mapping=False)
        with crash_world(tmp_path, scenario) as (world, first):
            target = raise_one_sku_and_die_as_it_lands(world, first)
            code, deferred = run_failing_reads_until(
                world, "adjustment.settle_deferred", log=tmp_path / "restart.log"
            )
            assert deferred, f"{scenario.describe()}: exit {code}, settle never gave up"
            restart_log = (tmp_path / "restart.log").read_text(encoding="utf-8")
            assert '"event": "sku.held"' in restart_log, scenario.describe()
            results = run_until_quiet(world, max_runs=3)
            increments = applied_of_kind(world.emulator, "increment")
            why = f"{scenario.describe()}\n{history(results)}"
            assert differences(world, target) == {}, why
            assert len(increments) == 1, why


class TestUndecidableOutcomesAtStart:
    def test_a_delta_left_for_review_is_not_pushed_again_by_the_next_plan(self, tmp_path):
        scenario = Scenario("delta", seed=52, skus=10, latency_ms=0)
        with crash_world(tmp_path, scenario) as (world, first):
            target = raise_one_sku_and_die_as_it_lands(world, first)
            sale = InventoryUpdate("decrement", "SKU-003", 1, LOCATION, notes="a sale")
            world.emulator.state.apply_update(sale)  # lands before the restart reads back
            results = run_until_quiet(world, max_runs=3)
            review = [e for e in journal(world) if e.status is AdjustmentStatus.NEEDS_REVIEW]
            increments = applied_of_kind(world.emulator, "increment")
            why = f"{scenario.describe()}\n{history(results)}"
            assert [e.adjustment.sku for e in review] == ["SKU-003"], why
            assert len(increments) == 1, why
            assert world.on_hand()["SKU-003"] == target["SKU-003"] - 1, why
