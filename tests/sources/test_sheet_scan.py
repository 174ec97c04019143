"""The block reader (sheet_scan) gives calamine's cells, and the xlsx kind calamine's answers.

Workbooks are written by xlsxwriter, with shared strings (as Excel writes) and inline ones
(its constant-memory mode), and by hand where a form matters: what the block reader does not
read must send the sheet to calamine, never be read wrongly.
"""

from __future__ import annotations

import io
import os
import zipfile
from datetime import date, datetime, time, timedelta

import openpyxl
import pytest
import python_calamine
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from source_helpers import make_spec, write_xlsx
from structlog.testing import capture_logs

from inventory_sync.domain.model import SourceName, Warehouse
from inventory_sync.sources.columnar import judge
from inventory_sync.sources.delimited import Columns
from inventory_sync.sources.rows import RowRules
from inventory_sync.sources.sheet import SheetLayout, judge_sheet, scanned_records
from inventory_sync.sources.sheet_scan import Irregular, Kind, scan
from inventory_sync.sources.workbook import open_workbook
from inventory_sync.sources.xlsx_file import KIND, XlsxOptions

TEXT = st.one_of(
    st.sampled_from(
        ["A", "SKU-1", "", " ", " A", "A ", "a & b", "<x>", 'say "hi"', "x\ny", "x\r\ny",
         "_x000D_", "a_x0041_b", "É", "名前", "\t", "12", "east", "west", "A\u00a0"]
    ),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=6),
)  # fmt: skip
NUMBER = st.one_of(
    st.integers(-10, 10**6).map(float),
    st.sampled_from([0.5, 2.5, -3.0, 1e20, 1e-7, 123456789012.0, 25.0]),
)
CELL = st.one_of(
    TEXT,
    NUMBER,
    st.booleans(),
    st.none(),
    st.just(date(2026, 1, 5)),
    st.tuples(st.just("formula"), TEXT),
    st.tuples(st.just("error"), st.sampled_from(["#N/A", "#DIV/0!", "#VALUE!"])),
    st.tuples(st.just("rich"), TEXT, TEXT),
    st.just("blank-styled"),
)
SHEET = st.lists(st.lists(CELL, max_size=5), max_size=12)


def workbook(rows, *, inline=False, first_row=0, first_column=0) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"constant_memory": inline, "in_memory": True})
    formats = book.add_format({"num_format": "yyyy-mm-dd"}), book.add_format({"bold": True})
    sheet = book.add_worksheet("S")
    for r, cells in enumerate(rows):
        for c, cell in enumerate(cells):
            _write(sheet, (first_row + r, first_column + c), cell, *formats)
    book.close()
    return out.getvalue()


def _write(sheet, at, cell, dated, bold) -> None:
    kind = cell[0] if isinstance(cell, tuple) else None
    if isinstance(cell, date):
        sheet.write_datetime(*at, datetime.combine(cell, time()), dated)
    elif kind == "formula":
        sheet.write_formula(*at, '="x"', None, cell[1])
    elif kind == "error":
        sheet.write_formula(*at, "=NA()", None, cell[1])  # t="e": calamine's empty cell
    elif kind == "rich" and cell[1] and cell[2]:
        sheet.write_rich_string(*at, bold, cell[1], cell[2])
    elif cell == "blank-styled":
        sheet.write_blank(*at, None, bold)
    elif isinstance(cell, str):
        sheet.write_string(*at, cell)
    elif isinstance(cell, bool):
        sheet.write_boolean(*at, cell)
    elif isinstance(cell, (int, float)):
        sheet.write_number(*at, cell)


def openpyxl_workbook(rows, *, first_row=0, first_column=0) -> bytes:
    """The same sheet written by openpyxl (its own XML: t before s, inline strings, <v/>)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "S"
    for r, cells in enumerate(rows, start=1 + first_row):
        for c, cell in enumerate(cells, start=1 + first_column):
            if isinstance(cell, tuple) and cell[0] in {"formula", "error"}:
                sheet.cell(r, c, '="x"')  # no cached value: both readers read it empty
            elif isinstance(cell, tuple):
                sheet.cell(r, c, cell[1] + cell[2])
            elif isinstance(cell, str) and cell == "blank-styled":
                sheet.cell(r, c).font = openpyxl.styles.Font(bold=True)
            elif isinstance(cell, str) and cell.startswith("="):
                written = sheet.cell(r, c, cell)
                written.data_type = "s"  # text, not a formula
            elif isinstance(cell, date):
                sheet.cell(r, c, cell).number_format = "yyyy-mm-dd"
            elif cell is not None and not (isinstance(cell, str) and _illegal(cell)):
                sheet.cell(r, c, cell)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _illegal(text: str) -> bool:
    return bool(openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.search(text))


def calamine_rows(data: bytes) -> dict[int, list[object]]:
    """calamine's rows by sheet row number, cells by column from A, blank rows left out."""
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("S")
    offset = sheet.start[1] if sheet.start else 0
    rows = {}
    for number, row in enumerate(sheet.iter_rows(), start=1):
        cells = [""] * offset + list(row)
        if any(cell != "" for cell in cells):
            rows[number] = _trimmed(cells)
    return rows


def scanned_rows(data: bytes, block_size: int) -> tuple[dict[int, list[object]], set]:
    """The block reader's rows the same way, and the (row, column) of its OTHER cells."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        book = open_workbook(archive)
        rows: dict[int, list[object]] = {}
        others = set()
        for block in scan(book, "S", block_size=block_size):
            kinds = block.kind.to_pylist()
            cells_at = zip(block.row.to_pylist(), block.column.to_pylist(), kinds, strict=True)
            for row, column, kind in cells_at:
                if kind == Kind.OTHER:
                    others.add((row, column))
            for number, cells in block.rows_cells(block.row).items():
                assert number not in rows, "a row in two blocks"
                if any(cell != "" for cell in cells):
                    rows[number] = _trimmed(cells)
    return rows, others


def _trimmed(cells: list[object]) -> list[object]:
    while cells and cells[-1] == "":
        cells.pop()
    return cells


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=SHEET,
    writer=st.sampled_from(["xlsxwriter", "xlsxwriter-inline", "openpyxl"]),
    first_row=st.integers(0, 3),
    first_column=st.integers(0, 2),
    block_size=st.sampled_from([64, 300, 4 << 20]),
)
def test_the_block_reader_reads_every_cell_as_calamine_does(
    rows, writer, first_row, first_column, block_size
):
    at = {"first_row": first_row, "first_column": first_column}
    if writer == "openpyxl":
        data = openpyxl_workbook(rows, **at)
    else:
        data = workbook(rows, inline=writer == "xlsxwriter-inline", **at)
    expected = calamine_rows(data)
    got, others = scanned_rows(data, block_size)
    for row, column in others:  # dates: calamine's datetime, never read as a feed's value
        assert isinstance(expected[row][column], (date, datetime, time, timedelta))
        got[row][column] = expected[row][column]
    assert got == expected


RULES = RowRules(
    source=SourceName("f"),
    warehouses=(Warehouse("east"), Warehouse("west")),
    max_quantity=10**6,
    warehouse_field="site",
)
LAYOUT = SheetLayout(Columns("sku", "quantity", "site"))
ROLE_CELL = st.one_of(
    TEXT,
    NUMBER,
    st.booleans(),
    st.none(),
    st.tuples(st.just("formula"), TEXT),
    st.tuples(st.just("error"), st.just("#N/A")),
)
SITE = st.sampled_from(["east", "west", " east", "north", "", 7.0, None])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(st.tuples(ROLE_CELL, ROLE_CELL, SITE, CELL), max_size=12),
    inline=st.booleans(),
    first_row=st.integers(0, 2),
    block_size=st.sampled_from([64, 4 << 20]),
)
def test_a_sheet_read_in_blocks_is_judged_as_calamine_s_rows_are(
    body, inline, first_row, block_size
):
    rows = [["note", "sku", "quantity", "site"], *[[r[3], r[0], r[1], r[2]] for r in body]]
    data = workbook(rows, inline=inline, first_row=first_row)
    sheet = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("S")
    offset = sheet.start[1] if sheet.start else 0
    padded = ([""] * offset + list(r) for r in sheet.iter_rows())
    expected = judge_sheet([padded], LAYOUT, RULES, "s.xlsx[S]")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        blocks = scan(open_workbook(archive), "S", block_size=block_size)
        got = judge(scanned_records(blocks, LAYOUT, "s.xlsx[S]"), RULES)
    assert got == expected
    assert {w: list(c) for w, c in got[0].items()} == {w: list(c) for w, c in expected[0].items()}


def test_a_date_where_a_quantity_belongs_sends_the_sheet_to_calamine():
    data = workbook([["sku", "quantity", "site"], ["A", date(2026, 1, 5), "east"]])
    with zipfile.ZipFile(io.BytesIO(data)) as archive, pytest.raises(Irregular, match="date"):
        scanned_records(scan(open_workbook(archive), "S"), LAYOUT, "s.xlsx[S]")


# A sheet's XML in forms the block reader leaves to calamine: the xlsx kind still reads it.
HAND_WRITTEN = {
    "a namespace prefix": (
        '<x:worksheet xmlns:x="{ns}"><x:sheetData>'
        '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>sku</x:t></x:is></x:c>'
        '<x:c r="B1" t="inlineStr"><x:is><x:t>quantity</x:t></x:is></x:c></x:row>'
        '<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>A</x:t></x:is></x:c>'
        '<x:c r="B2"><x:v>7</x:v></x:c></x:row></x:sheetData></x:worksheet>'
    ),
    "single quotes and the type before the style": (
        '<worksheet xmlns="{ns}"><sheetData>'
        "<row r='1'><c r='A1' t='inlineStr'><is><t>sku</t></is></c>"
        '<c r="B1" t="inlineStr" s="0"><is><t>quantity</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>A</t></is></c>'
        '<c r="B2"><v>7</v></c></row></sheetData></worksheet>'
    ),
    "cells without references": (
        '<worksheet xmlns="{ns}"><sheetData>'
        '<row><c t="inlineStr"><is><t>sku</t></is></c><c t="inlineStr"><is><t>quantity</t></is></c>'
        '</row><row><c t="inlineStr"><is><t>A</t></is></c><c><v>7</v></c></row>'
        "</sheetData></worksheet>"
    ),
    "a rich inline string": (
        '<worksheet xmlns="{ns}"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>sku</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>quantity</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><r><t>A</t></r></is></c>'
        '<c r="B2"><v>7</v></c></row></sheetData></worksheet>'
    ),
}


def hand_written(path, sheet_xml: str) -> None:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{ns}" xmlns:r="{rel}"><sheets>'
            '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet_xml.format(ns=ns),
    }
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    os.utime(path, (0, 0))  # long unchanged: complete


@pytest.mark.parametrize("form", sorted(HAND_WRITTEN))
def test_xml_the_block_reader_does_not_read_is_read_by_calamine(form, tmp_path, context):
    path = tmp_path / "stock.xlsx"
    hand_written(path, HAND_WRITTEN[form])
    with zipfile.ZipFile(path) as archive, pytest.raises(Irregular):
        list(scan(open_workbook(archive), "S"))
    source = KIND.build(make_spec(), XlsxOptions(path=str(path), stable_seconds=0), context)
    with capture_logs() as logs:
        assert dict(source.pull().rows_for(Warehouse("main"))) == {"A": 7}
    (event,) = [e for e in logs if e["event"] == "source.sheet_read_whole"]
    assert (event["file"], event["sheet"]) == (str(path), "S")
    assert event["reason"]


@pytest.mark.parametrize("inline", [False, True])
def test_a_workbook_as_programs_write_it_is_read_in_blocks(inline, tmp_path, context):
    """Shared strings (Excel's way) or inline ones, dates in a column the feed does not read,
    a title above the header: the block reader reads it all, calamine is not needed."""
    rows = [
        ["Stock, 1 May"], [], ["sku", "quantity", "updated"],
        ["A", 3, date(2026, 5, 1)], ["B & C", 4, date(2026, 5, 2)],
    ]  # fmt: skip
    path = tmp_path / "stock.xlsx"
    path.write_bytes(workbook(rows, inline=inline))
    os.utime(path, (0, 0))
    options = XlsxOptions(path=str(path), header_row=3)
    with capture_logs() as logs:
        snapshot = KIND.build(make_spec(), options, context).pull()
    assert dict(snapshot.rows_for(Warehouse("main"))) == {"A": 3, "B & C": 4}
    assert [e for e in logs if e["event"] == "source.sheet_read_whole"] == []


def test_the_test_workbooks_of_the_other_tests_are_read_in_blocks(tmp_path):
    """write_xlsx's workbooks (the corpus, the kind's tests) take the block reader's path."""
    path = write_xlsx(tmp_path / "s.xlsx", {"S": [["sku", "quantity"], ["A", 1], [None, "x"]]})
    with zipfile.ZipFile(path) as archive:
        blocks = list(scan(open_workbook(archive), "S"))
    assert sum(len(b) for b in blocks) == 5
