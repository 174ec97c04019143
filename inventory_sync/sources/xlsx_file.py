"""The `xlsx` kind: one sheet of the newest complete spreadsheet matching a path or glob."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pyarrow as pa
import python_calamine
import structlog
from pydantic import BaseModel, Field, field_validator, model_validator

from inventory_sync.domain.model import Rejected
from inventory_sync.ports import Source
from inventory_sync.sources.base import (
    SourceContext,
    SourceSpec,
    check_warehouses,
    invalid_options,
)
from inventory_sync.sources.columnar import Cells, Good, judge
from inventory_sync.sources.csv_file import CsvFileSource, CsvOptions
from inventory_sync.sources.delimited import Columns, LayoutError
from inventory_sync.sources.sheet import SheetLayout, judge_sheet, scanned_records
from inventory_sync.sources.sheet_scan import Irregular, scan
from inventory_sync.sources.workbook import WorkbookError, open_workbook

log = structlog.get_logger(__name__)

# Options of delimited text that mean nothing in a workbook: set, they are a mistake to report.
_TEXT_ONLY = frozenset({"format", "delimiter", "encoding"})


class XlsxOptions(CsvOptions):
    """Options of the `xlsx` kind: the csv kind's file options, plus which sheet and header."""

    sheet: str | int = 1  # a sheet's name, or its position counted from 1
    header_row: int | None = Field(default=None, ge=1)  # None: the first non-blank row

    @field_validator("sheet")
    @classmethod
    def _counted_from_one(cls, value: str | int) -> str | int:
        if isinstance(value, int) and value < 1:
            raise ValueError("sheet is a name, or a position counted from 1")
        return value

    @model_validator(mode="after")
    def _no_text_options(self) -> XlsxOptions:
        used = sorted(_TEXT_ONLY & self.model_fields_set)
        if used:
            raise ValueError(f"{', '.join(used)}: options of csv files, not of xlsx workbooks")
        return self


class XlsxFileSource(CsvFileSource):
    """Finds, reads and archives files as the csv kind does; parses them as workbooks."""

    def __init__(self, spec: SourceSpec, options: XlsxOptions, context: SourceContext) -> None:
        super().__init__(spec, options, context)
        self._sheet_options = options

    def _judge(self, origin: str, held: list[bytes]) -> tuple[Good, list[Rejected]]:
        """The sheet read block by block (sheet_scan); when its XML is of a form that reader
        does not read, read whole by calamine instead. Both give the same rows."""
        if not held[0]:
            raise self._format_error(origin, "file is empty")
        options = self._sheet_options
        layout = SheetLayout(
            Columns(options.sku_column, options.quantity_column, options.warehouse_column),
            options.header_row,
        )
        name = ""
        try:
            with zipfile.ZipFile(io.BytesIO(held[0])) as archive:
                book = open_workbook(archive)
                name = self._sheet_name(origin, book.sheet_names)
                records = scanned_records(scan(book, name), layout, f"{origin}[{name}]")
                del book  # its shared strings: the records hold their own copies
        except (WorkbookError, zipfile.BadZipFile, Irregular) as why:
            log.info("source.sheet_read_whole", source=self._spec.name, file=origin,
                     sheet=name or None, reason=str(why))  # fmt: skip
            return self._judge_whole(origin, held, layout)
        except LayoutError as err:
            raise self._format_error(origin, f"sheet {name!r}: {err}") from err
        held.clear()  # the sheet is read: the file's bytes go before the snapshot's dicts grow
        judged = judge(records, self._rules)
        del records
        # Hand the columns' memory back now: the plan comes next.
        pa.default_memory_pool().release_unused()
        return judged

    def _judge_whole(
        self, origin: str, held: list[bytes], layout: SheetLayout
    ) -> tuple[Good, list[Rejected]]:
        """The sheet read whole by calamine, which reads every form of a workbook's XML."""
        book = self._book(origin, held.pop())  # its cells replace the file's bytes
        name = self._sheet_name(origin, book.sheet_names)
        try:
            sheet = book.get_sheet_by_name(name)
        except python_calamine.CalamineError as err:
            raise self._format_error(origin, f"sheet {name!r} is unreadable ({err})") from err
        rows: Iterator[Cells] = sheet.iter_rows()
        offset = sheet.start[1] if sheet.start else 0  # calamine's rows start at the first
        if offset:  # column in use; ours at column A
            pad = [""] * offset
            rows = ([*pad, *row] for row in rows)
        try:
            return judge_sheet([rows], layout, self._rules, f"{origin}[{name}]")
        except LayoutError as err:
            raise self._format_error(origin, f"sheet {name!r}: {err}") from err

    def _sheet_name(self, origin: str, names: list[str]) -> str:
        """The sheet the options choose, by name or by position. Raises the format error."""
        wanted = self._sheet_options.sheet
        if isinstance(wanted, int) and wanted > len(names):
            raise self._format_error(
                origin, f"there is no sheet {wanted}: the workbook has {len(names)} {names}"
            )
        if isinstance(wanted, int):
            return names[wanted - 1]
        if wanted in names:
            return wanted
        # Excel allows no two sheets whose names differ only in case, so this finds one at most.
        same = [name for name in names if name.casefold() == wanted.casefold()]
        if same:
            return same[0]
        hint = ""
        if wanted.strip().isdigit():
            hint = f" (a position is a number without quotes: sheet = {wanted.strip()})"
        raise self._format_error(
            origin, f"no sheet named {wanted!r}; the workbook has {names}{hint}"
        )

    def _book(self, origin: str, data: bytes) -> python_calamine.CalamineWorkbook:
        try:
            return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        except python_calamine.CalamineError as err:
            raise self._format_error(origin, f"not a readable xlsx workbook ({err})") from err


class XlsxKind:
    """Spreadsheets on disk: one sheet of an .xlsx workbook per snapshot (ERP and 3PL exports)."""

    options_model: type[BaseModel] = XlsxOptions

    def build(self, spec: SourceSpec, options: BaseModel, context: SourceContext) -> Source:
        if not isinstance(options, XlsxOptions):
            raise invalid_options("xlsx", options, XlsxOptions)
        check_warehouses(spec, options.warehouse_column, options.warehouse_map)
        return XlsxFileSource(spec, options, context)


KIND = XlsxKind()
