"""Row validation: what becomes a good row (in columns per warehouse), what is Rejected, and why."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory_sync.domain.model import (
    Observation,
    Rejected,
    Sku,
    SourceName,
    Warehouse,
)
from inventory_sync.sources.rows import RawRow, RowRules, validate_rows

RULES = RowRules(source=SourceName("feed"), warehouses=(Warehouse("main"),), max_quantity=1000)


def row(sku: object, quantity: object, line: int = 2, **kw) -> RawRow:
    return RawRow(origin=kw.pop("origin", "feed.csv"), line=line, sku=sku, quantity=quantity, **kw)


def only(rows, rules=RULES):
    """validate_rows, with the good rows as Observations (warehouse by warehouse) to compare."""
    good, rejected = validate_rows(rows, rules)
    for columns in good.values():
        assert len(columns) > 0, "a warehouse without good rows has no entry"
    observations = tuple(
        Observation(warehouse, sku, quantity)
        for warehouse, columns in good.items()
        for sku, quantity in columns.items()
    )
    return observations, rejected


class TestQuantities:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("12", 12),
            (" 12 ", 12),
            ("0", 0),
            ("007", 7),
            (12, 12),
            (12.0, 12),
            (Decimal("3.00"), 3),
            ("1000", 1000),
        ],
    )
    def test_whole_numbers_from_zero_to_max_are_accepted(self, value, expected):
        observations, rejected = only([row("A", value)])
        assert rejected == ()
        assert observations == (Observation(Warehouse("main"), Sku("A"), expected),)

    @pytest.mark.parametrize(
        ("value", "reason"),
        [
            ("12.5", "whole number"),
            ("-3", "negative"),
            (-3, "negative"),
            ("NaN", "whole number"),
            ("", "empty"),
            (" ", "empty"),
            ("1e9", "whole number"),
            ("twelve", "whole number"),
            ("inf", "whole number"),
            ("+5", "whole number"),
            ("1,200", "whole number"),
            ("١٢", "whole number"),
            ("1001", "max_quantity 1000"),
            (12.5, "fraction"),
            (math.nan, "non-finite"),
            (math.inf, "non-finite"),
            (Decimal("NaN"), "non-finite"),
            (True, "boolean"),
            (None, "missing"),
            ([1], "list"),
        ],
    )
    def test_anything_else_is_rejected_with_the_value_and_reason(self, value, reason):
        observations, rejected = only([row("A", value, line=7)])
        assert observations == ()
        [bad] = rejected
        assert (bad.line, bad.field, bad.origin) == (7, "quantity", "feed.csv")
        assert bad.value == (None if value is None else str(value))
        assert reason in bad.reason

    @given(st.integers(min_value=0, max_value=1000))
    def test_any_integer_text_in_range_round_trips(self, n):
        observations, _ = only([row("A", f" {n}")])
        assert observations[0].quantity == n


class TestSkus:
    def test_skus_are_trimmed_and_kept_as_written_by_default(self):
        observations, _ = only([row("  Ab-1 ", "1")])
        assert observations[0].sku == "Ab-1"

    @pytest.mark.parametrize(("case", "expected"), [("upper", "AB-1"), ("lower", "ab-1")])
    def test_sku_case_folds_when_configured(self, case, expected):
        rules = RowRules(source=SourceName("f"), warehouses=(Warehouse("main"),), sku_case=case)
        observations, _ = only([row("Ab-1", "1")], rules)
        assert observations[0].sku == expected

    @pytest.mark.parametrize(
        ("sku", "reason"),
        [
            ("", "empty"),
            ("   ", "empty"),
            (None, "missing"),
            (1.5, "text"),
            ("A\nB", "control character"),
            ("A\tB", "control character"),
            (True, "text"),
        ],
    )
    def test_empty_or_non_text_skus_are_rejected(self, sku, reason):
        _, [bad] = only([row(sku, "1")])
        assert bad.field == "sku"
        assert reason in bad.reason

    def test_integer_skus_from_typed_sources_become_text(self):
        observations, _ = only([row(12345, 1)])
        assert observations[0].sku == "12345"


class TestDuplicates:
    def test_by_default_every_copy_is_rejected_naming_the_others(self):
        rows = [
            row("A", "1", line=2),
            row("B", "5", line=3),
            row("A", "2", line=4),
            row("A", "3", line=9),
        ]
        observations, rejected = only(rows)
        assert [o.sku for o in observations] == ["B"]
        assert [r.line for r in rejected] == [2, 4, 9]
        assert "also at line 4, line 9" in rejected[0].reason
        assert "also at line 2, line 4" in rejected[2].reason

    def test_sum_adds_the_copies(self):
        rules = RowRules(source=SourceName("f"), warehouses=(Warehouse("main"),), duplicates="sum")
        observations, rejected = only([row("A", "1", line=2), row("A", "2", line=5)], rules)
        assert rejected == ()
        assert observations == (Observation(Warehouse("main"), Sku("A"), 3),)

    def test_sum_refuses_when_a_copy_is_bad(self):
        rules = RowRules(source=SourceName("f"), warehouses=(Warehouse("main"),), duplicates="sum")
        observations, rejected = only([row("A", "1", line=2), row("A", "x", line=5)], rules)
        assert observations == ()
        assert "line 5 is rejected" in rejected[0].reason
        assert "whole number" in rejected[1].reason

    def test_sum_refuses_a_total_above_max_quantity(self):
        rules = RowRules(
            source=SourceName("f"),
            warehouses=(Warehouse("main"),),
            duplicates="sum",
            max_quantity=10,
        )
        observations, rejected = only([row("A", "6"), row("A", "6", line=3)], rules)
        assert observations == ()
        assert all("above max_quantity" in r.reason for r in rejected)

    def test_a_bad_copy_still_makes_the_good_copy_a_duplicate(self):
        observations, rejected = only([row("A", "1", line=2), row("A", "oops", line=3)])
        assert observations == ()
        assert "duplicate" in rejected[0].reason
        assert "whole number" in rejected[1].reason

    def test_same_sku_in_two_warehouses_is_not_a_duplicate(self):
        rules = RowRules(source=SourceName("f"), warehouses=(Warehouse("a"), Warehouse("b")))
        observations, rejected = only(
            [row("A", "1", warehouse="a"), row("A", "2", warehouse="b")], rules
        )
        assert rejected == ()
        assert len(observations) == 2

    def test_duplicates_across_pages_name_the_other_origin(self):
        _, rejected = only([row("A", 1, origin="p1", line=1), row("A", 1, origin="p2", line=4)])
        assert "also at p2:4" in rejected[0].reason

    def test_a_first_row_is_reported_as_the_feed_wrote_it_however_it_was_kept(self):
        """The first copy of a key comes back whole when a duplicate arrives: its own origin,
        line and SKU as written, whether it came from the first page or a later one."""
        rules = RowRules(
            source=SourceName("feed"), warehouses=(Warehouse("main"),), sku_case="upper"
        )
        _, rejected = only(
            [
                row("B", "1", origin="p1", line=1),
                row(" a ", "2", origin="p1", line=2),
                row("C", "3", origin="p2", line=1),
                row("A", "4", origin="p2", line=2),
                row("c", "5", origin="p3", line=7),
            ],
            rules,
        )
        assert [(r.origin, r.line, r.value) for r in rejected] == [
            ("p1", 2, " a "),
            ("p2", 1, "C"),
            ("p2", 2, "A"),
            ("p3", 7, "c"),
        ]
        assert "also at p2:2" in rejected[0].reason
        assert "also at p3:7" in rejected[1].reason


class TestWarehouses:
    RULES = RowRules(
        source=SourceName("f"),
        warehouses=(Warehouse("east"), Warehouse("west")),
        warehouse_map={"E1": Warehouse("east"), "W1": Warehouse("west")},
        warehouse_field="site",
    )

    def test_mapped_values_land_in_our_warehouses(self):
        observations, _ = only([row("A", "1", warehouse=" E1 ")], self.RULES)
        assert observations[0].warehouse == "east"

    def test_unknown_values_are_rejected_with_the_value(self):
        _, [bad] = only([row("A", "1", warehouse="N9")], self.RULES)
        assert (bad.field, bad.value) == ("site", "N9")
        assert "unknown warehouse 'N9'" in bad.reason

    def test_without_a_map_the_value_must_be_one_of_our_names(self):
        rules = RowRules(source=SourceName("f"), warehouses=(Warehouse("east"),))
        observations, rejected = only(
            [row("A", "1", warehouse="east"), row("B", "1", warehouse="west", line=3)], rules
        )
        assert [o.sku for o in observations] == ["A"]
        assert "unknown warehouse 'west'" in rejected[0].reason


def test_good_rows_go_on_whatever_happens_to_the_others():
    rows = [
        row("A", "1", line=2),
        row("", "1", line=3),
        row("C", "x", line=4),
        row("D", "4", line=5),
    ]
    observations, rejected = only(rows)
    assert [o.sku for o in observations] == ["A", "D"]
    assert [r.line for r in rejected] == [3, 4]
    assert str(rejected[0]) == "feed.csv:3: field 'sku' value '': SKU is empty"
    assert str(rejected[1]) == (
        "feed.csv:4 SKU C field 'quantity' value 'x': quantity must be a whole number (digits only)"
    )


def test_a_row_with_a_good_sku_and_an_unknown_warehouse_names_its_sku_but_no_warehouse():
    rules = RowRules(source=SourceName("feed"), warehouses=(Warehouse("east"),))
    bad = RawRow("feed.csv", 7, " BAD-1 ", "3", "north")
    _, (rejected,) = validate_rows([bad], rules)
    assert (rejected.sku, rejected.warehouse) == ("BAD-1", None)
    assert str(rejected).startswith("feed.csv:7 SKU BAD-1 field 'warehouse' value 'north'")


class TestEveryRowIsAccountedFor:
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["A", "B", "c", " ", ""]),
                st.one_of(st.integers(-2, 1002), st.sampled_from(["1", "x", "2.5", None])),
            ),
            max_size=30,
        ),
        st.sampled_from(["reject", "sum"]),
    )
    def test_each_row_is_an_observation_or_rejected_never_both_never_lost(self, pairs, policy):
        rules = RowRules(
            source=SourceName("f"),
            warehouses=(Warehouse("main"),),
            max_quantity=1000,
            duplicates=policy,
        )
        rows = [row(sku, qty, line=n) for n, (sku, qty) in enumerate(pairs, start=1)]
        observations, rejected = only(rows, rules)
        rejected_lines = {r.line for r in rejected}
        assert len(rejected_lines) == len(rejected)
        # A SKU that is observed has no rejected row: its copies go together or not at all.
        assert not {r.sku for r in rejected if r.sku} & {o.sku for o in observations}
        if policy == "reject":
            assert len(observations) + len(rejected) == len(rows)
            assert len({o.sku for o in observations}) == len(observations)


SUM = RowRules(source=SourceName("f"), warehouses=(Warehouse("main"),), duplicates="sum")
MAIN = Warehouse("main")


class TestColumns:
    """Good rows come back as one SKU -> quantity dict per warehouse, in feed order."""

    def test_a_quarantined_row_leaves_the_others_in_feed_order(self):
        rows = [row("A", "1", line=2), row("B", "x", line=3), row("C", "3", line=4)]
        good, rejected = validate_rows(rows, RULES)
        assert list(good[MAIN].items()) == [("A", 1), ("C", 3)]
        assert [r.line for r in rejected] == [3]

    def test_rejected_duplicates_leave_the_other_rows(self):
        rows = [
            row("A", "1", line=2),
            row("B", "5", line=3),
            row("A", "2", line=4),
            row("C", "x", line=5),
            row("D", "7", line=6),
        ]
        good, rejected = validate_rows(rows, RULES)
        assert good == {MAIN: {Sku("B"): 5, Sku("D"): 7}}
        duplicate = "duplicate SKU 'A' in warehouse 'main' (also at line {}); duplicates = 'reject'"
        assert rejected == (
            Rejected(
                SourceName("feed"), "feed.csv", 2, "sku", "A",
                duplicate.format(4) + " rejects every copy", sku=Sku("A"), warehouse=MAIN,
            ),
            Rejected(
                SourceName("feed"), "feed.csv", 4, "sku", "A",
                duplicate.format(2) + " rejects every copy", sku=Sku("A"), warehouse=MAIN,
            ),
            Rejected(
                SourceName("feed"), "feed.csv", 5, "quantity", "x",
                "quantity must be a whole number (digits only)", sku=Sku("C"), warehouse=MAIN,
            ),
        )  # fmt: skip

    def test_summed_duplicates_keep_the_first_rows_place(self):
        rows = [
            row("A", "1", line=2),
            row("B", "5", line=3),
            row("A", "2", line=4),
            row("C", "x", line=5),
            row("A", "4", line=6),
            row("D", "7", line=7),
        ]
        good, rejected = validate_rows(rows, SUM)
        assert list(good[MAIN].items()) == [("A", 7), ("B", 5), ("D", 7)]
        assert [(r.line, r.field, r.sku) for r in rejected] == [(5, "quantity", "C")]

    def test_a_sum_that_fails_takes_its_sku_out(self):
        rows = [
            row("A", "1", line=2),
            row("B", "5", line=3),
            row("A", "x", line=4),
            row("C", "6", line=5),
        ]
        good, rejected = validate_rows(rows, SUM)
        assert list(good[MAIN].items()) == [("B", 5), ("C", 6)]
        assert [(r.line, r.reason) for r in rejected] == [
            (2, "cannot sum duplicate SKU 'A': line 4 is rejected"),
            (4, "quantity must be a whole number (digits only)"),
        ]

    def test_each_warehouse_has_its_own_dict_and_those_without_good_rows_none(self):
        rules = RowRules(
            source=SourceName("f"), warehouses=(Warehouse("a"), Warehouse("b"), Warehouse("c"))
        )
        rows = [
            row("A", "1", line=2, warehouse="a"),
            row("A", "2", line=3, warehouse="b"),
            row("B", "3", line=4, warehouse="a"),
            row("C", "x", line=5, warehouse="c"),
        ]
        good, _ = validate_rows(rows, rules)
        assert good == {
            Warehouse("a"): {Sku("A"): 1, Sku("B"): 3},
            Warehouse("b"): {Sku("A"): 2},
        }
