"""Specification of how several snapshots for one warehouse combine: precedence and basis."""

from __future__ import annotations

from dataclasses import replace

import pytest
from planner_builders import RUN, rows, snapshot, warehouse_input

from inventory_sync.domain.model import Hold, QuantityBasis, rows_by_warehouse
from inventory_sync.domain.planner import agreed_levels, plan_warehouse, source_values
from inventory_sync.domain.policy import Policy, Precedence

FIRST = Policy(precedence=Precedence.FIRST)
SUM = Policy(precedence=Precedence.SUM)

PRECEDENCE_CASES = [
    # Each case: its name, snapshot rows in precedence order, policy, values expected.
    ("first: the first snapshot listing a SKU wins", [{"A": 1}, {"A": 9}], FIRST, {"A": 1}),
    (
        "first: a later snapshot fills SKUs the first lacks",
        [{"A": 1}, {"B": 9}],
        FIRST,
        {"A": 1, "B": 9},
    ),
    ("first: a listed zero still wins", [{"A": 0}, {"A": 9}], FIRST, {"A": 0}),
    ("sum: values add across snapshots", [{"A": 1}, {"A": 9}], SUM, {"A": 10}),
    ("sum: a SKU in one snapshot keeps its value", [{"A": 1}, {"B": 9}], SUM, {"A": 1, "B": 9}),
    ("sum: three sources add up", [{"A": 1}, {"A": 2}, {"A": 3}], SUM, {"A": 6}),
]


class TestPrecedence:
    @pytest.mark.parametrize(
        ("parts", "policy", "expected"),
        [case[1:] for case in PRECEDENCE_CASES],
        ids=[case[0] for case in PRECEDENCE_CASES],
    )
    def test_precedence_table(self, parts, policy, expected):
        """Each row: snapshots in order in, one value per SKU out."""
        snaps = [snapshot(p, source=f"s{i}") for i, p in enumerate(parts)]
        assert source_values(warehouse_input(snapshots=snaps), policy) == expected

    def test_a_sku_listed_twice_in_one_snapshot_takes_its_first_row(self):
        """A source should not repeat a SKU; rows built with it twice keep the first."""
        snap = snapshot({"A": 4})
        rows = rows_by_warehouse(snap.observations + snapshot({"A": 7}).observations)
        doubled = replace(snap, rows=rows)
        assert source_values(warehouse_input(snapshots=[doubled]), SUM) == {"A": 4}

    def test_first_precedence_names_the_winning_source(self):
        """The adjustment's basis names the source whose value it mirrors."""
        snaps = [snapshot({"B": 1}, source="wms"), snapshot({"A": 5, "B": 2}, source="erp")]
        result = plan_warehouse(RUN, warehouse_input(snapshots=snaps), FIRST)
        assert {a.sku: a.basis["source"] for a in result.adjustments} == {"A": "erp", "B": "wms"}

    def test_sum_precedence_names_every_contributing_source(self):
        """Under sum, the basis lists every source that contributed, in order."""
        snaps = [snapshot({"A": 1}, source="wms"), snapshot({"A": 2}, source="erp")]
        (adj,) = plan_warehouse(RUN, warehouse_input(snapshots=snaps), SUM).adjustments
        assert (adj.after, adj.basis["source"]) == (3, "wms,erp")


class TestMixedBases:
    def test_first_takes_the_basis_of_the_winning_snapshot(self):
        """Only a SKU whose winning value counts available units gets allocated units added."""
        snaps = [
            snapshot({"A": 5}, source="shop", basis=QuantityBasis.AVAILABLE),
            snapshot({"A": 50, "B": 5}, source="erp"),
        ]
        inp = warehouse_input(snapshots=snaps, shipstation={"A": (0, 2), "B": (0, 2)})
        assert rows(plan_warehouse(RUN, inp, FIRST)) == [
            ("A", "adjust", 7, 0, 7, "mirror"),
            ("B", "adjust", 5, 0, 5, "mirror"),
        ]

    def test_sum_adds_allocated_units_once_when_any_part_counts_available(self):
        """Allocated units are ShipStation's, so they are added once, not once per source."""
        snaps = [
            snapshot({"A": 5}, source="shop", basis=QuantityBasis.AVAILABLE),
            snapshot({"A": 3}, source="store", basis=QuantityBasis.AVAILABLE),
            snapshot({"A": 1, "B": 5}, source="erp"),
        ]
        inp = warehouse_input(snapshots=snaps, shipstation={"A": (0, 2), "B": (0, 2)})
        assert rows(plan_warehouse(RUN, inp, SUM)) == [
            ("A", "adjust", 11, 0, 11, "mirror"),
            ("B", "adjust", 5, 0, 5, "mirror"),
        ]


class TestHeldSources:
    HELD = (Hold(subject="source:wms", reason="feed is stale"),)

    def test_first_lets_the_remaining_sources_stand_in(self):
        """Under first, the healthy snapshots that remain decide, SKU by SKU, in order."""
        inp = replace(warehouse_input({"A": 4}, {"A": 1}), holds=self.HELD)
        assert rows(plan_warehouse(RUN, inp, FIRST)) == [("A", "adjust", 4, 1, 4, "mirror")]

    def test_sum_with_a_held_part_plans_nothing(self):
        """A sum missing a part would publish a fraction of the stock, so nothing is planned."""
        inp = replace(warehouse_input({"A": 4}, {"A": 10}), holds=self.HELD)
        result = plan_warehouse(RUN, inp, SUM)
        assert (result.adjustments, result.unchanged, result.holds) == ((), 0, self.HELD)

    def test_sum_with_a_held_part_knows_no_source_value(self):
        """No SKU's total is known, so none is reported (and no agreed level advances)."""
        inp = replace(warehouse_input({"A": 4}, {"A": 10}, agreed={"A": 7}), holds=self.HELD)
        assert (source_values(inp, SUM), agreed_levels(inp, SUM)) == ({}, {"A": 7})
