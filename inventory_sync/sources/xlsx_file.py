"""The `xlsx` kind: one sheet of the newest complete spreadsheet matching a path or glob."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

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
from inventory_sync.sources.columnar import Cells, Good
from inventory_sync.sources.csv_file import CsvFileSource, CsvOptions
from inventory_sync.sources.delimited import Columns, LayoutError
from inventory_sync.sources.sheet import SheetLayout, judge_scanned, judge_sheet
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
        name = self._sheet_name(origin, held[0])
        try:
            try:
                return self._scanned(origin, held[0], name, layout)
            except Irregular as why:
                log.info("source.sheet_read_whole", source=self._spec.name, file=origin,
                         sheet=name, reason=str(why))  # fmt: skip
            rows = self._calamine_rows(origin, held.pop(), name)  # its cells replace the bytes
            return judge_sheet(rows, layout, self._rules, f"{origin}[{name}]")
        except LayoutError as err:
            raise self._format_error(origin, f"sheet {name!r}: {err}") from err

    def _scanned(
        self, origin: str, data: bytes, name: str, layout: SheetLayout
    ) -> tuple[Good, list[Rejected]]:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            try:
                book = open_workbook(archive)
            except WorkbookError as err:
                raise Irregular(f"workbook parts: {err}") from err
            if name not in book.sheets:
                raise Irregular(f"sheet {name!r} is not in the workbook's own list")
            blocks = scan(book, name)
            return judge_scanned(blocks, layout, self._rules, f"{origin}[{name}]")

    def _sheet_name(self, origin: str, data: bytes) -> str:
        """The sheet the options choose, by name or by position. Raises the format error."""
        names = self._book(origin, data).sheet_names
        wanted = self._sheet_options.sheet
        if isinstance(wanted, int) and wanted > len(names):
            raise self._format_error(
                origin, f"there is no sheet {wanted}: the workbook has {len(names)} {names}"
            )
        name = names[wanted - 1] if isinstance(wanted, int) else wanted
        if name not in names:
            raise self._format_error(origin, f"no sheet named {name!r}; the workbook has {names}")
        return name

    def _book(self, origin: str, data: bytes) -> python_calamine.CalamineWorkbook:
        try:
            return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        except python_calamine.CalamineError as err:
            raise self._format_error(origin, f"not a readable xlsx workbook ({err})") from err

    def _calamine_rows(self, origin: str, data: bytes, name: str) -> list[Iterator[Cells]]:
        """The sheet's rows from calamine, by column from A, in a list judge_sheet empties."""
        try:
            sheet = self._book(origin, data).get_sheet_by_name(name)
        except python_calamine.CalamineError as err:
            raise self._format_error(origin, f"sheet {name!r} is unreadable ({err})") from err
        rows: Iterator[Cells] = sheet.iter_rows()
        offset = sheet.start[1] if sheet.start else 0  # calamine's rows start at the first
        if offset:  # column in use
            pad = [""] * offset
            rows = ([*pad, *row] for row in rows)
        return [rows]


class XlsxKind:
    """Spreadsheets on disk: one sheet of an .xlsx workbook per snapshot (ERP and 3PL exports)."""

    options_model: type[BaseModel] = XlsxOptions

    def build(self, spec: SourceSpec, options: BaseModel, context: SourceContext) -> Source:
        if not isinstance(options, XlsxOptions):
            raise invalid_options("xlsx", options, XlsxOptions)
        check_warehouses(spec, options.warehouse_column, options.warehouse_map)
        return XlsxFileSource(spec, options, context)


KIND = XlsxKind()
