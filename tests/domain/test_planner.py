"""Specification of the planner's mirror policy and its plan-as-data shape."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from planner_builders import EAST, RUN, rows, snapshot, warehouse_input

from inventory_sync.domain.model import (
    Hold,
    LocationId,
    QuantityBasis,
    RunId,
    TransactionType,
    Warehouse,
)
from inventory_sync.domain.planner import WarehouseInput, plan, plan_warehouse
from inventory_sync.domain.policy import Policy

MIRROR_CASES = [
    # Each case: its name, source rows, ShipStation rows, policy, the adjustments expected.
    ("equal levels need nothing", {"A": 5}, {"A": 5}, Policy(), []),
    (
        "a different level is adjusted to the source",
        {"A": 7},
        {"A": 5},
        Policy(),
        [("A", "adjust", 7, 5, 7, "mirror")],
    ),
    (
        "a SKU ShipStation lacks is created with before None",
        {"A": 3},
        {},
        Policy(),
        [("A", "adjust", 3, None, 3, "mirror")],
    ),
    ("a SKU ShipStation lacks with target zero needs nothing", {"A": 0}, {}, Policy(), []),
    (
        "a source zero is mirrored",
        {"A": 0},
        {"A": 4},
        Policy(),
        [("A", "adjust", 0, 4, 0, "mirror")],
    ),
    (
        "a negative source value publishes zero",
        {"A": -3},
        {"A": 2},
        Policy(),
        [("A", "adjust", 0, 2, 0, "mirror")],
    ),
    ("a difference within tolerance is left alone", {"A": 7}, {"A": 5}, Policy(tolerance=2), []),
    (
        "a difference beyond tolerance is adjusted",
        {"A": 8},
        {"A": 5},
        Policy(tolerance=2),
        [("A", "adjust", 8, 5, 8, "mirror")],
    ),
    ("a missing row counts as zero for tolerance", {"A": 2}, {}, Policy(tolerance=2), []),
    (
        "the buffer is held back",
        {"A": 10},
        {"A": 10},
        Policy(buffer=3),
        [("A", "adjust", 7, 10, 7, "mirror")],
    ),
    (
        "the buffer never publishes below zero",
        {"A": 2},
        {"A": 2},
        Policy(buffer=3),
        [("A", "adjust", 0, 2, 0, "mirror")],
    ),
    (
        "the cap limits what is published",
        {"A": 100},
        {"A": 10},
        Policy(cap=20),
        [("A", "adjust", 20, 10, 20, "mirror")],
    ),
    (
        "the buffer applies before the cap",
        {"A": 22},
        {},
        Policy(buffer=5, cap=20),
        [("A", "adjust", 17, None, 17, "mirror")],
    ),
    (
        "only the SKUs that differ are adjusted",
        {"A": 1, "B": 2, "C": 3},
        {"A": 1, "B": 9, "C": 3},
        Policy(),
        [("B", "adjust", 2, 9, 2, "mirror")],
    ),
]


class TestMirror:
    @pytest.mark.parametrize(
        ("source", "shipstation", "policy", "expected"),
        [case[1:] for case in MIRROR_CASES],
        ids=[case[0] for case in MIRROR_CASES],
    )
    def test_mirror_table(self, source, shipstation, policy, expected):
        """Each row of the table: source and ShipStation levels in, adjustments out."""
        result = plan_warehouse(RUN, warehouse_input(source, shipstation), policy)
        assert rows(result) == expected

    def test_available_basis_adds_shipstation_allocated_units(self):
        """A source counting available units targets on-hand = available + allocated."""
        inp = warehouse_input({"A": 10}, {"A": (5, 4)}, basis=QuantityBasis.AVAILABLE)
        assert rows(plan_warehouse(RUN, inp, Policy())) == [("A", "adjust", 14, 5, 14, "mirror")]

    def test_available_basis_without_a_row_allocates_nothing(self):
        """With no ShipStation row there is nothing allocated, so on-hand = available."""
        inp = warehouse_input({"A": 10}, {}, basis=QuantityBasis.AVAILABLE)
        assert rows(plan_warehouse(RUN, inp, Policy())) == [("A", "adjust", 10, None, 10, "mirror")]

    def test_available_basis_buffers_and_caps_the_sellable_units(self):
        """Buffer and cap bound what is offered for sale; allocated units come on top."""
        inp = warehouse_input({"A": 30}, {"A": (0, 4)}, basis=QuantityBasis.AVAILABLE)
        result = plan_warehouse(RUN, inp, Policy(buffer=5, cap=20))
        assert rows(result) == [("A", "adjust", 24, 0, 24, "mirror")]

    def test_available_basis_never_publishes_below_the_allocated_units(self):
        """A buffer larger than the available units leaves on-hand at the allocated units."""
        inp = warehouse_input({"A": 2}, {"A": (9, 6)}, basis=QuantityBasis.AVAILABLE)
        assert rows(plan_warehouse(RUN, inp, Policy(buffer=5))) == [
            ("A", "adjust", 6, 9, 6, "mirror")
        ]


class TestPlanShape:
    def test_unchanged_counts_every_sku_looked_at_without_a_request(self):
        """Source and ShipStation SKUs are counted once each; changed ones are not unchanged."""
        inp = warehouse_input({"A": 1, "B": 2, "C": 0}, {"A": 1, "B": 5, "D": 4})
        result = plan_warehouse(RUN, inp, Policy())
        assert (len(result.adjustments), result.unchanged) == (1, 3)

    def test_adjustments_carry_warehouse_location_and_basis(self):
        """An adjustment says where it writes and which values it was based on."""
        inp = warehouse_input({"A": 7}, {"A": 5})
        (adj,) = plan_warehouse(RUN, inp, Policy(buffer=1)).adjustments
        assert (adj.warehouse, adj.location_id, adj.transaction_type) == (
            EAST,
            LocationId("se-loc-east"),
            TransactionType.ADJUST,
        )
        assert adj.basis == {
            "source": "erp",
            "source_value": 7,
            "buffer": 1,
            "cap": None,
            "before": 5,
        }

    def test_adjustment_ids_are_derived_from_the_content(self):
        """The id is adj- plus a 10-byte blake2b of the named fields, in hex."""
        (adj,) = plan_warehouse(RUN, warehouse_input({"A": 7}, {"A": 5}), Policy()).adjustments
        digest = hashlib.blake2b(b"run-1|east|A|adjust|7|7", digest_size=10).hexdigest()
        assert adj.adjustment_id == f"adj-{digest}"

    def test_planning_twice_gives_the_same_plan(self):
        """The planner is a pure function: same inputs, equal plans."""
        inp = warehouse_input({"A": 7, "B": 0}, {"A": 5, "B": 2, "C": 1})
        assert plan_warehouse(RUN, inp, Policy()) == plan_warehouse(RUN, inp, Policy())

    def test_another_run_names_its_adjustments_differently(self):
        """The run id is part of each adjustment id."""
        inp = warehouse_input({"A": 7}, {"A": 5})
        first = plan_warehouse(RUN, inp, Policy()).adjustments[0].adjustment_id
        second = plan_warehouse(RunId("run-2"), inp, Policy()).adjustments[0].adjustment_id
        assert first != second

    def test_input_holds_pass_through_into_the_plan(self):
        """Held sources are reported in the plan so the run report can show them."""
        hold = Hold(subject="source:wms", reason="feed is stale")
        inp = warehouse_input({"A": 1}, {"A": 1})
        result = plan_warehouse(RUN, _with_holds(inp, hold), Policy())
        assert result.holds == (hold,)

    def test_no_snapshot_at_all_gives_an_empty_plan(self):
        """With every source held there is no basis for any change, nor any count."""
        hold = Hold(subject="source:erp", reason="unreachable")
        inp = _with_holds(warehouse_input(snapshots=[], shipstation={"A": 5}), hold)
        result = plan_warehouse(RUN, inp, Policy(zero_absent_after=1))
        assert (result.adjustments, result.unchanged, result.holds) == ((), 0, (hold,))


class TestPlanMany:
    def test_warehouses_are_planned_with_their_own_policies(self):
        """plan() concatenates per-warehouse plans, each under its policy or the default."""
        west = Warehouse("west")
        inputs = [
            warehouse_input({"A": 10}, {"A": 5}),
            warehouse_input({"A": 10}, {"A": 5}, warehouse=west),
        ]
        result = plan(RUN, inputs, {west: Policy(buffer=2)})
        assert [(a.warehouse, a.after) for a in result.adjustments] == [(EAST, 10), (west, 8)]

    def test_unchanged_counts_add_up(self):
        """The combined plan counts every warehouse's unchanged SKUs."""
        west = Warehouse("west")
        inputs = [
            warehouse_input({"A": 1, "B": 1}, {"A": 1, "B": 1}),
            warehouse_input({"A": 1}, {"A": 1}, warehouse=west),
        ]
        assert plan(RUN, inputs, {}).unchanged == 3

    def test_a_source_held_for_two_warehouses_is_reported_once(self):
        """The same hold passed with several warehouses appears once in the combined plan."""
        hold = Hold(subject="source:wms", reason="feed is stale")
        inputs = [
            _with_holds(warehouse_input({"A": 1}, {}), hold),
            _with_holds(warehouse_input({"A": 1}, {}, warehouse=Warehouse("west")), hold),
        ]
        assert plan(RUN, inputs, {}).holds == (hold,)

    def test_a_warehouse_given_twice_is_refused(self):
        """Two inputs for one warehouse would plan it twice; that is a caller bug."""
        inp = warehouse_input({"A": 1}, {})
        with pytest.raises(ValueError, match="appears twice"):
            plan(RUN, [inp, inp], {})

    def test_one_snapshot_for_many_warehouses_feeds_each_its_own_rows(self):
        """A snapshot speaking for two warehouses is split by each observation's warehouse."""
        west = Warehouse("west")
        both = _two_warehouse_snapshot(snapshot({"A": 4}), snapshot({"A": 9}, warehouse=west))
        inputs = [
            warehouse_input(snapshots=[both], shipstation={"A": 1}),
            warehouse_input(snapshots=[both], shipstation={"A": 1}, warehouse=west),
        ]
        assert [a.after for a in plan(RUN, inputs, {}).adjustments] == [4, 9]


def _with_holds(inp: WarehouseInput, *holds: Hold) -> WarehouseInput:
    return replace(inp, holds=holds)


def _two_warehouse_snapshot(east, west):
    return replace(
        east,
        warehouses=east.warehouses | west.warehouses,
        rows={**east.rows, **west.rows},
    )
