"""Helpers for source tests: a spec builder, a secrets fake, feed files with chosen mtimes."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from inventory_sync.domain.model import Completeness, QuantityBasis, SourceName, Warehouse
from inventory_sync.sources.base import SourceSpec

# Files get mtimes relative to this instant; the clock starts well after, so files are stable.
EPOCH = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def make_spec(*warehouses: str, **overrides) -> SourceSpec:
    fields = {
        "name": SourceName("feed"),
        "warehouses": tuple(Warehouse(w) for w in (warehouses or ("main",))),
        "basis": QuantityBasis.ON_HAND,
        "completeness": Completeness.COMPLETE,
    }
    fields.update(overrides)
    return SourceSpec(**fields)


class Secrets:
    """A credentials directory in a dict."""

    def __init__(self, **values: str) -> None:
        self.values = values

    def __call__(self, name: str) -> str:
        try:
            return self.values[name]
        except KeyError:
            raise FileNotFoundError(f"no credential named {name!r}") from None


def write_file(path: Path, content: str | bytes, *, mtime: datetime = EPOCH) -> Path:
    """Write a feed file and set its mtime, so stability is decided by the test's clock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode())
    else:
        path.write_bytes(content)
    stamp = mtime.timestamp()
    os.utime(path, (stamp, stamp))
    return path


def write_xlsx(
    path: Path,
    sheets: dict[str, list[list[object]]],
    *,
    first_row: int = 0,
    first_column: int = 0,
    mtime: datetime = EPOCH,
) -> Path:
    """Write a workbook (xlsxwriter; the kind reads with calamine), one list of rows per sheet."""
    import xlsxwriter  # noqa: PLC0415 - only the spreadsheet tests need it

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    date = book.add_format({"num_format": "yyyy-mm-dd"})  # a date cell, as exports write them
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, cells in enumerate(rows):
            for c, cell in enumerate(cells):
                if isinstance(cell, datetime):
                    sheet.write_datetime(first_row + r, first_column + c, cell, date)
                elif cell is not None:
                    sheet.write(first_row + r, first_column + c, cell)
    book.close()
    stamp = mtime.timestamp()
    os.utime(path, (stamp, stamp))
    return path
