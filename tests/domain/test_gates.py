"""Sanity gates: each gate, table-driven, with the numbers in the hold."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from inventory_sync.domain.gates import GateRules, check_snapshot
from inventory_sync.domain.model import (
    Completeness,
    Observation,
    QuantityBasis,
    Sku,
    Snapshot,
    SnapshotStats,
    SourceName,
    Warehouse,
    rows_by_warehouse,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def snapshot(*quantities: int, complete: bool = True, age: timedelta = timedelta(0), skus=None):
    skus = skus or [f"S{i}" for i in range(len(quantities))]
    return Snapshot(
        source=SourceName("wms"),
        snapshot_id="new",
        taken_at=NOW - age,
        completeness=Completeness.COMPLETE if complete else Completeness.PARTIAL,
        basis=QuantityBasis.ON_HAND,
        warehouses=frozenset({Warehouse("main")}),
        rows=rows_by_warehouse(
            Observation(Warehouse("main"), Sku(s), q) for s, q in zip(skus, quantities, strict=True)
        ),
    )


def last_good(rows: int, units: int, nonzero: int | None = None) -> SnapshotStats:
    return SnapshotStats(
        source=SourceName("wms"),
        snapshot_id="old",
        taken_at=NOW - timedelta(hours=1),
        rows=rows,
        units=units,
        nonzero_rows=rows if nonzero is None else nonzero,
    )


def reasons(holds) -> list[str]:
    return [h.reason for h in holds]


class TestRowCount:
    @pytest.mark.parametrize(
        ("rows", "before", "fraction", "complete", "held"),
        [
            (5, 10, 0.5, True, False),  # exactly the fraction passes
            (4, 10, 0.5, True, True),
            (0, 10, 0.5, True, True),
            (1, 10, 0.1, True, False),
            (4, 10, None, True, False),  # gate off
            (4, 10, 0.5, False, False),  # partial feeds vary freely
            (3, 0, 0.5, True, False),
        ],
    )
    def test_fewer_rows_than_the_fraction_of_last_good_holds(
        self, rows, before, fraction, complete, held
    ):
        rules = GateRules(min_row_fraction=fraction, reject_all_zero=False)
        holds = check_snapshot(
            snapshot(*[1] * rows, complete=complete), last_good(before, before), rules, now=NOW
        )
        assert bool(holds) is held

    def test_the_hold_names_the_numbers(self):
        [hold] = check_snapshot(snapshot(1, 1, 1), last_good(10, 10), GateRules(), now=NOW)
        assert hold.subject == "source:wms"
        assert hold.reason == "only 3 rows, fewer than 50% of the 10 in the last good snapshot"
        assert hold.details == {
            "rows": 3,
            "last_good_rows": 10,
            "min_rows": 5,
            "last_good_snapshot_id": "old",
        }

    def test_with_no_history_row_count_is_not_judged(self):
        assert check_snapshot(snapshot(1), None, GateRules(), now=NOW) == ()


class TestSentinels:
    @pytest.mark.parametrize(
        ("present", "sentinels", "missing"),
        [
            (["A", "B"], {"A"}, None),
            (["A", "B"], {"A", "B"}, None),
            (["B"], {"A"}, "A"),
            ([], {"A", "C"}, "A, C"),
            (["X"], set(), None),
        ],
    )
    def test_missing_sentinel_skus_hold(self, present, sentinels, missing):
        rules = GateRules(
            min_row_fraction=None,
            reject_all_zero=False,
            sentinel_skus=frozenset(map(Sku, sentinels)),
        )
        holds = check_snapshot(snapshot(*[1] * len(present), skus=present), None, rules, now=NOW)
        if missing is None:
            assert holds == ()
        else:
            [hold] = holds
            assert hold.reason == f"sentinel SKU(s) missing: {missing}"
            assert hold.details["missing"] == missing

    def test_a_sentinel_listed_in_any_of_the_warehouses_is_present(self):
        two = Snapshot(
            source=SourceName("wms"),
            snapshot_id="new",
            taken_at=NOW,
            completeness=Completeness.COMPLETE,
            basis=QuantityBasis.ON_HAND,
            warehouses=frozenset({Warehouse("east"), Warehouse("west")}),
            rows=rows_by_warehouse(
                [
                    Observation(Warehouse("east"), Sku("A"), 1),
                    Observation(Warehouse("west"), Sku("B"), 0),
                ]
            ),
        )
        rules = GateRules(min_row_fraction=None, sentinel_skus=frozenset({Sku("A"), Sku("B")}))
        assert check_snapshot(two, None, rules, now=NOW) == ()
        rules = GateRules(min_row_fraction=None, sentinel_skus=frozenset({Sku("C")}))
        [hold] = check_snapshot(two, None, rules, now=NOW)
        assert hold.reason == "sentinel SKU(s) missing: C"


class TestAge:
    @pytest.mark.parametrize(
        ("age", "max_age", "reason"),
        [
            (timedelta(hours=6), timedelta(hours=6), None),
            (
                timedelta(hours=6, seconds=1),
                timedelta(hours=6),
                "data is 6h1s old, older than max_age 6h",
            ),
            (
                timedelta(days=2, hours=3),
                timedelta(minutes=90),
                "data is 2d3h old, older than max_age 1h30m",
            ),
            (timedelta(days=30), None, None),
            (-timedelta(minutes=5), timedelta(minutes=1), None),  # clock skew is not staleness
        ],
    )
    def test_data_older_than_max_age_holds(self, age, max_age, reason):
        rules = GateRules(min_row_fraction=None, reject_all_zero=False, max_age=max_age)
        holds = check_snapshot(snapshot(1, age=age), None, rules, now=NOW)
        assert reasons(holds) == ([] if reason is None else [reason])
        if reason:
            assert holds[0].details["max_age_seconds"] == int(max_age.total_seconds())
            assert holds[0].details["age_seconds"] == int(age.total_seconds())


class TestAgeOfABacklog:
    """A change feed's files are applied in order: the backlog is as fresh as its newest file."""

    RULES = GateRules(min_row_fraction=None, reject_all_zero=False, max_age=timedelta(hours=6))

    def _backlog(self, first: timedelta, newest: timedelta | None, *, complete: bool = False):
        old = snapshot(1, complete=complete, age=first)
        return replace(old, newest_waiting_at=None if newest is None else NOW - newest)

    def test_an_old_change_file_with_a_fresh_one_behind_it_is_not_held(self):
        backlog = self._backlog(timedelta(days=2), timedelta(minutes=5))
        assert check_snapshot(backlog, None, self.RULES, now=NOW) == ()

    def test_a_backlog_whose_newest_file_is_old_too_holds_naming_that_file(self):
        backlog = self._backlog(timedelta(days=2), timedelta(hours=7))
        [hold] = check_snapshot(backlog, None, self.RULES, now=NOW)
        assert hold.reason == "the newest change file waiting is 7h old, older than max_age 6h"
        assert hold.details["age_seconds"] == 7 * 3600

    def test_the_last_file_of_a_backlog_is_judged_by_its_own_age(self):
        assert reasons(
            check_snapshot(self._backlog(timedelta(days=2), None), None, self.RULES, now=NOW)
        ) == ["data is 2d old, older than max_age 6h"]

    def test_a_complete_feed_is_judged_by_the_file_read_whatever_waits(self):
        # A complete feed reads its newest file: nothing newer waits. Should a source ever say
        # otherwise, the file read is what the plan trusts, so its own age is what counts.
        backlog = self._backlog(timedelta(days=2), timedelta(minutes=5), complete=True)
        assert reasons(check_snapshot(backlog, None, self.RULES, now=NOW)) == [
            "data is 2d old, older than max_age 6h"
        ]


class TestAllZero:
    @pytest.mark.parametrize(
        ("quantities", "before", "complete", "enabled", "held"),
        [
            ((0, 0, 0), last_good(3, 12), True, True, True),
            ((0, 0, 1), last_good(3, 12), True, True, False),
            ((0, 0, 0), last_good(3, 0, nonzero=0), True, True, False),  # zero before too
            ((0, 0, 0), None, True, True, True),  # no history: first contact never zeroes
            ((), None, True, True, True),  # an empty complete list is all zero
            ((0, 0, 0), last_good(3, 12), False, True, False),  # partial: a delta of sell-outs
            ((0, 0, 0), last_good(3, 12), True, False, False),  # gate off
        ],
    )
    def test_every_quantity_zero_holds(self, quantities, before, complete, enabled, held):
        rules = GateRules(min_row_fraction=None, reject_all_zero=enabled)
        holds = check_snapshot(snapshot(*quantities, complete=complete), before, rules, now=NOW)
        assert bool(holds) is held

    def test_the_hold_names_the_numbers(self):
        [hold] = check_snapshot(
            snapshot(0, 0), last_good(2, 12), GateRules(min_row_fraction=None), now=NOW
        )
        assert hold.reason == "every quantity is zero (2 rows; 12 units before)"
        assert hold.details == {"rows": 2, "last_good_units": 12, "last_good_nonzero_rows": 2}


def test_all_failing_gates_are_reported_together():
    rules = GateRules(sentinel_skus=frozenset({Sku("KEEP")}), max_age=timedelta(hours=1))
    holds = check_snapshot(snapshot(0, age=timedelta(hours=2)), last_good(10, 50), rules, now=NOW)
    assert [h.reason.split()[0] for h in holds] == ["only", "sentinel", "data", "every"]
    assert {h.subject for h in holds} == {"source:wms"}
