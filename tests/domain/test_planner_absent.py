"""Specification of absent-is-not-zero: when a SKU the sources stopped listing is zeroed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from planner_builders import RUN, rows, snapshot, warehouse_input

from inventory_sync.domain.model import Hold
from inventory_sync.domain.planner import next_absent_counts, plan_warehouse
from inventory_sync.domain.policy import Mode, Policy

ZERO = ("B", "adjust", 0, 6, 0, "mirror:zero_absent")

ABSENT_CASES = [
    # Each case: its name, policy, already-missing count for B, complete?, adjustments expected.
    ("first miss of two is not zeroed", Policy(), 0, True, []),
    ("second consecutive miss of two is zeroed", Policy(), 1, True, [ZERO]),
    ("a longer streak is zeroed too", Policy(), 5, True, [ZERO]),
    ("after one miss when the policy says one", Policy(zero_absent_after=1), 0, True, [ZERO]),
    ("not before the third when the policy says three", Policy(zero_absent_after=3), 1, True, []),
    ("never when the policy says None", Policy(zero_absent_after=None), 99, True, []),
    ("never because of a partial snapshot", Policy(), 5, False, []),
    ("not when within tolerance of zero", Policy(tolerance=6), 5, True, []),
    (
        "with the delta policy the rule is named for it",
        Policy(mode=Mode.DELTA),
        1,
        True,
        [("B", "adjust", 0, 6, 0, "delta:zero_absent")],
    ),
]


class TestAbsentIsNotZero:
    @pytest.mark.parametrize(
        ("policy", "already", "complete", "expected"),
        [case[1:] for case in ABSENT_CASES],
        ids=[case[0] for case in ABSENT_CASES],
    )
    def test_absent_table(self, policy, already, complete, expected):
        """Each row: B is in ShipStation (6 units) but missing from the snapshot."""
        inp = warehouse_input({"A": 1}, {"A": 1, "B": 6}, absent={"B": already}, complete=complete)
        assert rows(plan_warehouse(RUN, inp, policy)) == expected

    def test_a_sku_at_zero_or_below_needs_no_zeroing(self):
        """Only SKUs ShipStation holds stock of are zeroed."""
        inp = warehouse_input({"A": 1}, {"A": 1, "B": 0, "C": -2}, absent={"B": 4, "C": 4})
        result = plan_warehouse(RUN, inp, Policy())
        assert (rows(result), result.unchanged) == ([], 3)

    def test_one_complete_snapshot_among_partial_ones_makes_absence_count(self):
        """A SKU missing from every snapshot, one of them complete, is absent."""
        snaps = [snapshot({"A": 1}, source="feed", complete=False), snapshot({"A": 1})]
        inp = warehouse_input(snapshots=snaps, shipstation={"A": 1, "B": 6}, absent={"B": 1})
        assert rows(plan_warehouse(RUN, inp, Policy())) == [ZERO]

    def test_a_sku_listed_by_any_snapshot_is_not_absent(self):
        """A partial snapshot listing the SKU keeps it present even if a complete one lacks it."""
        snaps = [snapshot({"A": 1}), snapshot({"B": 6}, source="feed", complete=False)]
        inp = warehouse_input(snapshots=snaps, shipstation={"A": 1, "B": 6}, absent={"B": 3})
        assert rows(plan_warehouse(RUN, inp, Policy())) == []

    def test_a_held_source_suspends_zeroing(self):
        """The held source may be the one that lists the missing SKU."""
        inp = warehouse_input({"A": 1}, {"A": 1, "B": 6}, absent={"B": 5})
        inp = replace(inp, holds=(Hold(subject="source:wms", reason="feed is stale"),))
        result = plan_warehouse(RUN, inp, Policy())
        assert (rows(result), result.unchanged) == ([], 2)

    def test_the_basis_records_the_streak(self):
        """The zeroing says how many complete snapshots in a row missed the SKU."""
        inp = warehouse_input({"A": 1}, {"A": 1, "B": 6}, absent={"B": 2})
        (adj,) = plan_warehouse(RUN, inp, Policy()).adjustments
        assert adj.basis == {
            "before": 6,
            "absent_count": 3,
            "zero_absent_after": 2,
            "sources": "erp",
        }


NEXT_COUNT_CASES = [
    # Each case: its name, source rows, ShipStation rows, old counts, complete?, new counts.
    ("a missing SKU starts counting", {"A": 1}, {"A": 1, "B": 2}, {}, True, {"B": 1}),
    ("a missing SKU keeps counting", {"A": 1}, {"A": 1, "B": 2}, {"B": 4}, True, {"B": 5}),
    ("a listed SKU starts again", {"A": 1, "B": 2}, {"A": 1, "B": 2}, {"B": 4}, True, {}),
    ("a SKU gone from ShipStation is forgotten", {"A": 1}, {"A": 1}, {"B": 4}, True, {}),
    ("a partial snapshot carries counts", {"A": 1}, {"A": 1, "B": 2}, {"B": 4}, False, {"B": 4}),
    ("a partial snapshot listing a SKU resets it", {"B": 1}, {"B": 2}, {"B": 4}, False, {}),
]


class TestNextAbsentCounts:
    @pytest.mark.parametrize(
        ("source", "shipstation", "counts", "complete", "expected"),
        [case[1:] for case in NEXT_COUNT_CASES],
        ids=[case[0] for case in NEXT_COUNT_CASES],
    )
    def test_next_counts_table(self, source, shipstation, counts, complete, expected):
        """Each row: this run's inputs in, the counts to store out."""
        inp = warehouse_input(source, shipstation, absent=counts, complete=complete)
        assert next_absent_counts(inp) == expected

    def test_a_held_source_carries_the_counts_forward(self):
        """With a source held, a missing SKU may only be missing from what was seen."""
        inp = warehouse_input({"A": 1}, {"A": 1, "B": 2}, absent={"B": 4})
        inp = replace(inp, holds=(Hold(subject="source:wms", reason="feed is stale"),))
        assert next_absent_counts(inp) == {"B": 4}

    def test_no_snapshot_keeps_the_counts_as_they_were(self):
        """With every source held nothing was observed, so nothing changes."""
        inp = warehouse_input(snapshots=[], shipstation={"A": 1}, absent={"A": 3})
        assert next_absent_counts(inp) == {"A": 3}
