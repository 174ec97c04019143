"""Sheet rows judged by columns agree with the same cells judged one row at a time."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory_sync.domain.model import SourceName, Warehouse
from inventory_sync.sources.delimited import Columns
from inventory_sync.sources.rows import FIXED_WAREHOUSE, RawRow, RowRules, validate_rows
from inventory_sync.sources.sheet import SheetLayout, cell_value, is_blank_row, judge_sheet

EAST_WEST = (Warehouse("east"), Warehouse("west"))
LAYOUT = SheetLayout(Columns("sku", "quantity", "site"))


def by_columns(rows, rules):
    good, rejected = judge_sheet([iter(rows)], LAYOUT, rules, "s.xlsx[S]")
    return good, sorted(rejected, key=lambda r: r.line)


def one_by_one(rows, rules):
    """The reference: each row below the header (row 1) read and judged on its own."""
    header = [str(c).strip().casefold() for c in rows[0]]
    at = {name: header.index(name) for name in ("sku", "quantity", "site")}
    raw = [
        RawRow("s.xlsx[S]", line, cell_value(r[at["sku"]]), cell_value(r[at["quantity"]]),
               cell_value(r[at["site"]]))
        for line, r in enumerate(rows[1:], start=2)
        if not is_blank_row(r)
    ]  # fmt: skip
    good, rejected = validate_rows(raw, rules)
    return good, sorted(rejected, key=lambda r: r.line)


def rules(**overrides) -> RowRules:
    fields = {"source": SourceName("f"), "warehouses": EAST_WEST, "max_quantity": 20}
    return RowRules(**{**fields, "warehouse_field": "site", **overrides})


def agree(rows, rule_set) -> None:
    fast, slow = by_columns(rows, rule_set), one_by_one(rows, rule_set)
    assert fast == slow
    # Each warehouse's SKUs in feed order (the order of the warehouses themselves is free).
    assert {w: list(c.items()) for w, c in fast[0].items()} == {
        w: list(c.items()) for w, c in slow[0].items()
    }


CELL = st.sampled_from(
    ["A", "B", " A", "É", "", " ", "x", "12", 1.0, 2.0, 12345.0, 2.5, -3.0, 25.0, True, None,
     date(2026, 1, 5), 1e20]
)  # fmt: skip
SITE = st.sampled_from(["east", "west", " east", "north", "", 7.0, None])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(st.tuples(CELL, CELL, SITE, CELL), max_size=12),
    duplicates=st.sampled_from(["reject", "sum"]),
    sku_case=st.sampled_from(["keep", "upper", "lower"]),
)
def test_any_sheet_is_judged_by_columns_as_row_by_row(body, duplicates, sku_case):
    rows = [["sku", "quantity", "site", "note"], *[list(r) for r in body]]
    agree(rows, rules(duplicates=duplicates, sku_case=sku_case))


def test_a_sheet_longer_than_one_chunk_keeps_lines_duplicates_and_order():
    body = [[f"S{i}", float(i % 7), "east", None] for i in range(70_000)]
    body[66_000] = ["S5", 1.0, "east", None]  # a copy of row 7's SKU, in the second chunk
    body[69_000] = ["BAD", 2.5, "west", None]
    body[40_000] = [None, None, None, "a note, and nothing else"]
    rows = [["sku", "quantity", "site", "note"], *body]
    agree(rows, rules(max_quantity=1000))
    good, rejected = by_columns(rows, rules(max_quantity=1000))
    assert [(r.line, r.sku) for r in rejected] == [
        (7, "S5"), (40_002, None), (66_002, "S5"), (69_002, "BAD"),
    ]  # fmt: skip
    assert len(good[Warehouse("east")]) == 70_000 - 4


def test_a_sheet_without_a_warehouse_column_serves_its_one_warehouse():
    layout = SheetLayout(Columns("sku", "quantity"))
    rule_set = RowRules(source=SourceName("f"), warehouses=(Warehouse("main"),))
    good, _ = judge_sheet([iter([["sku", "quantity"], ["A", 3.0]])], layout, rule_set, "s")
    assert good == {Warehouse("main"): {"A": 3}}
    assert FIXED_WAREHOUSE is not None
