"""Judging a feed by whole columns at once; the rows the columns cannot settle go per row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa
import pyarrow.compute as pc

from inventory_sync.domain.model import Rejected, Sku, Warehouse
from inventory_sync.sources.rows import RawRow, RowRules, known_warehouse, row_key, validate_rows

_MAX_DIGITS = 18  # fits an int64; longer is above any max_quantity, judged per row
_UNKNOWN = -1  # warehouse code of a value no row may use

Good = dict[Warehouse, dict[Sku, int]]
Cells = Sequence[object]


class Records(Protocol):
    """A feed read as text columns, and the way back to its rows for those judged per row."""

    @property
    def table(self) -> pa.Table:
        """Columns "sku", "quantity" and, when the feed has one, "warehouse", as text."""
        ...

    def set_aside(self) -> Iterable[tuple[int, Cells]]:
        """Rows (line, cells) that the reader kept out of the table."""
        ...

    def rows_at(self, indices: list[int]) -> Iterable[tuple[int, Cells]]:
        """The rows (line, cells) of these table rows, in order, as the feed has them."""
        ...

    def table_index(self, line: int) -> int:
        """How many table rows come before this line."""
        ...

    def raw_row(self, line: int, cells: Cells) -> RawRow | Rejected | None:
        """A row as the per-row path reads it: a RawRow, a rejected shape, or None (blank)."""
        ...


@dataclass
class _Odd:
    """Rows the column checks did not settle: they take the per-row path."""

    rows: list[RawRow] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)  # broken shape, judged by the reader

    def add(self, judged: RawRow | Rejected | None) -> None:
        if isinstance(judged, RawRow):
            self.rows.append(judged)
        elif judged is not None:
            self.rejected.append(judged)


def judge(records: Records, rules: RowRules) -> tuple[Good, list[Rejected]]:
    """Good rows as columns per warehouse and the rejected rows, exactly as validate_rows
    would judge the same rows one by one (feed order included)."""
    return _Judge(records, rules).run()


class _Judge:
    """One feed's table judged by columns; rows it cannot settle go through validate_rows."""

    def __init__(self, records: Records, rules: RowRules) -> None:
        self.records, self.table, self.rules = records, records.table, rules

    def run(self) -> tuple[Good, list[Rejected]]:
        keys, quantities, codes, ok = self._columns()
        pa.default_memory_pool().release_unused()  # the checks' scratch, before the dicts grow
        odd = _Odd()
        for line, cells in self.records.set_aside():
            odd.add(self.records.raw_row(line, cells))
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
        sku = _trimmed(self.table.column("sku"))
        sku_ok = pc.and_(pc.ascii_is_printable(sku), pc.greater(pc.binary_length(sku), 0))
        text = _trimmed(self.table.column("quantity"))
        digits = pc.less_equal(pc.binary_length(text), _MAX_DIGITS)
        q_ok = pc.and_(pc.ascii_is_decimal(text), digits)
        if not pc.all(q_ok).as_py():  # blank the others, or the cast fails; else no copy
            text = pc.if_else(q_ok, text, "0")
        quantities = pc.cast(text, pa.int64())
        q_ok = pc.and_(q_ok, pc.less_equal(quantities, self.rules.max_quantity))
        codes = self._warehouse_codes()
        ok = pc.and_(pc.and_(sku_ok, q_ok), pc.not_equal(codes, _UNKNOWN))
        ok = pc.fill_null(ok, fill_value=False)  # a null (no text at all) is never settled here
        if self.rules.sku_case == "upper":
            sku = pc.utf8_upper(sku)  # ASCII-only where it counts: the same as str.upper()
        elif self.rules.sku_case == "lower":
            sku = pc.utf8_lower(sku)
        return sku, quantities, codes, ok

    def _warehouse_codes(self) -> pa.Array:
        """Per row, the position of its warehouse in rules.warehouses, or _UNKNOWN."""
        if "warehouse" not in self.table.column_names:
            return pa.repeat(pa.scalar(0, pa.int32()), self.table.num_rows)
        # A feed names a handful of warehouses a million times: resolve each value once.
        values = self.table.column("warehouse")
        distinct = pc.unique(values)
        codes = pa.array([self._code(value) for value in distinct.to_pylist()], pa.int32())
        return pc.take(codes, pc.index_in(values, value_set=distinct))

    def _code(self, value: str) -> int:
        warehouse = known_warehouse(value, self.rules)
        return _UNKNOWN if warehouse is None else self.rules.warehouses.index(warehouse)

    def _add_table_rows(self, odd: _Odd, indices: pa.Array) -> None:
        if len(indices) == 0:
            return
        for line, cells in self.records.rows_at(indices.to_pylist()):
            odd.add(self.records.raw_row(line, cells))

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
                before = self.records.table_index(first_lines[(warehouse, sku)])
                place = pc.sum(pc.less(fast_rows, before)).as_py() or 0
                places.append((place, sku, quantity))
            items = list(good[warehouse].items())
            for place, sku, quantity in reversed(places):
                items.insert(place, (sku, quantity))
            good[warehouse] = dict(items)


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
