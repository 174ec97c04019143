"""held_summary: which warehouses of a run were held, and why, as the run's summary keeps it."""

from __future__ import annotations

from inventory_sync.app import ConfiguredSource
from inventory_sync.domain.model import (
    HELD_KEY,
    Completeness,
    Hold,
    RunId,
    RunStatus,
    SourceName,
    Warehouse,
    held_reasons,
)
from inventory_sync.report import RunReport
from inventory_sync.service.held import REASON_LIMIT, held_summary
from inventory_sync.sources.memory import MemorySource

SOURCES = (
    ConfiguredSource(
        MemorySource(SourceName("east-feed")), (Warehouse("east"),), Completeness.COMPLETE
    ),
    ConfiguredSource(
        MemorySource(SourceName("both")),
        (Warehouse("east"), Warehouse("west")),
        Completeness.PARTIAL,
    ),
)
NAMES = {"east", "west", "north"}


def _report(*holds: Hold, guard_held: bool = False, skipped: tuple[str, ...] = ()) -> RunReport:
    return RunReport(
        RunId("run-1"), RunStatus.HELD, False, (), 0, holds, guard_held=guard_held, skipped=skipped
    )


def test_a_source_hold_holds_the_warehouses_it_feeds_and_no_other():
    summary = held_summary(SOURCES, _report(Hold("source:east-feed", "stale: 7h old")), NAMES)
    assert summary[HELD_KEY] == "east"
    assert held_reasons(summary) == {"east": "source:east-feed: stale: 7h old"}


def test_reasons_of_one_warehouse_are_joined_once_each_and_only_for_the_runs_warehouses():
    holds = (
        Hold("source:both", "unavailable: no file"),
        Hold("source:east-feed", "only 1 rows"),
        Hold("source:both", "unavailable: no file"),
    )
    summary = held_summary(SOURCES, _report(*holds), {"west"})
    assert held_reasons(summary) == {"west": "source:both: unavailable: no file"}
    both = held_reasons(held_summary(SOURCES, _report(*holds), NAMES))
    assert both["east"] == "source:both: unavailable: no file; source:east-feed: only 1 rows"


def test_busy_warehouses_and_quarantined_skus_are_not_held_warehouses():
    holds = (
        Hold("warehouse:west", "another process is pushing to it"),
        Hold("sku:east/RED", "its change failed 3 times"),
    )
    assert held_summary(SOURCES, _report(*holds, skipped=("west",)), NAMES) == {}


def test_a_guard_holds_every_warehouse_of_the_run_naming_the_one_that_tripped():
    guard = Hold("warehouse:east", "would zero 9 of 10 SKUs")
    reasons = held_reasons(held_summary(SOURCES, _report(guard, guard_held=True), NAMES))
    assert reasons["east"] == "warehouse:east: would zero 9 of 10 SKUs"
    assert reasons["west"] == reasons["north"] == "held with the run by a guard on warehouse:east"


def test_a_long_reason_is_cut_to_a_sentence():
    summary = held_summary(SOURCES, _report(Hold("source:east-feed", "x" * 2000)), NAMES)
    (reason,) = held_reasons(summary).values()
    assert len(reason) == REASON_LIMIT
    assert reason.endswith("...")


def test_a_run_that_held_nothing_keeps_no_keys():
    assert held_summary(SOURCES, _report(), NAMES) == {}
    assert held_reasons({}) == {}
