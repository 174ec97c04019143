"""`inventory-sync status` as a health check: 0 when healthy, 1 with the reasons when not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from daemon_support import SKUS, START_BOUND, wait_for

from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentId,
    AdjustmentStatus,
    LocationId,
    Outcome,
    RunId,
    RunRecord,
    Sku,
    TransactionType,
    Warehouse,
)

RELAXED = "stale_after_intervals = 600"  # the feed stays put during these tests: not stale


def status(world) -> tuple[int, dict]:
    done = world.run("status", "--json")
    assert done.returncode in {0, 1}, done.stderr
    return done.returncode, json.loads(done.stdout)


def push_once(world) -> None:
    daemon = world.start()
    try:
        world.write_feed(dict.fromkeys(SKUS, 10) | {"RED": 12})
        wait_for(lambda: world.on_hand()["RED"] == 12, START_BOUND, "the push")
        wait_for(lambda: daemon.named("run.finished"), START_BOUND, "the run's summary")
    finally:
        assert daemon.stop() == 0


class TestHealthy:
    def test_after_the_daemon_pushed_status_is_healthy_and_names_the_last_run(self, world):
        world.write_config(RELAXED)
        push_once(world)
        code, found = status(world)
        assert (code, found["healthy"], found["problems"]) == (0, True, [])
        (main,) = found["warehouses"]
        assert main["last_run"]["status"] == "succeeded"
        assert main["last_run"]["trigger"] == "daemon:main"
        (feed,) = found["sources"]
        assert feed["stale"] is False
        assert feed["last_good"]["rows"] == len(SKUS)
        assert found["adjustments"]["pending"] == 0

    def test_people_get_tables_and_the_verdict(self, world):
        world.write_config(RELAXED)
        push_once(world)
        done = world.run("status")
        assert done.returncode == 0, done.stderr
        assert "main" in done.stdout
        assert "healthy" in done.stdout


class TestUnhealthy:
    def test_a_source_that_never_delivered_is_stale(self, world):
        code, found = status(world)
        assert code == 1
        assert any("source feed: stale" in p for p in found["problems"])
        assert found["conditions"] == ["source_stale"]

    def test_a_key_expiring_within_seven_days_is_a_problem(self, world):
        soon = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
        world.write_config(RELAXED, shipstation=f"api_key_expires = {soon}")
        push_once(world)
        code, found = status(world)
        assert code == 1
        assert found["keys"] == [
            {"key": "primary", "account": "default", "expires_on": soon, "days_left": 3}
        ]
        assert any("API key primary" in p for p in found["problems"])
        assert found["conditions"] == ["key_expiring"]

    def test_a_held_last_run_is_a_problem(self, world):
        world.write_config(RELAXED, reconcile="max_changed_share = 0.5")
        daemon = world.start()
        try:
            world.write_feed(dict.fromkeys(SKUS, 1))  # every SKU at once: held
            daemon.wait_event("run.held", START_BOUND)
        finally:
            assert daemon.stop() == 0
        code, found = status(world)
        assert code == 1
        assert found["warehouses"][0]["last_run"]["status"] == "held"
        assert found["conditions"] == ["run_held"]

    def test_an_adjustment_unsettled_for_too_long_is_a_problem(self, world):
        world.write_config(RELAXED + '\nunsettled_after = "1h"')
        push_once(world)
        long_ago = datetime.now(UTC) - timedelta(hours=2)
        with world.ledger() as ledger:
            run_id = RunId("run-lost-in-a-crash")
            ledger.begin_run(RunRecord(run_id, long_ago, "daemon:main"))
            ledger.record_planned(run_id, [_adjustment()], at=long_ago)
        code, found = status(world)
        assert code == 1
        assert found["adjustments"]["overdue"] == 1
        assert found["adjustments"]["pending"] == 1
        assert found["conditions"] == ["adjustments_unsettled"]

    def test_an_adjustment_waiting_for_review_is_a_problem_until_resolved(self, world):
        world.write_config(RELAXED)
        push_once(world)
        now = datetime.now(UTC)
        with world.ledger() as ledger:
            run_id = RunId("run-undecidable")
            ledger.begin_run(RunRecord(run_id, now, "manual"))
            ledger.record_planned(run_id, [_adjustment()], at=now)
            undecided = Outcome(AdjustmentStatus.NEEDS_REVIEW, now, error="undecidable")
            ledger.mark_outcome(AdjustmentId("adj-test-crashed"), undecided)
        code, found = status(world)
        assert (code, found["conditions"]) == (1, ["adjustments_need_review"])
        assert found["adjustments"]["needs_review"] == 1
        with world.ledger() as ledger:
            decided = Outcome(AdjustmentStatus.APPLIED, now, response="checked by a person")
            ledger.mark_outcome(AdjustmentId("adj-test-crashed"), decided)
        code, found = status(world)
        assert (code, found["conditions"], found["adjustments"]["needs_review"]) == (0, [], 0)


def _adjustment() -> Adjustment:
    return Adjustment(
        adjustment_id=AdjustmentId("adj-test-crashed"),
        warehouse=Warehouse("main"),
        location_id=LocationId("se-11"),
        sku=Sku("BLUE"),
        transaction_type=TransactionType.ADJUST,
        quantity=9,
        before=10,
        after=9,
        rule="mirror",
    )
