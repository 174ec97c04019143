"""`reconcile` SIGKILLed at seeded points of its push, restarted: ends at the feed, none twice."""

from __future__ import annotations

import random

import pytest
from crash_support import (
    DELTA_TYPES,
    Kill,
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
    observed_movements,
    quiet,
    raise_one_sku_while_agreeing_fails,
    run_and_kill,
    run_until_quiet,
    summary,
    unaccounted,
    wait_until_idle,
)
from e2e_support import World

from inventory_sync.domain.model import AdjustmentStatus

# 20 kill runs in all: each world is one chain of kills, so a restart is often killed too.
SCENARIOS = [Scenario("delta", seed=11, kills=13), Scenario("mirror", seed=13, kills=7)]
SPARE_CYCLES = 5  # runs that finish before their kill lands are retried, within this bound


def kill_repeatedly(
    world: World, scenario: Scenario, target: dict[str, int], tmp
) -> tuple[list[Kill], dict[str, int]]:
    """Kill runs until ``scenario.kills`` landed; the feed changes before about half of them,
    and always after a run that finished unkilled. Returns the kills and the final feed."""
    rng = random.Random(f"{scenario.seed}:kills")
    kills: list[Kill] = []
    for cycle in range(scenario.kills + SPARE_CYCLES):
        if sum(k.killed for k in kills) >= scenario.kills:
            break
        if kills and (not kills[-1].killed or rng.random() < 0.5):
            target = changed_feed(target, rng)
            world.write_feed(feed_text(target))
        pending = len(differences(world, target))
        kills.append(run_and_kill(world, rng, pending=pending, log=tmp / f"run-{cycle}.log"))
        wait_until_idle(world.emulator)
        twice = deltas_applied_twice(world.emulator)
        assert not twice, (scenario.describe(), twice, [k.describe() for k in kills])
    return kills, target


@pytest.mark.slow
class TestKilledDuringAPush:
    @pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
    def test_restarts_after_each_kill_reach_the_feed_with_no_change_applied_twice(
        self, tmp_path, scenario
    ):
        with crash_world(tmp_path, scenario) as (world, first):
            kills, target = kill_repeatedly(world, scenario, first, tmp_path)
            results = run_until_quiet(world, max_runs=4)
            entries = journal(world)
            landed = applied_by_id(world.emulator)
            why = (
                f"{scenario.describe()} (replay with this seed)\nkills: "
                + "; ".join(k.describe() for k in kills)
                + f"\nruns after the kills:\n{history(results)}\nlast stderr:\n"
                + results[-1].stderr[-3000:]
            )
            assert sum(k.killed for k in kills) >= scenario.kills, why
            assert quiet(results), why
            assert differences(world, target) == {}, why
            assert deltas_applied_twice(world.emulator) == {}, why
            assert ledger_disagrees(entries, world.emulator) == [], why
            assert unaccounted(entries) == [], why
            assert [e for e in entries if e.status is AdjustmentStatus.NEEDS_REVIEW] == [], why
            if scenario.mode == "delta":
                assert any(kind in DELTA_TYPES for kind, _ in landed.values()), why


class TestDyingBetweenTheOutcomeAndTheAgreedLevel:
    """A delta that landed is followed by two writes: its outcome and its agreed level."""

    def test_a_run_dying_as_it_agrees_on_an_acknowledged_delta_never_pushes_it_again(
        self, tmp_path
    ):
        scenario = Scenario("delta", seed=31, skus=10, latency_ms=0)
        with crash_world(tmp_path, scenario) as (world, first):
            agree_on_the_first_feed(world)
            target = raise_one_sku_while_agreeing_fails(world, first)
            results = run_until_quiet(world, max_runs=3)
            increments = applied_of_kind(world.emulator, "increment")
            why = f"{scenario.describe()}\n{history(results)}"
            assert quiet(results), why
            assert differences(world, target) == {}, why
            assert len(increments) == 1, why

    def test_a_run_dying_as_it_agrees_on_a_delta_settled_by_reading_back_never_pushes_it_again(
        self, tmp_path
    ):
        scenario = Scenario("delta", seed=32, skus=10, latency_ms=0)
        with crash_world(tmp_path, scenario) as (world, first):
            agree_on_the_first_feed(world)
            world.emulator.faults.update(lost_ack_rate=1.0)  # every write lands unacknowledged
            target = raise_one_sku_while_agreeing_fails(world, first)
            world.emulator.faults.update(lost_ack_rate=0.0)
            results = run_until_quiet(world, max_runs=3)
            increments = applied_of_kind(world.emulator, "increment")
            why = f"{scenario.describe()}\n{history(results)}"
            assert quiet(results), why
            assert differences(world, target) == {}, why
            assert len(increments) == 1, why


def kill_then_restart(world: World, scenario: Scenario, target: dict[str, int], tmp) -> str:
    """Kill a run half-way through pushing ``target``, restart once; returns what happened."""
    rng = random.Random(f"{scenario.seed}:kills")
    pending = len(differences(world, target))
    kill = run_and_kill(world, rng, pending=pending // 2, log=tmp / "run.log")
    assert kill.killed, (scenario.describe(), kill.describe())
    wait_until_idle(world.emulator)
    restart = world.run("reconcile", "--json")
    why = f"{scenario.describe()} {kill.describe()}\n{history([restart])}"
    assert restart.code == 0, why
    return why


class TestTheAuditTrailAfterAKill:
    """Only inventory-sync changes ShipStation here, so no observed movement may be recorded."""

    def test_a_restart_takes_none_of_the_killed_runs_changes_for_someone_elses(self, tmp_path):
        scenario = Scenario("mirror", seed=22, skus=12, latency_ms=20)
        with crash_world(tmp_path, scenario) as (world, first):
            assert world.run("reconcile", "--json").code == 0  # levels seen: the baseline
            target = changed_feed(first, random.Random(scenario.seed), share=1.0)
            world.write_feed(feed_text(target))
            why = kill_then_restart(world, scenario, target, tmp_path)
            assert observed_movements(world) == {}, why

    def test_a_restart_after_a_killed_first_run_records_no_sku_as_appeared(self, tmp_path):
        scenario = Scenario("mirror", seed=23, skus=12, latency_ms=20)
        with crash_world(tmp_path, scenario) as (world, first):
            why = kill_then_restart(world, scenario, first, tmp_path)
            assert observed_movements(world) == {}, why


class TestRestartRightAfterAKill:
    def test_a_restart_right_after_a_kill_takes_over_the_dead_runs_lease_and_pushes(self, tmp_path):
        scenario = Scenario("delta", seed=21, skus=30)
        rng = random.Random(f"{scenario.seed}:kills")
        with crash_world(tmp_path, scenario) as (world, first):
            pending = len(differences(world, first))
            kill = run_and_kill(world, rng, pending=pending // 2, log=tmp_path / "run.log")
            assert kill.killed, kill.describe()
            restart = world.run("reconcile", "--json")
            assert restart.code == 0, (scenario.describe(), restart.code, summary(restart))
            assert any(e["event"] == "lock.taken_over" for e in restart.log_events())
            assert differences(world, first) == {}, scenario.describe()
