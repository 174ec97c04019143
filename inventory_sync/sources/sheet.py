"""A spreadsheet's rows of typed cells read as text columns below a header, for the judge."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice
from operator import itemgetter

import pyarrow as pa
import pyarrow.compute as pc

from inventory_sync.domain.model import Rejected
from inventory_sync.sources.columnar import Cells, Good, judge
from inventory_sync.sources.delimited import Columns, LayoutError, column_index
from inventory_sync.sources.rows import FIXED_WAREHOUSE, RawRow, RowRules
from inventory_sync.sources.sheet_scan import CellBlock, Irregular, Kind

# Stands in the text columns for a cell the column checks must not settle (a fraction, a
# boolean, a date): it fails every check, so the row is judged per row from its real cells.
_NOT_TEXT = "\x00"
_CHUNK = 65_536  # rows converted at a time: their Python objects never pile up
_WHOLE_LIMIT = 1e18  # whole floats below this are exact int64s, written as digits


@dataclass(frozen=True)
class SheetLayout:
    """Where a sheet's feed is: which row holds the header (None: the first non-blank row)."""

    columns: Columns
    header_row: int | None = None


def judge_sheet(
    held: list[Iterator[Cells]], layout: SheetLayout, rules: RowRules, origin: str
) -> tuple[Good, list[Rejected]]:
    """Judge the rows below the header; lines are the sheet's row numbers.

    ``held`` is a one-item list with an iterator over every row from the sheet's first. It is
    emptied once the rows are columns, so the reader's copy of the sheet can be freed before
    the snapshot's dicts are built. Raises LayoutError when the header is missing or lacks a
    column."""
    rows = held[0]
    header_line, header = _header(enumerate(rows, start=1), layout.header_row)
    records = _records(header_line, header, layout, origin)
    records.read(rows)  # the rest of the rows: the header and what was above it are read
    held.clear()
    del rows
    return judge(records, rules)


def scanned_records(blocks: Iterator[CellBlock], layout: SheetLayout, origin: str) -> _SheetRecords:
    """A sheet read as cell blocks (sheet_scan) as records for columnar.judge, which then
    judges them exactly as judge_sheet judges the same sheet's rows. Only the header and the
    rows judged per row become Python objects.

    Raises Irregular when a value the feed reads is one the blocks do not type as calamine
    does (a date or an error), and LayoutError as judge_sheet does."""
    header_line, header, first = _scanned_header(blocks, layout.header_row)
    records = _records(header_line, header, layout, origin)
    records.read_blocks(chain([first], blocks) if first is not None else blocks)
    pa.default_memory_pool().release_unused()  # the blocks' scratch, before the dicts grow
    return records


def _records(header_line: int, header: Cells, layout: SheetLayout, origin: str) -> _SheetRecords:
    header = _trailing_blanks_cut(header)
    try:
        index = column_index([_header_text(cell) for cell in header], layout.columns, None)
    except LayoutError as err:
        raise LayoutError(f"{err} {_header_taken(header_line, layout.header_row)}") from None
    return _SheetRecords(index, origin, first_line=header_line + 1, width=len(header))


def _header_taken(line: int, header_row: int | None) -> str:
    """Which row was read as the header, and why: a title above the table is the usual cause."""
    if header_row is not None:
        return f"(row {line}, header_row)"
    return (
        f"(row {line}, the first non-blank row; if the column names are on a later row,"
        " set header_row)"
    )


def _trailing_blanks_cut(header: Cells) -> Cells:
    """The header without the empty cells a reader pads it with up to the sheet's width."""
    end = len(header)
    while end and is_blank_row(header[end - 1 : end]):
        end -= 1
    return header[:end]


def _scanned_header(
    blocks: Iterator[CellBlock], header_row: int | None
) -> tuple[int, Cells, CellBlock | None]:
    """The header's line and cells, and the cells after it in the block it ended in."""
    for block in blocks:
        rows = block.row.to_pylist()
        for start, number in enumerate(rows):
            if start and rows[start - 1] == number:
                continue  # a row is looked at from its first cell
            if header_row is not None and number < header_row:
                continue
            if header_row is not None and number > header_row:
                raise LayoutError(f"header row {header_row} is blank")
            cells = block.rows_cells(pa.array([number], pa.int32()))[number]
            if header_row is None and is_blank_row(cells):
                continue
            if is_blank_row(cells):
                raise LayoutError(f"header row {header_row} is blank")
            ends = _row_end(rows, start)
            if Kind.OTHER in block.kind.slice(start, ends - start).to_pylist():
                raise Irregular("a date or error cell in the header")
            rest = block.slice(ends)
            return number, cells, rest if len(rest) else None
    if header_row is None:
        raise LayoutError("sheet has no header row (it is empty or blank)")
    raise LayoutError(f"sheet has no row {header_row} (header_row)")


def _row_end(rows: list[int], start: int) -> int:
    end = start
    while end < len(rows) and rows[end] == rows[start]:
        end += 1
    return end


def _header(numbered: Iterator[tuple[int, Cells]], header_row: int | None) -> tuple[int, Cells]:
    for number, cells in numbered:
        if header_row is None and not is_blank_row(cells):
            return number, cells
        if number == header_row:
            if is_blank_row(cells):
                raise LayoutError(f"header row {header_row} is blank")
            return number, cells
    if header_row is None:
        raise LayoutError("sheet has no header row (it is empty or blank)")
    raise LayoutError(f"sheet has no row {header_row} (header_row)")


class _SheetRecords:
    """A sheet's rows as text columns; the real cells kept for rows the text cannot stand for."""

    def __init__(self, index: dict[str, int], origin: str, *, first_line: int, width: int) -> None:
        self.index, self.origin, self.first_line, self.width = index, origin, first_line, width
        self.kept: dict[int, Cells] = {}  # table index -> the row's cells
        self.table = pa.table({role: pa.array([], pa.string()) for role in index})

    def read(self, rows: Iterable[Cells]) -> None:
        chunks: dict[str, list[pa.Array]] = {role: [] for role in self.index}
        start, it = 0, iter(rows)
        while block := list(islice(it, _CHUNK)):
            for role, position in self.index.items():
                chunks[role].append(_as_text(_column_of(block, position)))
            self._keep_unusual(block, start, chunks["sku"][-1], [c[-1] for c in chunks.values()])
            start += len(block)
        if start:
            self.table = pa.table({role: pa.chunked_array(c) for role, c in chunks.items()})

    def read_blocks(self, blocks: Iterable[CellBlock]) -> None:
        """The rows below the header from cell blocks: each our columns' text, dense by line
        (a row without cells is blank), and the real cells of the rows the text misleads."""
        chunks: dict[str, list[pa.Array]] = {role: [] for role in self.index}
        line = self.first_line  # the first line the next block speaks for
        for block in blocks:
            last = block.row[-1].as_py()
            texts = [self._dense(block, position, line, last) for position in self.index.values()]
            for role, text in zip(self.index, texts, strict=True):
                chunks[role].append(text)
            unusual = pc.indices_nonzero(self._unusual(chunks["sku"][-1], texts))
            if len(unusual):
                lines = pc.add(pc.cast(unusual, pa.int32()), line)
                for number, cells in block.rows_cells(lines).items():
                    self.kept[number - self.first_line] = cells
            line = last + 1
        if line > self.first_line:
            self.table = pa.table({role: pa.chunked_array(c) for role, c in chunks.items()})

    def _dense(self, block: CellBlock, position: int, first: int, last: int) -> pa.Array:
        """One column's text for lines first..last: "" where a line has no cell in it."""
        mask = pc.equal(block.column, position)
        rows, kinds = pc.filter(block.row, mask), pc.filter(block.kind, mask)
        texts = pc.filter(block.text, mask)
        if pc.any(pc.equal(kinds, Kind.OTHER)).as_py():
            raise Irregular("a date, time or error cell in a column the feed reads")
        number = pc.equal(kinds, Kind.NUMBER)
        if pc.any(number).as_py():
            digits = _whole_as_text(pc.cast(pc.if_else(number, texts, "0"), pa.float64()))
            texts = pc.if_else(number, digits, texts)
        texts = pc.if_else(pc.equal(kinds, Kind.BOOL), _NOT_TEXT, texts)
        size = last - first + 1
        if len(rows) == size:  # a cell on every line (lines ascend, one cell each)
            return texts
        at = [len(texts)] * size  # the index of each line's cell; len(texts): none
        for i, row in enumerate(rows.to_pylist()):
            at[row - first] = i
        return pc.take(pa.concat_arrays([texts, pa.array([""])]), pa.array(at, pa.int32()))

    def _unusual(self, sku: pa.Array, columns: list[pa.Array]) -> pa.Array:
        trimmed = pc.ascii_trim(sku, " \t")
        plain = pc.and_(pc.ascii_is_printable(trimmed), pc.greater(pc.binary_length(trimmed), 0))
        unusual = pc.invert(plain)
        for column in columns:
            unusual = pc.or_(unusual, pc.equal(column, _NOT_TEXT))
        return unusual

    def _keep_unusual(
        self, block: list[Cells], start: int, sku: pa.Array, columns: list[pa.Array]
    ) -> None:
        """Keep the real cells of rows with a stand-in cell or a SKU that is not plain text.

        Every other row is exactly what its text columns say (see rows_at); a row whose SKU
        is plain text is not blank, so its other cells do not matter."""
        unusual = self._unusual(sku, columns)
        for i in pc.indices_nonzero(unusual).to_pylist():
            self.kept[start + i] = block[i]

    def set_aside(self) -> Iterable[tuple[int, Cells]]:
        return ()  # every row below the header is in the table

    def rows_at(self, indices: list[int]) -> Iterable[tuple[int, Cells]]:
        picked = self.table.take(indices).to_pylist()
        for i, texts in zip(indices, picked, strict=True):
            yield self.first_line + i, self.kept.get(i) or self._rebuilt(texts)

    def _rebuilt(self, texts: dict[str, str]) -> list[object]:
        # Our cells as their text (12.0 is "12": the row rules read both alike), others empty.
        cells: list[object] = [""] * self.width
        for role, position in self.index.items():
            cells[position] = texts[role]
        return cells

    def table_index(self, line: int) -> int:
        return line - self.first_line

    def raw_row(self, line: int, cells: Cells) -> RawRow | Rejected | None:
        if is_blank_row(cells):
            return None
        column = self.index.get("warehouse")
        warehouse = FIXED_WAREHOUSE if column is None else _cell(cells, column)
        sku, quantity = _cell(cells, self.index["sku"]), _cell(cells, self.index["quantity"])
        return RawRow(self.origin, line, sku, quantity, warehouse)


def _column_of(block: list[Cells], position: int) -> list[object]:
    try:
        return list(map(itemgetter(position), block))  # in C: a rectangular sheet's rows
    except IndexError:
        return [_at(row, position) for row in block]


def _as_text(cells: list[object]) -> pa.Array:
    """One column of cells as text: whole numbers as digits, other non-text as _NOT_TEXT."""
    return pc.fill_null(_inferred_text(cells), "")  # an empty cell (None) is blank text


def _inferred_text(cells: list[object]) -> pa.Array:
    # Most columns hold one type: text, or numbers as floats (pyarrow would read True as 1.0,
    # so the types are looked at exactly). Others are converted cell by cell.
    types = set(map(type, cells)) - {type(None)}
    if types <= {str}:
        return pa.array(cells, pa.string())
    if types <= {float}:  # ints (rare) go cell by cell: a float would round a long one
        return _whole_as_text(pa.array(cells, pa.float64()))
    return pa.array([_cell_text(cell) for cell in cells], pa.string())


def _whole_as_text(numbers: pa.Array) -> pa.Array:
    whole = pc.and_(pc.equal(pc.floor(numbers), numbers), pc.less(pc.abs(numbers), _WHOLE_LIMIT))
    digits = pc.cast(pc.cast(pc.if_else(whole, numbers, 0.0), pa.int64()), pa.string())
    return pc.if_else(whole, digits, _NOT_TEXT)


def _cell_text(cell: object) -> str:
    value = cell_value(cell)
    if isinstance(value, str):
        return value
    if type(value) is int and abs(value) < _WHOLE_LIMIT:
        return str(value)
    return _NOT_TEXT


def _at(row: Cells, position: int) -> object:
    # A reader may end a row at its last filled cell: the ones after it are empty.
    return row[position] if position < len(row) else ""


def _cell(cells: Cells, column: int) -> object:
    return cell_value(_at(cells, column))


def cell_value(cell: object) -> object:
    """A cell as the row rules read it: a whole number stays whole (12.0 is 12), blank is ''.

    A spreadsheet stores every number as a float, so 12 typed into a cell arrives as 12.0;
    keeping it an int makes a SKU typed as 12345 read "12345", not "12345.0"."""
    if type(cell) is float and cell.is_integer():
        return int(cell)
    return "" if cell is None else cell


def is_blank_row(cells: Cells) -> bool:
    """A row of empty or blank cells, skipped like a blank line in a CSV file."""
    return all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in cells)


def _header_text(cell: object) -> str:
    value = cell_value(cell)
    return value if isinstance(value, str) else str(value)
