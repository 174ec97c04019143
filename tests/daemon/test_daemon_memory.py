"""The daemon's memory between jobs: the snapshot cache and source health, in process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from inventory_sync.app import ConfiguredSource
from inventory_sync.clock import FixedClock
from inventory_sync.daemon.cache import SnapshotCache
from inventory_sync.daemon.health import SourceHealth
from inventory_sync.domain.gates import GateRules
from inventory_sync.domain.model import (
    Completeness,
    Hold,
    Observation,
    QuantityBasis,
    Sku,
    Snapshot,
    SourceName,
    Warehouse,
    rows_by_warehouse,
)
from inventory_sync.errors import NoNewFile, SourceUnavailable
from inventory_sync.sources.memory import MemorySource
from inventory_sync.steps.gather import Gathered

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
MAIN = Warehouse("main")
FEED = SourceName("feed")


def snapshot(
    snapshot_id: str, *, taken_at: datetime = T0, completeness=Completeness.COMPLETE
) -> Snapshot:
    return Snapshot(
        source=FEED,
        snapshot_id=snapshot_id,
        taken_at=taken_at,
        completeness=completeness,
        basis=QuantityBasis.ON_HAND,
        warehouses=frozenset({MAIN}),
        rows=rows_by_warehouse([Observation(MAIN, Sku("RED"), 3)]),
    )


def configured(completeness=Completeness.COMPLETE, gates=None) -> ConfiguredSource:
    return ConfiguredSource(MemorySource(FEED), (MAIN,), completeness, gates or GateRules())


def admitted(snap: Snapshot, holds: tuple[Hold, ...] = ()) -> Gathered:
    gathered = Gathered(holds=list(holds))
    if not holds:
        gathered.snapshots[MAIN].append(snap)
    return gathered


class TestSnapshotCache:
    def test_a_complete_snapshot_serves_every_reconcile_until_replaced(self):
        source = configured()
        cache = SnapshotCache([source])
        first, second = snapshot("a"), snapshot("b")
        cache.admit(source, first, admitted(first))
        assert cache.take(MAIN, T0).snapshots[MAIN] == [first]
        assert cache.take(MAIN, T0).snapshots[MAIN] == [first]
        cache.admit(source, second, admitted(second))
        assert cache.take(MAIN, T0).snapshots[MAIN] == [second]

    def test_a_partial_snapshot_is_handed_to_one_reconcile_only(self):
        source = configured(Completeness.PARTIAL)
        cache = SnapshotCache([source])
        change = snapshot("c", completeness=Completeness.PARTIAL)
        cache.admit(source, change, admitted(change))
        assert cache.take(MAIN, T0, consume=False).snapshots[MAIN] == []  # a drift scan peeks
        assert cache.take(MAIN, T0).snapshots[MAIN] == [change]
        assert cache.take(MAIN, T0).snapshots[MAIN] == []

    def test_partials_given_back_go_to_the_next_reconcile_ahead_of_newer_ones(self):
        source = configured(Completeness.PARTIAL)
        cache = SnapshotCache([source])
        first, second, third = (
            snapshot(i, completeness=Completeness.PARTIAL) for i in ("c1", "c2", "c3")
        )
        for change in (first, second):
            cache.admit(source, change, admitted(change))
        taken = cache.take(MAIN, T0).snapshots[MAIN]
        cache.admit(source, third, admitted(third))  # arrived while the reconcile ran
        cache.give_back(MAIN, taken)
        assert cache.take(MAIN, T0).snapshots[MAIN] == [first, second, third]
        assert cache.take(MAIN, T0).snapshots[MAIN] == []

    def test_a_partial_given_back_twice_is_kept_once(self):
        source = configured(Completeness.PARTIAL)
        cache = SnapshotCache([source])
        change = snapshot("c", completeness=Completeness.PARTIAL)
        cache.admit(source, change, admitted(change))
        taken = cache.take(MAIN, T0).snapshots[MAIN]
        cache.give_back(MAIN, taken)
        cache.give_back(MAIN, taken)
        assert cache.take(MAIN, T0).snapshots[MAIN] == [change]

    def test_a_held_pull_holds_the_source_rather_than_falling_back_to_older_data(self):
        source = configured()
        cache = SnapshotCache([source])
        good, bad = snapshot("good"), snapshot("bad")
        cache.admit(source, good, admitted(good))
        hold = Hold("source:feed", "too few rows")
        cache.admit(source, bad, admitted(bad, (hold,)))
        taken = cache.take(MAIN, T0)
        assert (taken.snapshots[MAIN], taken.holds) == ([], [hold])

    def test_data_kept_in_memory_is_held_once_older_than_max_age(self):
        source = configured(gates=GateRules(max_age=timedelta(hours=1)))
        cache = SnapshotCache([source])
        snap = snapshot("a")
        cache.admit(source, snap, admitted(snap))
        assert cache.take(MAIN, T0 + timedelta(minutes=30)).snapshots[MAIN] == [snap]
        with capture_logs() as logs:
            late = cache.take(MAIN, T0 + timedelta(hours=2))
        assert late.snapshots[MAIN] == []
        assert [e["event"] for e in logs] == ["source.held"]

    def test_the_same_content_again_is_not_new(self):
        source = configured()
        cache = SnapshotCache([source])
        snap = snapshot("a")
        assert cache.is_new(snap)
        cache.admit(source, snap, admitted(snap))
        assert not cache.is_new(snapshot("a"))
        assert cache.is_new(snapshot("b"))


class TestSourceHealth:
    def health(self, clock: FixedClock) -> SourceHealth:
        return SourceHealth(clock, {FEED: timedelta(minutes=1)}, stale_after=3)

    def test_a_source_going_down_and_up_logs_one_event_each_way(self):
        clock = FixedClock(T0)
        health = self.health(clock)
        down = SourceUnavailable("no file", source=FEED, origin="/feeds/x.csv")
        with capture_logs() as logs:
            for _ in range(5):
                health.failed(FEED, down)
                clock.advance(timedelta(minutes=1))
            health.pulled(FEED, snapshot("a"))
            health.pulled(FEED, snapshot("a"))
        assert [e["event"] for e in logs] == ["source.unavailable", "source.recovered"]
        assert logs[1]["down_seconds"] == 300

    def test_no_fresh_data_for_three_intervals_is_stale_once_until_fresh_data(self):
        clock = FixedClock(T0)
        health = self.health(clock)
        health.pulled(FEED, snapshot("a"))
        with capture_logs() as logs:
            for _ in range(10):
                clock.advance(timedelta(minutes=1))
                health.pulled(FEED, snapshot("a"))  # the same content: not fresh
                health.check_stale()
            health.pulled(FEED, snapshot("b"))
        assert [e["event"] for e in logs] == ["source.stale", "source.refreshed"]
        assert logs[0]["limit_seconds"] == 180

    def test_a_source_another_replica_pulls_is_not_stale_here(self):
        clock = FixedClock(T0)
        health = self.health(clock)
        with capture_logs() as logs:
            for _ in range(10):
                clock.advance(timedelta(minutes=1))
                health.elsewhere(FEED)  # a standby replica skips the pull
                health.check_stale()
            clock.advance(timedelta(minutes=4))  # it took over, and the source brings nothing
            health.check_stale()
        assert [e["event"] for e in logs] == ["source.stale"]
        assert logs[0]["stale_seconds"] == 240

    def test_a_newer_timestamp_on_the_same_content_counts_as_fresh(self):
        clock = FixedClock(T0)
        health = self.health(clock)
        health.pulled(FEED, snapshot("a"))
        with capture_logs() as logs:
            for minute in range(1, 10):
                clock.advance(timedelta(minutes=1))
                health.pulled(FEED, snapshot("a", taken_at=T0 + timedelta(minutes=minute)))
                health.check_stale()
        assert logs == []

    def test_an_emptied_archiving_inbox_waits_without_going_down_or_recovering(self):
        clock = FixedClock(T0)
        health = self.health(clock)
        health.pulled(FEED, snapshot("a", taken_at=T0 - timedelta(minutes=5)))
        with capture_logs() as logs:
            for _ in range(2):
                clock.advance(timedelta(minutes=1))
                health.failed(FEED, EMPTIED)
                health.check_stale()
            health.pulled(FEED, snapshot("b"))  # the next file
            health.failed(FEED, EMPTIED)  # archived in turn
        assert [e["event"] for e in logs] == ["source.no_new_file", "source.no_new_file"]
        assert logs[0]["since"] == (T0 - timedelta(minutes=5)).isoformat()
        assert logs[0]["archive_dir"] == "/done"
        assert logs[1]["since"] == T0.isoformat()

    def test_a_waiting_source_still_goes_stale(self):
        clock = FixedClock(T0)
        health = self.health(clock)
        health.pulled(FEED, snapshot("a"))
        with capture_logs() as logs:
            for _ in range(5):
                clock.advance(timedelta(minutes=1))
                health.failed(FEED, EMPTIED)
                health.check_stale()
        assert [e["event"] for e in logs] == ["source.no_new_file", "source.stale"]

    def test_a_server_back_with_an_empty_inbox_has_recovered_and_waits(self):
        clock = FixedClock(T0)
        health = self.health(clock)
        health.pulled(FEED, snapshot("a"))
        with capture_logs() as logs:
            health.failed(FEED, SourceUnavailable("connection refused", source=FEED))
            clock.advance(timedelta(minutes=2))
            health.failed(FEED, EMPTIED)
            health.failed(FEED, EMPTIED)
        events = [e["event"] for e in logs]
        assert events == ["source.unavailable", "source.recovered", "source.no_new_file"]
        assert logs[1]["down_seconds"] == 120

    def test_an_empty_inbox_before_any_data_is_unavailable(self):
        health = self.health(FixedClock(T0))
        with capture_logs() as logs:
            health.failed(FEED, EMPTIED)
        assert [e["event"] for e in logs] == ["source.unavailable"]


EMPTIED = NoNewFile(
    "no file matches /in/*.csv (files already used were moved to /done: no new one since?)",
    source=FEED,
    archive_dir="/done",
    origin="/in/*.csv",
)
