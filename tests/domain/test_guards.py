"""Specification of the guard rails that hold a warehouse whose plan changes too much."""

from __future__ import annotations

from dataclasses import replace

import pytest
from planner_builders import EAST, RUN, snapshot, warehouse_input

from inventory_sync.domain.guards import check_guards
from inventory_sync.domain.model import Warehouse
from inventory_sync.domain.planner import plan
from inventory_sync.domain.policy import GuardLimits, Policy

ONLY_CHANGED = GuardLimits(max_changed_share=0.5, max_units_share=None, max_zeroed=None)
ONLY_UNITS = GuardLimits(max_changed_share=None, max_units_share=0.5, max_zeroed=None)
ONLY_ZEROED = GuardLimits(max_changed_share=None, max_units_share=None, max_zeroed=2)


def stock(n: int, each: int = 10) -> dict[str, int]:
    """n SKUs named S00.. with `each` units apiece."""
    return {f"S{i:02d}": each for i in range(n)}


def changing(n: int, of: int, to: int = 11) -> dict[str, int]:
    """The stock of `of` SKUs with the first n set to `to`."""
    return {**stock(of), **{f"S{i:02d}": to for i in range(n)}}


GUARD_CASES = [
    # Each case: its name, source, ShipStation, limits, expected hold reason (None: no hold).
    ("half the SKUs changed is allowed", changing(10, 20), stock(20), ONLY_CHANGED, None),
    (
        "more than half the SKUs changed holds",
        changing(11, 20),
        stock(20),
        ONLY_CHANGED,
        "would change 11 of 20 SKUs (55.0% > 50.0%)",
    ),
    (
        "SKUs new on either side count in the total",
        {**changing(11, 20), "NEW": 0},
        {**stock(20), "OLD": 0},
        ONLY_CHANGED,
        None,
    ),
    ("a small warehouse is not held on shares", changing(9, 9), stock(9), ONLY_CHANGED, None),
    (
        "ten SKUs are enough for the share rules",
        changing(10, 10),
        stock(10),
        ONLY_CHANGED,
        "would change 10 of 10 SKUs (100.0% > 50.0%)",
    ),
    ("half the units moved is allowed", changing(1, 20, to=110), stock(20), ONLY_UNITS, None),
    (
        "more than half the units moved holds",
        changing(1, 20, to=111),
        stock(20),
        ONLY_UNITS,
        "would move 101 of 200 units (50.5% > 50.0%)",
    ),
    (
        "an empty location counts as one unit, so a first load holds",
        stock(10),
        {},
        ONLY_UNITS,
        "would move 100 of 0 units (10000.0% > 50.0%)",
    ),
    ("zeroing up to the limit is allowed", changing(2, 20, to=0), stock(20), ONLY_ZEROED, None),
    (
        "zeroing more than the limit holds",
        changing(3, 20, to=0),
        stock(20),
        ONLY_ZEROED,
        "would zero 3 SKUs (> 2)",
    ),
    (
        "zeroing holds even a small warehouse",
        changing(3, 3, to=0),
        stock(3),
        ONLY_ZEROED,
        "would zero 3 SKUs (> 2)",
    ),
    (
        "no limits never hold",
        {},
        stock(20),
        GuardLimits(max_changed_share=None, max_units_share=None, max_zeroed=None),
        None,
    ),
]


class TestGuards:
    @pytest.mark.parametrize(
        ("source", "shipstation", "limits", "reason"),
        [case[1:] for case in GUARD_CASES],
        ids=[case[0] for case in GUARD_CASES],
    )
    def test_guard_table(self, source, shipstation, limits, reason):
        """Each row: a warehouse's plan in, its hold reason (or none) out."""
        inputs = [warehouse_input(source, shipstation)]
        policy = Policy(zero_absent_after=1)
        holds = check_guards(plan(RUN, inputs, {}, policy), inputs, limits)
        assert [h.reason for h in holds] == ([] if reason is None else [reason])

    def test_a_hold_names_the_warehouse_and_carries_the_numbers(self):
        """The hold's details let a person see how far over each limit the plan went."""
        inputs = [warehouse_input(changing(12, 20, to=0), stock(20))]
        (hold,) = check_guards(plan(RUN, inputs, {}), inputs, GuardLimits(max_zeroed=5))
        assert hold.subject == "warehouse:east"
        assert hold.details == {
            "changed": 12,
            "total": 20,
            "share": "0.6000",
            "limit": "0.5000",
            "units_moved": 120,
            "units_total": 200,
            "units_share": "0.6000",
            "units_limit": "0.5000",
            "zeroed": 12,
            "zeroed_limit": 5,
            "min_skus_for_share": 10,
        }
        assert hold.reason.count(";") == 2

    def test_each_warehouse_is_judged_by_its_own_limits(self):
        """With a mapping, a warehouse uses its limits; one not in it uses the defaults."""
        west, north = Warehouse("west"), Warehouse("north")
        inputs = [
            warehouse_input(changing(20, 20), stock(20)),
            warehouse_input(changing(20, 20), stock(20), warehouse=west),
            warehouse_input(changing(20, 20), stock(20), warehouse=north),
        ]
        relaxed = GuardLimits(max_changed_share=1.0, max_units_share=1.0)
        holds = check_guards(plan(RUN, inputs, {}), inputs, {EAST: relaxed, west: relaxed})
        assert [h.subject for h in holds] == ["warehouse:north"]

    def test_a_warehouse_without_changes_is_never_held(self):
        """An empty plan moves nothing, whatever the limits."""
        inputs = [warehouse_input(stock(20), stock(20))]
        strict = GuardLimits(max_changed_share=0.0, max_units_share=0.0, max_zeroed=0)
        assert check_guards(plan(RUN, inputs, {}), inputs, strict) == ()

    def test_a_snapshot_shared_by_warehouses_counts_only_each_ones_skus(self):
        """Each warehouse's share is of its own SKUs, even when one snapshot lists several."""
        west = Warehouse("west")
        east_rows, west_rows = snapshot(changing(6, 10)), snapshot(stock(30), warehouse=west)
        shared = replace(
            east_rows,
            warehouses=frozenset({EAST, west}),
            rows={**east_rows.rows, **west_rows.rows},
        )
        inputs = [
            warehouse_input(snapshots=[shared], shipstation=stock(10)),
            warehouse_input(snapshots=[shared], shipstation=stock(30), warehouse=west),
        ]
        holds = check_guards(plan(RUN, inputs, {}), inputs, ONLY_CHANGED)
        assert [(h.subject, h.details["total"]) for h in holds] == [("warehouse:east", 10)]
