"""How a run ends when a source only waits for its next file (NoNewFile after a good read):
succeeded and exit 0, unless something else held it; its warehouses still not planned from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

from rich.console import Console

from inventory_sync import bootstrap, service
from inventory_sync.app import ConfiguredSource
from inventory_sync.clock import FixedClock
from inventory_sync.commands.render import print_report
from inventory_sync.config import load_settings
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import (
    Completeness,
    Hold,
    RunId,
    RunStatus,
    SourceName,
    Warehouse,
    held_reasons,
    holding,
)
from inventory_sync.errors import NoNewFile, SourceUnavailable
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.report import RunReport
from inventory_sync.service.held import held_summary
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.sources import MemorySource, snapshot_of

NOW = datetime(2026, 12, 3, 14, 2, tzinfo=UTC)
MAIN = Warehouse("main")
SKUS = ["RED", "BLUE", "GREEN"]
SEED = {
    "products": SKUS,
    "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
    "locations": [
        {"inventory_location_id": "se-11", "name": "A", "inventory_warehouse_id": "se-1"}
    ],
    "levels": [{"sku": s, "inventory_location_id": "se-11", "on_hand": 10} for s in SKUS],
}


def emptied(name: str) -> NoNewFile:
    return NoNewFile(
        "no file matches /in/*.csv (files already used were moved to /outbox/done: no new one"
        " since?)",
        source=name,
        archive_dir="/outbox/done",
        origin="/in/*.csv",
    )


class Harness:
    """One warehouse fed by the named in-memory sources, every port in memory."""

    def __init__(self, *names: str, max_age: timedelta | None = None) -> None:
        self.clock = FixedClock(NOW)
        self.ledger = MemoryLedger()
        self.inventory = MemoryInventory.from_seed(SEED)
        self.sources = {name: MemorySource(SourceName(name)) for name in names}
        self.gates = GateRules(max_age=max_age)

    def feed(self, name: str, **levels: int) -> None:
        snap = snapshot_of(SourceName(name), {MAIN: levels}, taken_at=self.clock.now())
        self.sources[name].queue(snap)

    def run(self) -> RunReport:
        settings = load_settings(
            None,
            require_file=False,
            overrides={
                "shipstation": {"api_key": "unit-test-key"},
                "warehouses": [{"name": "main", "inventory_location_id": "se-11"}],
                "reconcile": {"max_changed_share": 1.0, "max_units_share": 100.0},
            },
        )
        configured = tuple(
            ConfiguredSource(source, (MAIN,), Completeness.COMPLETE, self.gates)
            for source in self.sources.values()
        )
        app = bootstrap.build(
            settings,
            inventory=self.inventory,
            ledger=self.ledger,
            sources=configured,
            clock=self.clock,
        )
        self.clock.advance(timedelta(minutes=1))
        return service.reconcile(app, service.RunOptions())


def text_of(report: RunReport) -> str:
    out = StringIO()
    print_report(report, Console(file=out, width=400, color_system=None))
    return out.getvalue()


class TestHolding:
    def test_only_waiting_holds_are_left_out(self):
        waiting = Hold("source:east", "no new file since ...", waiting=True)
        gate = Hold("source:west", "only 2 rows")
        assert holding([waiting, gate]) == (gate,)
        assert holding([waiting]) == ()


class TestRunStatus:
    def test_a_source_waiting_after_a_good_read_ends_the_run_succeeded(self):
        h = Harness("east")
        h.feed("east", RED=12, BLUE=10, GREEN=10)
        assert h.run().exit_code == 0
        h.sources["east"].queue(emptied("east"))
        report = h.run()
        assert (report.status, report.exit_code) == (RunStatus.SUCCEEDED, 0)
        (hold,) = report.holds
        assert hold.waiting
        assert hold.reason == (
            "no new file since 2026-12-03 14:02 UTC (the last one was moved to /outbox/done)"
        )
        document = report.to_json()
        assert document["holds"] == []
        assert document["no_new_file"] == [
            {
                "source": "east",
                "reason": hold.reason,
                "since": NOW.isoformat(),
                "archive_dir": "/outbox/done",
            }
        ]
        said = text_of(report)
        assert (
            "waiting east: no new file since 2026-12-03 14:02 UTC (the last one was moved to"
            " /outbox/done); its warehouses were not reconciled from it"
        ) in said
        assert "Nothing to change" not in said
        assert "held" not in said

    def test_a_source_never_read_is_held(self):
        h = Harness("east")
        h.sources["east"].queue(emptied("east"))
        report = h.run()
        assert (report.status, report.exit_code) == (RunStatus.HELD, 3)
        (hold,) = report.holds
        assert not hold.waiting
        assert hold.reason.startswith("unavailable: no file matches /in/*.csv")

    def test_another_sources_hold_still_holds_the_run(self):
        h = Harness("east", "west")
        h.feed("east", RED=12)
        h.feed("west", BLUE=10, GREEN=10)
        assert h.run().exit_code == 0
        h.sources["east"].queue(emptied("east"))
        h.sources["west"].queue(SourceUnavailable("host down", source="west"))
        report = h.run()
        assert (report.status, report.exit_code) == (RunStatus.HELD, 3)
        assert [h["subject"] for h in report.to_json()["holds"]] == ["source:west"]
        assert [w["source"] for w in report.to_json()["no_new_file"]] == ["east"]

    def test_past_max_age_the_waiting_source_holds_the_run(self):
        h = Harness("east", max_age=timedelta(hours=2))
        h.feed("east", RED=12, BLUE=10, GREEN=10)
        assert h.run().exit_code == 0
        h.sources["east"].queue(emptied("east"))
        h.clock.advance(timedelta(minutes=118))  # the run's own minute makes it 2h exactly
        assert h.run().exit_code == 0  # not older than max_age yet
        report = h.run()  # 2h1m
        assert (report.status, report.exit_code) == (RunStatus.HELD, 3)
        (hold,) = report.holds
        assert not hold.waiting
        assert hold.reason == (
            "no new file for 2h1m, longer than max_age 2h (the last one was moved to /outbox/done)"
        )


class TestHeldSummary:
    def test_a_waiting_source_holds_none_of_its_warehouses_in_a_held_run(self):
        sources = tuple(
            ConfiguredSource(
                MemorySource(SourceName(name)), (Warehouse(name),), Completeness.COMPLETE
            )
            for name in ("east", "west")
        )
        holds = (
            Hold("source:east", "no new file since ...", waiting=True),
            Hold("source:west", "only 2 rows"),
        )
        report = RunReport(RunId("run-1"), RunStatus.HELD, False, (), 0, holds)
        summary = held_summary(sources, report, {"east", "west"})
        assert held_reasons(summary) == {"west": "source:west: only 2 rows"}
