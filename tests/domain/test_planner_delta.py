"""Specification of the delta policy: move ShipStation by the source's change since agreed."""

from __future__ import annotations

import pytest
from planner_builders import RUN, rows, warehouse_input

from inventory_sync.domain.model import QuantityBasis, Sku
from inventory_sync.domain.planner import agreed_levels, plan_warehouse
from inventory_sync.domain.policy import Mode, Policy

DELTA = Policy(mode=Mode.DELTA)

DELTA_CASES = [
    # Each case: its name, source, ShipStation, agreed, policy, the adjustments expected.
    ("no change since agreed needs nothing", {"A": 10}, {"A": 7}, {"A": 10}, DELTA, []),
    (
        "a rise is an increment on top of ShipStation's level",
        {"A": 12},
        {"A": 7},
        {"A": 10},
        DELTA,
        [("A", "increment", 2, 7, 9, "delta")],
    ),
    (
        "a fall is a decrement from ShipStation's level",
        {"A": 6},
        {"A": 7},
        {"A": 10},
        DELTA,
        [("A", "decrement", 4, 7, 3, "delta")],
    ),
    (
        "a fall below zero is clamped at zero",
        {"A": 0},
        {"A": 3},
        {"A": 10},
        DELTA,
        [("A", "decrement", 3, 3, 0, "delta")],
    ),
    ("a fall on an already negative level does nothing", {"A": 8}, {"A": -2}, {"A": 10}, DELTA, []),
    (
        "no agreed level falls back to adjusting to the source",
        {"A": 12},
        {"A": 7},
        {},
        DELTA,
        [("A", "adjust", 12, 7, 12, "delta:first_sight")],
    ),
    (
        "first sight honours the buffer",
        {"A": 12},
        {"A": 7},
        {},
        Policy(mode=Mode.DELTA, buffer=2),
        [("A", "adjust", 10, 7, 10, "delta:first_sight")],
    ),
    (
        "first sight within tolerance needs nothing",
        {"A": 8},
        {"A": 7},
        {},
        Policy(mode=Mode.DELTA, tolerance=1),
        [],
    ),
    (
        "no ShipStation row to move falls back to adjusting to the source",
        {"A": 12},
        {},
        {"A": 10},
        DELTA,
        [("A", "adjust", 12, None, 12, "delta:no_row")],
    ),
    (
        "tolerance does not swallow a small change",
        {"A": 11},
        {"A": 7},
        {"A": 10},
        Policy(mode=Mode.DELTA, tolerance=5),
        [("A", "increment", 1, 7, 8, "delta")],
    ),
    ("an agreed SKU the feed does not list is left alone", {}, {"A": 7}, {"A": 10}, DELTA, []),
]


class TestDelta:
    @pytest.mark.parametrize(
        ("source", "shipstation", "agreed", "policy", "expected"),
        [case[1:] for case in DELTA_CASES],
        ids=[case[0] for case in DELTA_CASES],
    )
    def test_delta_table(self, source, shipstation, agreed, policy, expected):
        """Each row: source, ShipStation and agreed levels in, adjustments out."""
        inp = warehouse_input(source, shipstation, agreed=agreed, complete=False)
        assert rows(plan_warehouse(RUN, inp, policy)) == expected

    def test_a_clamped_decrement_records_the_unclamped_level(self):
        """The basis says where the change would have taken ShipStation without the clamp."""
        inp = warehouse_input({"A": 0}, {"A": 3}, agreed={"A": 10}, complete=False)
        (adj,) = plan_warehouse(RUN, inp, DELTA).adjustments
        assert adj.basis == {
            "source": "erp",
            "source_value": 0,
            "agreed": 10,
            "change": -10,
            "before": 3,
            "clamped_from": -7,
        }

    def test_delta_ignores_allocated_units_since_they_cancel_out(self):
        """A change in available units is the same change in on-hand units."""
        inp = warehouse_input(
            {"A": 12}, {"A": (7, 3)}, agreed={"A": 10}, basis=QuantityBasis.AVAILABLE
        )
        assert rows(plan_warehouse(RUN, inp, DELTA)) == [("A", "increment", 2, 7, 9, "delta")]


class TestAgreedLevels:
    def test_a_feed_recovering_after_a_clamp_is_followed_once_agreed_advances(self):
        """A fall clamped to nothing still advances agreed, so the next rise is added."""
        fell = warehouse_input({"A": 0}, {"A": 0}, agreed={"A": 10}, complete=False)
        assert rows(plan_warehouse(RUN, fell, DELTA)) == []
        rose = warehouse_input({"A": 3}, {"A": 0}, agreed=agreed_levels(fell, DELTA))
        assert rows(plan_warehouse(RUN, rose, DELTA)) == [("A", "increment", 3, 0, 3, "delta")]

    def test_listed_skus_take_the_source_value_and_others_keep_theirs(self):
        """After a run the agreed level of each listed SKU is the value just planned from."""
        inp = warehouse_input({"A": 12}, {}, agreed={"A": 10, "B": 4}, complete=False)
        assert agreed_levels(inp, DELTA) == {Sku("A"): 12, Sku("B"): 4}
