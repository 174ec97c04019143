"""Plain delimited text read as columns by pyarrow, for the columnar judge."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from inventory_sync.domain.model import Rejected
from inventory_sync.sources.columnar import Cells, Good, judge
from inventory_sync.sources.delimited import (
    Columns,
    column_index,
    is_blank,
    named_sku,
    shape_problem,
)
from inventory_sync.sources.rows import FIXED_WAREHOUSE, RawRow, RowRules

# The csv module's default field_size_limit: a longer field is its error, judged per row.
_FIELD_LIMIT = 131_072


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
    judged = judge(_DelimitedRecords(read, index, rules, origin), rules)
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


class _DelimitedRecords:
    """A delimited feed's table, its set-aside lines, and records as the csv module gives them."""

    def __init__(self, read: _Read, index: dict[str, int], rules: RowRules, origin: str) -> None:
        self.read, self.index, self.rules, self.origin = read, index, rules, origin
        self.table = pa.table({role: read.table.column(i) for role, i in index.items()})
        self.skipped = sorted(line for line, _ in read.aside)  # lines not in the table

    def set_aside(self) -> Iterable[tuple[int, Cells]]:
        return ((line, text.split(self.read.delimiter)) for line, text in self.read.aside)

    def rows_at(self, indices: list[int]) -> Iterable[tuple[int, Cells]]:
        picked = self.read.table.take(indices).to_pylist()
        return zip(self._lines(indices), (list(r.values()) for r in picked), strict=True)

    def table_index(self, line: int) -> int:
        """Table rows before this file line: lines after the header, less lines set aside."""
        return line - 2 - bisect.bisect_left(self.skipped, line)

    def raw_row(self, line: int, cells: Cells) -> RawRow | Rejected | None:
        """A record the columns did not settle, treated as the per-row reader treats it."""
        text = [str(cell) for cell in cells]
        if is_blank(text):
            return None
        is_tail = line == self.read.last_line and not self.read.ends_cleanly
        why = shape_problem(text, self.read.width, is_tail=is_tail)
        if why:
            named = named_sku(text, self.index["sku"], is_tail=is_tail)
            value = self.read.delimiter.join(text)
            return Rejected(self.rules.source, self.origin, line, None, value, why, sku=named)
        column = self.index.get("warehouse")
        warehouse = FIXED_WAREHOUSE if column is None else text[column]
        sku, quantity = text[self.index["sku"]], text[self.index["quantity"]]
        return RawRow(self.origin, line, sku, quantity, warehouse)

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
