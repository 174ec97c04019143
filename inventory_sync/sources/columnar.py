"""The fast path for delimited feeds: whole columns judged at once, odd rows judged one by one."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from inventory_sync.domain.model import Rejected, Sku, Warehouse
from inventory_sync.sources.delimited import (
    Columns,
    column_index,
    is_blank,
    named_sku,
    shape_problem,
)
from inventory_sync.sources.rows import (
    FIXED_WAREHOUSE,
    RawRow,
    RowRules,
    known_warehouse,
    row_key,
    validate_rows,
)

# The csv module's default field_size_limit: a longer field is its error, judged per row.
_FIELD_LIMIT = 131_072
_MAX_DIGITS = 18  # fits an int64; longer is above any max_quantity, judged per row
_UNKNOWN = -1  # warehouse code of a value no row may use

Good = dict[Warehouse, dict[Sku, int]]


@dataclass
class _Odd:
    """Rows the column checks did not settle: they take the per-row path."""

    rows: list[RawRow] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)  # broken shape, judged here


def judge_columns(
    held: list[bytes], *, delimiter: str, columns: Columns, rules: RowRules, origin: str
) -> tuple[Good, list[Rejected]] | None:
    """Judge a UTF-8 feed by columns; None when only the per-row reader reads it the same way.

    ``held`` is a one-item list with the feed's bytes. Once they are read into columns the
    list is emptied, so that the caller's last reference goes and the bytes can be freed
    before the snapshot's dicts are built (30 MB of a million-row feed). It is left as it was
    when None is returned. Raises LayoutError for an unusable header, with the per-row
    reader's messages."""
    feed = held[0].removeprefix(b"\xef\xbb\xbf")
    if not _is_plain(feed, delimiter):
        return None
    header = feed[: feed.find(b"\n")].decode().rstrip("\r").split(delimiter)
    index = column_index(header, columns, delimiter)
    if len(header) < 2 or len(set(index.values())) < len(index):  # noqa: PLR2004 - sku+quantity
        return None
    read = _read_table(feed, len(header), delimiter)
    if read is None:
        return None
    held.clear()
    del feed
    judged = _Judge(read, index, rules, origin).run()
    del read
    # Hand the columns' memory back now: the snapshot's dicts and the plan come next.
    pa.default_memory_pool().release_unused()
    return judged


def _is_plain(feed: bytes, delimiter: str) -> bool:
    """Text where a record is a line: no quotes, no lone CR, no NUL, a header on line one.

    Anything else (quoted fields may hold line breaks and delimiters) goes to the csv module."""
    first = feed.find(b"\n")
    if first <= 0 or not feed[:first].strip() or b'"' in feed or b"\x00" in feed:
        return False
    if b"\r" in feed and feed.count(b"\r") != feed.count(b"\r\n"):
        return False
    # An unfinished blank last line would make the record before it "the last" per row.
    tail = feed[feed.rfind(b"\n") + 1 :]
    return not tail or not is_blank(tail.decode().split(delimiter))


@dataclass(frozen=True)
class _Read:
    """A feed as columns: every line of the header's width, and the other lines set aside."""

    table: pa.Table
    aside: list[tuple[int, str]]  # line, text
    width: int
    delimiter: str
    ends_cleanly: bool
    last_line: int


def _read_table(feed: bytes, width: int, delimiter: str) -> _Read | None:
    """Every line of the right width as text columns; the others set aside with their line."""
    aside: list[tuple[int, str]] = []

    def set_aside(row: pa_csv.InvalidRow) -> str:
        if row.number is None:  # never so without quoted line breaks; give up the fast path
            raise _NoLineNumber
        aside.append((row.number, row.text))
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = _read_csv(feed, names, delimiter, set_aside)
    except _NoLineNumber:
        return None
    if any((pc.max(pc.binary_length(c)).as_py() or 0) > _FIELD_LIMIT for c in table.columns):
        return None
    ends_cleanly = feed.endswith(b"\n")
    last_line = 0 if ends_cleanly else feed.count(b"\n") + 1  # only an unfinished one matters
    return _Read(table, aside, width, delimiter, ends_cleanly, last_line)


class _NoLineNumber(Exception):
    """pyarrow could not say on which line a set-aside row is."""


def _read_csv(
    feed: bytes, names: list[str], delimiter: str, set_aside: Callable[[Any], str]
) -> pa.Table:
    return pa_csv.read_csv(
        pa.BufferReader(feed),
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter,
            quote_char=False,
            ignore_empty_lines=False,  # an empty line is a row of empty cells: skipped per row
            invalid_row_handler=set_aside,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )


class _Judge:
    """One feed's table judged by columns; rows it cannot settle go through validate_rows."""

    def __init__(self, read: _Read, index: dict[str, int], rules: RowRules, origin: str) -> None:
        self.read, self.table, self.index, self.rules = read, read.table, index, rules
        self.origin, self.delimiter = origin, read.delimiter
        self.skipped = sorted(line for line, _ in read.aside)  # lines not in the table

    def run(self) -> tuple[Good, list[Rejected]]:
        keys, quantities, codes, ok = self._columns()
        pa.default_memory_pool().release_unused()  # the checks' scratch, before the dicts grow
        odd = _Odd()
        for line, text in self.read.aside:
            self._add(odd, line, text.split(self.delimiter))
        self._add_table_rows(odd, pc.indices_nonzero(pc.invert(ok)))
        taken = _keys_by_warehouse(odd.rows, self.rules)
        good: Good = {}
        fast: dict[Warehouse, pa.Array] = {}
        for code, warehouse in enumerate(self.rules.warehouses):
            mask = pc.and_(ok, pc.equal(codes, code))
            column, mask, moved = _column(keys, quantities, mask, taken.get(warehouse, set()))
            self._add_table_rows(odd, moved)
            good[warehouse], fast[warehouse] = column, mask
        odd.rows.sort(key=lambda r: r.line or 0)
        judged, rejected = validate_rows(odd.rows, self.rules)
        self._merge(good, fast, judged, _first_lines(odd.rows, self.rules))
        good = {w: column for w, column in good.items() if column}
        return good, [*odd.rejected, *rejected]

    def _columns(self) -> tuple[pa.ChunkedArray, pa.ChunkedArray, pa.Array, pa.ChunkedArray]:
        """SKU keys, quantities, warehouse codes, and which rows they settle on their own.

        A row is settled when its SKU is printable ASCII (spaces and tabs trimmed), its
        quantity plain digits within max_quantity and its warehouse known: exactly the rows the
        per-row rules accept at their first check. Everything else is judged per row."""
        sku = _trimmed(self.table.column(self.index["sku"]))
        sku_ok = pc.and_(pc.ascii_is_printable(sku), pc.greater(pc.binary_length(sku), 0))
        text = _trimmed(self.table.column(self.index["quantity"]))
        digits = pc.less_equal(pc.binary_length(text), _MAX_DIGITS)
        q_ok = pc.and_(pc.ascii_is_decimal(text), digits)
        if not pc.all(q_ok).as_py():  # blank the others, or the cast fails; else no copy
            text = pc.if_else(q_ok, text, "0")
        quantities = pc.cast(text, pa.int64())
        q_ok = pc.and_(q_ok, pc.less_equal(quantities, self.rules.max_quantity))
        codes = self._warehouse_codes()
        ok = pc.and_(pc.and_(sku_ok, q_ok), pc.not_equal(codes, _UNKNOWN))
        if self.rules.sku_case == "upper":
            sku = pc.utf8_upper(sku)  # ASCII-only where it counts: the same as str.upper()
        elif self.rules.sku_case == "lower":
            sku = pc.utf8_lower(sku)
        return sku, quantities, codes, ok

    def _warehouse_codes(self) -> pa.Array:
        """Per row, the position of its warehouse in rules.warehouses, or _UNKNOWN."""
        column = self.index.get("warehouse")
        if column is None:
            return pa.repeat(pa.scalar(0, pa.int32()), self.table.num_rows)
        # A feed names a handful of warehouses a million times: resolve each value once.
        values = self.table.column(column)
        distinct = pc.unique(values)
        codes = pa.array([self._code(value) for value in distinct.to_pylist()], pa.int32())
        return pc.take(codes, pc.index_in(values, value_set=distinct))

    def _code(self, value: str) -> int:
        warehouse = known_warehouse(value, self.rules)
        return _UNKNOWN if warehouse is None else self.rules.warehouses.index(warehouse)

    def _add_table_rows(self, odd: _Odd, indices: pa.Array) -> None:
        if len(indices) == 0:
            return
        picked = self.table.take(indices).to_pylist()
        for line, record in zip(self._lines(indices.to_pylist()), picked, strict=True):
            self._add(odd, line, list(record.values()))

    def _add(self, odd: _Odd, line: int, cells: list[str]) -> None:
        """A record the columns did not settle, treated as the per-row reader treats it."""
        if is_blank(cells):
            return
        is_tail = line == self.read.last_line and not self.read.ends_cleanly
        why = shape_problem(cells, self.read.width, is_tail=is_tail)
        if why:
            named = named_sku(cells, self.index["sku"], is_tail=is_tail)
            value = self.delimiter.join(cells)
            odd.rejected.append(
                Rejected(self.rules.source, self.origin, line, None, value, why, sku=named)
            )
            return
        column = self.index.get("warehouse")
        warehouse = FIXED_WAREHOUSE if column is None else cells[column]
        sku, quantity = cells[self.index["sku"]], cells[self.index["quantity"]]
        odd.rows.append(RawRow(self.origin, line, sku, quantity, warehouse))

    def _lines(self, indices: list[int]) -> list[int]:
        """File lines of table rows (ascending indices): the header, then lines set aside."""
        lines, passed = [], 0
        for i in indices:
            line = i + 2 + passed
            while passed < len(self.skipped) and self.skipped[passed] <= line:
                passed += 1
                line += 1
            lines.append(line)
        return lines

    def _merge(
        self,
        good: Good,
        fast: dict[Warehouse, pa.Array],
        judged: Good,
        first_lines: dict[tuple[Warehouse, Sku], int],
    ) -> None:
        """Put SKUs judged per row into their columns at their first row's place (feed order)."""
        for warehouse, extra in judged.items():
            fast_rows = pc.indices_nonzero(fast[warehouse])
            places = []
            for sku, quantity in extra.items():
                before = self._table_index(first_lines[(warehouse, sku)])
                place = pc.sum(pc.less(fast_rows, before)).as_py() or 0
                places.append((place, sku, quantity))
            items = list(good[warehouse].items())
            for place, sku, quantity in reversed(places):
                items.insert(place, (sku, quantity))
            good[warehouse] = dict(items)

    def _table_index(self, line: int) -> int:
        """Table rows before this file line: lines after the header, less lines set aside."""
        return line - 2 - bisect.bisect_left(self.skipped, line)


def _trimmed(cells: pa.ChunkedArray) -> pa.ChunkedArray:
    """Cells without surrounding spaces and tabs (the rest of str.strip() is judged per row).

    Most feeds have none: the column is then used as it is, without a copy."""
    for pad in (" ", "\t"):  # four plain scans cost a quarter of one regular expression
        if pc.any(pc.starts_with(cells, pad)).as_py() or pc.any(pc.ends_with(cells, pad)).as_py():
            return pc.ascii_trim(cells, " \t")
    return cells


def _column(
    keys: pa.ChunkedArray, quantities: pa.ChunkedArray, mask: pa.Array, taken: set[Sku]
) -> tuple[dict[Sku, int], pa.Array, pa.Array]:
    """One warehouse's settled rows as SKU -> quantity; rows sharing a SKU with a row judged
    per row, or with each other, are moved out (returned) to be judged per row together."""
    moved = pa.array([], pa.uint64())
    if taken:
        clash = pc.and_(mask, pc.is_in(keys, value_set=pa.array(sorted(taken), pa.string())))
        moved, mask = pc.indices_nonzero(clash), pc.and_(mask, pc.invert(clash))
    skus = pc.filter(keys, mask)
    column = dict(zip(skus.to_pylist(), pc.filter(quantities, mask).to_pylist(), strict=True))
    if len(column) < len(skus):  # the same SKU twice: every copy is judged per row
        counts = pc.value_counts(skus)
        twice = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
        clash = pc.and_(mask, pc.is_in(keys, value_set=twice))
        moved = pa.concat_arrays([moved, pc.indices_nonzero(clash)])
        mask = pc.and_(mask, pc.invert(clash))
        for sku in twice.to_pylist():
            del column[sku]
    return column, mask, pc.take(moved, pc.sort_indices(moved))


def _keys_by_warehouse(rows: list[RawRow], rules: RowRules) -> dict[Warehouse, set[Sku]]:
    taken: dict[Warehouse, set[Sku]] = {}
    for row in rows:
        key = row_key(row, rules)
        if key is not None:
            taken.setdefault(key[0], set()).add(key[1])
    return taken


def _first_lines(rows: list[RawRow], rules: RowRules) -> dict[tuple[Warehouse, Sku], int]:
    first: dict[tuple[Warehouse, Sku], int] = {}
    for row in rows:  # sorted by line
        key = row_key(row, rules)
        if key is not None and row.line is not None:
            first.setdefault(key, row.line)
    return first
