"""What a run tells its watch and its log while it reads: each source, each page of levels."""

from __future__ import annotations

from datetime import UTC, datetime

from structlog.testing import capture_logs

from inventory_sync import bootstrap, service
from inventory_sync.app import ConfiguredSource
from inventory_sync.clock import FixedClock
from inventory_sync.config import load_settings
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.inventory import PagesRead
from inventory_sync.domain.model import Completeness, SourceName, Warehouse
from inventory_sync.errors import SourceUnavailable
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.ports import Unwatched
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.sources import MemorySource, snapshot_of
from inventory_sync.steps.levels import LevelPages

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
MAIN = Warehouse("main")
SKUS = [f"SKU-{i:02d}" for i in range(12)]
SEED = {
    "products": SKUS,
    "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
    "locations": [
        {"inventory_location_id": "se-11", "name": "A", "inventory_warehouse_id": "se-1"}
    ],
    "levels": [{"sku": s, "inventory_location_id": "se-11", "on_hand": 10} for s in SKUS],
}


class RecordedWatch:
    """A Watch that keeps what it was told, in order."""

    def __init__(self) -> None:
        self.told: list[tuple] = []

    def source_started(self, source, where):
        self.told.append(("source_started", source, where))

    def source_finished(self, source):
        self.told.append(("source_finished", source))

    def levels_paged(self, warehouse, read):
        self.told.append(("levels_paged", warehouse, read))

    def levels_finished(self, warehouse):
        self.told.append(("levels_finished", warehouse))


def app_reading(source: MemorySource):
    settings = load_settings(
        None,
        require_file=False,
        overrides={
            "shipstation": {"api_key": "unit-test-key"},
            "warehouses": [{"name": "main", "inventory_location_id": "se-11"}],
        },
    )
    return bootstrap.build(
        settings,
        inventory=MemoryInventory.from_seed(SEED),
        ledger=MemoryLedger(),
        sources=(ConfiguredSource(source, (MAIN,), Completeness.COMPLETE, GateRules()),),
        clock=FixedClock(NOW),
    )


def progress_lines(logs: list[dict]) -> list[tuple]:
    return [
        (e["pages"], e["levels"], e["pages_total"], e["levels_total"], e["done"])
        for e in logs
        if e["event"] == "levels.progress"
    ]


class TestLevelPages:
    def test_a_long_read_logs_its_first_page_every_hundredth_and_the_whole_read(self):
        pages = LevelPages(MAIN, Unwatched())
        with capture_logs() as logs:
            for n in range(1, 251):
                pages(PagesRead(n, n * 500, 250, 125_000))
            pages.finished()
        assert progress_lines(logs) == [
            (1, 500, 250, 125_000, False),
            (100, 50_000, 250, 125_000, False),
            (200, 100_000, 250, 125_000, False),
            (250, 125_000, 250, 125_000, True),
        ]
        assert {e["warehouse"] for e in logs} == {"main"}

    def test_a_read_of_one_page_logs_once(self):
        pages = LevelPages(MAIN, Unwatched())
        with capture_logs() as logs:
            pages(PagesRead(1, 12, 1, 12))
            pages.finished()
        assert progress_lines(logs) == [(1, 12, 1, 12, True)]

    def test_a_read_without_totals_still_logs_its_counts(self):
        pages = LevelPages(MAIN, Unwatched())
        with capture_logs() as logs:
            for n in range(1, 151):
                pages(PagesRead(n, n * 10))
            pages.finished()
        assert progress_lines(logs) == [
            (1, 10, None, None, False),
            (100, 1000, None, None, False),
            (150, 1500, None, None, True),
        ]


class TestRunWatch:
    def test_a_run_shows_its_watch_the_source_then_each_page_of_levels(self):
        source = MemorySource(SourceName("feed"))
        source.queue(snapshot_of(SourceName("feed"), {MAIN: dict.fromkeys(SKUS, 10)}, taken_at=NOW))
        watch = RecordedWatch()
        with capture_logs() as logs:
            service.reconcile(app_reading(source), service.RunOptions(), watch=watch)
        assert watch.told == [
            ("source_started", "feed", None),  # a memory source does not say where it reads
            ("source_finished", "feed"),
            ("levels_paged", MAIN, PagesRead(1, 12, 1, 12)),
            ("levels_finished", MAIN),
        ]
        assert progress_lines(logs) == [(1, 12, 1, 12, True)]

    def test_a_source_that_cannot_be_read_is_finished_all_the_same(self):
        down = SourceUnavailable("connection refused", source=SourceName("feed"), origin="x")
        watch = RecordedWatch()
        service.reconcile(
            app_reading(MemorySource(SourceName("feed"), down)), service.RunOptions(), watch=watch
        )
        assert watch.told[:2] == [("source_started", "feed", None), ("source_finished", "feed")]

    def test_a_run_narrowed_to_a_few_skus_reads_no_pages_to_show(self):
        source = MemorySource(SourceName("feed"))
        source.queue(snapshot_of(SourceName("feed"), {MAIN: {"SKU-01": 10}}, taken_at=NOW))
        watch = RecordedWatch()
        with capture_logs() as logs:
            options = service.RunOptions(skus=frozenset({"SKU-01"}))
            service.reconcile(app_reading(source), options, watch=watch)
        assert [told[0] for told in watch.told] == ["source_started", "source_finished"]
        assert progress_lines(logs) == []
