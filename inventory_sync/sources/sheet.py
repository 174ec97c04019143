"""Reading a spreadsheet's rows of typed cells into raw rows, below a header row."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from inventory_sync.sources.delimited import Columns, LayoutError, column_index
from inventory_sync.sources.rows import FIXED_WAREHOUSE, RawRow


@dataclass(frozen=True)
class SheetLayout:
    """Where a sheet's feed is: which row holds the header (None: the first non-blank row)."""

    columns: Columns
    header_row: int | None = None


def sheet_rows(
    rows: Iterable[Sequence[object]], layout: SheetLayout, origin: str
) -> Iterator[RawRow]:
    """A RawRow per non-blank row below the header, its line the sheet's row number.

    Raises LayoutError (before the first row) when the header is missing or lacks a column."""
    numbered = enumerate(rows, start=1)  # the reader yields every row from the sheet's first
    header = _header(numbered, layout.header_row)
    index = column_index([_text(cell) for cell in header], layout.columns, None)
    return _raw_rows(numbered, index, origin)


def _header(
    numbered: Iterator[tuple[int, Sequence[object]]], header_row: int | None
) -> Sequence[object]:
    for number, cells in numbered:
        if header_row is None and not is_blank_row(cells):
            return cells
        if number == header_row:
            if is_blank_row(cells):
                raise LayoutError(f"header row {header_row} is blank")
            return cells
    if header_row is None:
        raise LayoutError("sheet has no header row (it is empty or blank)")
    raise LayoutError(f"sheet has no row {header_row} (header_row)")


def _raw_rows(
    numbered: Iterator[tuple[int, Sequence[object]]], index: dict[str, int], origin: str
) -> Iterator[RawRow]:
    sku, quantity = index["sku"], index["quantity"]
    warehouse = index.get("warehouse")
    for line, cells in numbered:
        if is_blank_row(cells):
            continue
        where = FIXED_WAREHOUSE if warehouse is None else _cell(cells, warehouse)
        yield RawRow(origin, line, _cell(cells, sku), _cell(cells, quantity), where)


def _cell(cells: Sequence[object], column: int) -> object:
    # A reader may end a row at its last filled cell: the ones after it are empty.
    return cell_value(cells[column]) if column < len(cells) else ""


def cell_value(cell: object) -> object:
    """A cell as the row rules read it: a whole number stays whole (12.0 is 12), blank is ''.

    A spreadsheet stores every number as a float, so 12 typed into a cell arrives as 12.0;
    keeping it an int makes a SKU typed as 12345 read "12345", not "12345.0"."""
    if type(cell) is float and cell.is_integer():
        return int(cell)
    return "" if cell is None else cell


def is_blank_row(cells: Sequence[object]) -> bool:
    """A row of empty or blank cells, skipped like a blank line in a CSV file."""
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _text(cell: object) -> str:
    value = cell_value(cell)
    return value if isinstance(value, str) else str(value)
