"""Reading delimited text (CSV, TSV) into raw rows, rejecting rows whose shape is broken."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from inventory_sync.domain.model import Rejected, Sku, SourceName
from inventory_sync.sources.rows import FIXED_WAREHOUSE, RawRow

_OTHER_DELIMITERS = (",", ";", "\t", "|")

_RejectFn = Callable[[int, str | None, str, Sku | None], None]


class LayoutError(Exception):
    """The text cannot be read as a feed at all (no header, a missing column)."""


@dataclass(frozen=True)
class Columns:
    """The header names a feed uses for the fields we need."""

    sku: str
    quantity: str
    warehouse: str | None = None


@dataclass
class ParsedFeed:
    """Rows read from one file, plus rows rejected for their shape before validation.

    ``rows`` is read lazily, one record at a time, so a million-row file is never held as a
    million records; ``rejected`` is complete once ``rows`` has been consumed.
    """

    rows: Iterator[RawRow]
    rejected: list[Rejected] = field(default_factory=list)


_Record = tuple[int, list[str]]  # where the record starts (a quoted field may span lines), cells


def parse_delimited(
    text: str, *, delimiter: str, columns: Columns, source: SourceName, origin: str
) -> ParsedFeed:
    """Turn decoded text into raw rows; raise LayoutError when the header is unusable."""
    rejected: list[Rejected] = []

    def reject(line: int, value: str | None, reason: str, sku: Sku | None = None) -> None:
        rejected.append(Rejected(source, origin, line, None, value, reason, sku=sku))

    records = _read_records(text.removeprefix("\ufeff"), delimiter, reject)
    header = next(records, None)
    if header is None:
        raise LayoutError("file has no header row (it is empty or blank)")
    index = column_index(header[1], columns, delimiter)
    shape = _Shape(len(header[1]), delimiter, ends_cleanly=text.endswith(("\n", "\r")))
    return ParsedFeed(_raw_rows(records, index, origin, shape, reject), rejected)


@dataclass(frozen=True)
class _Shape:
    """What a record's shape is judged by: the header's width, the delimiter, the file's end."""

    width: int
    delimiter: str
    ends_cleanly: bool


def _raw_rows(
    records: Iterator[_Record],
    index: dict[str, int],
    origin: str,
    shape: _Shape,
    reject: _RejectFn,
) -> Iterator[RawRow]:
    """A RawRow per well-shaped record; one record is held back to know which is the last."""
    sku, quantity = index["sku"], index["quantity"]
    warehouse = index.get("warehouse")
    pending = next(records, None)
    while pending is not None:
        following = next(records, None)
        line, cells = pending
        is_tail = following is None and not shape.ends_cleanly
        why = shape_problem(cells, shape.width, is_tail=is_tail)
        if why:
            named = named_sku(cells, sku, is_tail=is_tail)
            reject(line, shape.delimiter.join(cells), why, named)
        else:
            where = FIXED_WAREHOUSE if warehouse is None else cells[warehouse]
            yield RawRow(origin, line, cells[sku], cells[quantity], where)
        pending = following


def _read_records(text: str, delimiter: str, reject: _RejectFn) -> Iterator[_Record]:
    """Every non-blank record; records the csv module cannot parse are rejected, not fatal."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    previous_end = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            start = previous_end + 1
            reason = f"unreadable record ({err})"
            if "end of data" in str(err):
                reason = f"a quote opened on line {start} is never closed; rest of file unread"
            reject(start, None, reason, None)
            previous_end = reader.line_num
            continue
        start, previous_end = previous_end + 1, reader.line_num
        if not is_blank(cells):
            yield start, cells


def is_blank(cells: list[str]) -> bool:
    """A record of nothing but empty or blank fields, skipped like an empty line."""
    # The first cell usually settles it without the full scan.
    return not (any(cells) and (cells[0].strip() or any(cell.strip() for cell in cells)))


def column_index(header: list[str], columns: Columns, delimiter: str | None) -> dict[str, int]:
    """Find our columns in the header, case- and space-insensitively."""
    names = [cell.strip().casefold() for cell in header]
    wanted = {"sku": columns.sku, "quantity": columns.quantity}
    if columns.warehouse is not None:
        wanted["warehouse"] = columns.warehouse
    index: dict[str, int] = {}
    for role, column in wanted.items():
        hits = [i for i, name in enumerate(names) if name == column.strip().casefold()]
        if not hits:
            raise LayoutError(_missing_column(column, role, header, delimiter))
        if len(hits) > 1:
            raise LayoutError(f"column {column!r} appears {len(hits)} times in the header")
        index[role] = hits[0]
    return index


def _missing_column(column: str, role: str, header: list[str], delimiter: str | None) -> str:
    message = f"missing {role} column {column!r}; the header has {[c.strip() for c in header]}"
    if len(header) == 1:
        # Only a delimiter that splits the wanted name out of the cell: a title such as
        # "Stock export, 1 May" holds a comma, and is not CSV text.
        wanted = column.strip().casefold()
        seen = [
            d
            for d in _OTHER_DELIMITERS
            if d != delimiter and wanted in (part.strip().casefold() for part in header[0].split(d))
        ]
        if seen and delimiter is None:  # a spreadsheet: one cell holds the whole header
            message += f" - the header is one cell containing {seen[0]!r} (CSV text in a sheet?)"
        elif seen:
            message += f" - the delimiter is {delimiter!r}, but the header contains {seen[0]!r}"
    return message


def named_sku(cells: list[str], sku: int, *, is_tail: bool) -> Sku | None:
    """The SKU cell's text of a misshapen record, to name it in the rejection."""
    # A cut-off last line may have cut its SKU too: only whole records name theirs.
    named = cells[sku].strip() if sku < len(cells) and not is_tail else ""
    return Sku(named) if named and named.isprintable() else None


def shape_problem(cells: list[str], width: int, *, is_tail: bool) -> str | None:
    """Why a record's field count is wrong for the header, or None when it is fine."""
    if len(cells) < width:
        if is_tail:
            return (
                f"file ends mid-row (no final newline, {len(cells)} of {width} fields):"
                " truncated upload?"
            )
        return f"row has {len(cells)} fields, the header has {width}"
    if len(cells) > width and any(cell.strip() for cell in cells[width:]):
        return f"row has {len(cells)} fields, the header has {width} (a stray delimiter?)"
    return None
