"""A worksheet's cells read as Arrow columns, block by block, without holding the sheet.

The sheet's XML is inflated from the zip about a megabyte at a time and cut at a row's end.
Each block is split at its cells (``<c ``) and read with whole-column string kernels: one
pattern that a cell must match as a whole, then its reference, type, style and value. This
reads the XML that Excel, xlsxwriter and openpyxl write, at about the speed of calamine, in
memory that does not grow with the sheet.

XML this pass does not read exactly (a namespace prefix, single-quoted attributes, a rich
text inline string, cells without references or out of order, another encoding) raises
Irregular before any of its cells is used; the caller then reads the sheet with calamine,
which reads every form. Values are typed as calamine types them (see Kind), so both readers
give the same rows (tests/sources/test_sheet_scan.py holds them to it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import IO
from xml.etree.ElementTree import Element

import pyarrow as pa
import pyarrow.compute as pc
from defusedxml import ElementTree as SafeXml

from inventory_sync.sources.workbook import (
    BLOCK,
    MAIN,
    Workbook,
    found,
    plain_texts,
    text_of,
    unescaped,
)

_ATTR = r'(?: [a-zA-Z][a-zA-Z0-9:]{0,40}="[^"<>&]*")'
# A cell's start tag as spreadsheet programs and libraries write it: r, then s and t (in
# either order), then any others. Another order is Irregular: the type is read from here only.
_START = (
    r'r="[A-Z]{1,3}[1-9][0-9]{0,6}"(?: s="[0-9]{0,9}")?(?: t="[a-zA-Z]{1,9}")?'
    r'(?: s="[0-9]{0,9}")?'
)
_OTHERS = r'(?: (?:cm|vm|ph)="[^"<>&]*")*'
_CELL = (
    r"^" + _START + _OTHERS + r"\s*(?:/>|>\s*(?:<f" + _ATTR + r"*\s*(?:/>|>[^<]*</f>)\s*)?"
    r'(?:<v>[^<]*</v>|<v ?/>|<is>\s*<t(?: xml:space="preserve")?>[^<]*</t>\s*</is>)?\s*</c>)'
    r"(?:\s|</row>|<row" + _ATTR + r"*\s*/?>)*$"
)  # one whole cell, and the row tags that may follow it before the next cell
# What may come before a block's first cell: row tags and white space.
_BETWEEN = r"^(?:\s|</row>|<row" + _ATTR + r"*\s*/?>)*$"
_HEAD = (
    r'^r="(?P<col>[A-Z]{1,3})(?P<row>[0-9]{1,7})"'
    r'(?: s="(?P<s>[0-9]{0,9})")?(?: t="(?P<t>[a-zA-Z]{1,9})")?(?: s="(?P<s2>[0-9]{0,9})")?'
)
# The value: <v>'s text, or an inline string's <t> (the first <v> or <t> in a valid cell).
_VALUE = r'<(?:v|t(?: xml:space="preserve")?)>(?P<v>[^<]*)</'
_TYPES = ["", "n", "s", "str", "inlineStr", "b", "e", "d"]  # "": no t, a number
_UTF8 = re.compile(rb"""^\s*<\?xml[^>]*?encoding=["'](?!utf-8["'])""", re.IGNORECASE)
_MAX_COLUMN = 16_384  # XFD, Excel's last column


class Irregular(Exception):
    """The sheet's XML takes a form this reader does not read; read it with calamine."""


class Kind(IntEnum):
    """A cell's value as calamine types it."""

    EMPTY = 0  # no value, or an error value (#N/A): calamine's empty cell
    TEXT = 1  # a shared, inline or formula string
    NUMBER = 2  # a number shown as a number (calamine: float)
    BOOL = 3  # t="b" (calamine: bool); text "0" is False
    OTHER = 4  # a date or time (t="d", or a number shown as one): never a feed's value


@dataclass(frozen=True)
class CellBlock:
    """Some rows' cells in sheet order: row (from 1), column (from 0), kind and text."""

    row: pa.Array
    column: pa.Array
    kind: pa.Array
    text: pa.Array  # strings as read, numbers as written, booleans "0"/"1", "" when empty

    def __len__(self) -> int:
        return len(self.row)

    def slice(self, start: int) -> CellBlock:
        return CellBlock(*(a.slice(start) for a in (self.row, self.column, self.kind, self.text)))

    def rows_cells(self, rows: pa.Array) -> dict[int, list[object]]:
        """The cells of these rows as calamine gives them, by column from A ('' when empty)."""
        picked = pc.is_in(self.row, value_set=rows)
        found: dict[int, list[object]] = {}
        columns = (self.row, self.column, self.kind, self.text)
        lists = [pc.filter(c, picked).to_pylist() for c in columns]
        for row, column, kind, text in zip(*lists, strict=True):
            cells = found.setdefault(row, [])
            cells.extend([""] * (column + 1 - len(cells)))
            cells[column] = typed(Kind(kind), text)
        return found


def typed(kind: Kind, text: str) -> object:
    """One cell's value as calamine gives it to Python."""
    if kind is Kind.NUMBER:
        return float(text)
    if kind is Kind.BOOL:
        return text != "0"
    return text  # text, or what an OTHER cell says (the judge reads no OTHER as a value)


def scan(book: Workbook, name: str, block_size: int = BLOCK) -> Iterator[CellBlock]:
    """The sheet's cells, about block_size bytes of XML at a time. Raises Irregular (see the
    module's text)."""
    with book.archive.open(book.sheets[name]) as part:
        yield from _Scanner(book, block_size).blocks(part)


class _Scanner:
    def __init__(self, book: Workbook, block_size: int) -> None:
        self.book, self.block_size = book, block_size
        self.last = -1  # the key (row, column) of the last cell read: cells must ascend

    def blocks(self, part: IO[bytes]) -> Iterator[CellBlock]:
        rest = self._preamble(part)
        if rest is None:
            return  # <sheetData/>: no cells
        while True:
            data = part.read(self.block_size)
            rest += data
            end = rest.find(b"</sheetData>")
            if end >= 0:
                yield from self._block(rest[:end])
                return
            if not data:
                raise Irregular("the sheet's XML ends inside <sheetData>")
            cut = rest.rfind(b"</row>")
            if cut >= 0:
                block, rest = rest[: cut + 6], rest[cut + 6 :]
                yield from self._block(block)

    def _preamble(self, part: IO[bytes]) -> bytes | None:
        """Read up to <sheetData>; what follows it, or None for an empty <sheetData/>."""
        head = b""
        while b"<sheetData" not in head or b">" not in head[head.find(b"<sheetData") :]:
            data = part.read(1 << 16)
            if not data:
                raise Irregular("no <sheetData> in the sheet's XML")
            head += data
            if len(head) > 64 << 20:
                raise Irregular("no <sheetData> in the first 64 MB")
        if _UTF8.match(head) or head.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise Irregular("the sheet's XML is not UTF-8")
        if not re.search(rb'<worksheet\b[^>]*\bxmlns="' + MAIN.encode() + b'"', head):
            raise Irregular("the sheet's XML uses a namespace prefix or another namespace")
        at = head.find(b"<sheetData")
        close = head.find(b">", at)
        if head[close - 1 : close] == b"/":
            return None
        return head[close + 1 :]

    def _block(self, data: bytes) -> Iterator[CellBlock]:
        try:
            text = pa.array([data], pa.binary()).cast(pa.string())
        except pa.ArrowInvalid as err:
            raise Irregular("the sheet's XML is not valid UTF-8") from err
        pieces = pc.list_flatten(pc.split_pattern(text, "<c "))
        if not pc.match_substring_regex(pieces[:1], _BETWEEN)[0].as_py():
            raise Irregular("markup other than rows and cells in <sheetData>")
        cells = pieces[1:]
        if len(cells) == 0:
            return
        if not pc.all(pc.match_substring_regex(cells, _CELL)).as_py():
            raise Irregular("a cell in a form this reader does not read")
        yield self._cells(cells)

    def _cells(self, cells: pa.Array) -> CellBlock:
        head = pc.extract_regex(cells, _HEAD)
        row = pc.cast(head.field("row"), pa.int32())
        column = _column_numbers(head.field("col"))
        self._check_order(row, column)
        type_code = pc.index_in(head.field("t"), value_set=pa.array(_TYPES))
        if pc.any(pc.is_null(type_code)).as_py():
            raise Irregular("a cell type outside ECMA-376")
        value = found(cells, _VALUE, "v")  # null: no value
        style = pc.if_else(pc.equal(head.field("s"), ""), head.field("s2"), head.field("s"))
        kind, text = self._values(cells, type_code, style, value)
        return CellBlock(row, column, kind, text)

    def _check_order(self, row: pa.Array, column: pa.Array) -> None:
        key = pc.add(pc.multiply(pc.cast(row, pa.int64()), _MAX_COLUMN), column)
        first, last = key[0].as_py(), key[-1].as_py()
        ascending = len(key) == 1 or pc.min(pc.pairwise_diff(key)).as_py() > 0
        if first <= self.last or not ascending:
            raise Irregular("cells out of order, or a cell written twice")
        self.last = last

    def _values(
        self, cells: pa.Array, type_code: pa.Array, style: pa.Array, value: pa.Array
    ) -> tuple[pa.Array, pa.Array]:
        """Each cell's Kind and text, typed as calamine types them."""
        is_type = {name: pc.equal(type_code, i) for i, name in enumerate(_TYPES)}
        number = pc.or_(is_type[""], is_type["n"])
        empty = pc.is_null(pc.if_else(pc.equal(value, ""), None, value))  # no value, or ""
        value = pc.fill_null(value, "")
        text = self._strings(cells, is_type, value, empty)
        self._check_numbers(pc.and_(number, pc.invert(empty)), value)
        codes = pa.array([_KIND_OF[name] for name in _TYPES], pa.int8())
        kind = pc.take(codes, type_code)
        kind = pc.if_else(pc.and_(number, self._dated(style)), _OTHER, kind)
        empty = pc.or_(empty, is_type["e"])
        return pc.if_else(empty, _EMPTY, kind), pc.if_else(empty, "", text)

    def _strings(
        self, cells: pa.Array, is_type: dict[str, pa.Array], value: pa.Array, empty: pa.Array
    ) -> pa.Array:
        """The cells' texts: shared strings looked up, inline and formula ones read exactly."""
        text = value
        shared = pc.and_(is_type["s"], pc.invert(empty))
        if pc.any(shared).as_py():
            text = pc.if_else(shared, self._shared(pc.if_else(shared, value, "0")), text)
        # Texts an XML parser would change (an entity, a CR) or calamine would (an inline
        # string's spaces at its ends, an _x00HH_ escape) are read one by one.
        inline, formula = is_type["inlineStr"], is_type["str"]
        changed = pc.match_substring_regex(value, "[&\r]")
        strings = pc.or_(inline, formula)
        changed = pc.and_(strings, changed)
        if pc.any(strings).as_py():
            changed = pc.or_(changed, pc.and_(strings, pc.is_null(plain_texts(value))))
        odd = pc.indices_nonzero(changed).to_pylist()
        if odd:
            values = text.to_pylist()
            for i in odd:
                cell = cells[i].as_py()
                values[i] = _inline_text(cell) if inline[i].as_py() else _formula_text(cell)
            text = pa.array(values, pa.string())
        return text

    def _shared(self, index_text: pa.Array) -> pa.Array:
        shared = self.book.shared
        try:
            index = pc.cast(index_text, pa.int64())
        except pa.ArrowInvalid as err:
            raise Irregular("a shared string's index is not a number") from err
        if pc.max(index).as_py() >= len(shared):
            raise Irregular("a shared string's index is past the table")
        return pc.take(shared, index)

    def _check_numbers(self, number: pa.Array, value: pa.Array) -> None:
        if not pc.any(number).as_py():
            return
        try:
            pc.cast(pc.if_else(number, value, "0"), pa.float64())
        except pa.ArrowInvalid as err:  # calamine reads an untyped one as text
            raise Irregular("a number cell that is not a number") from err

    def _dated(self, style: pa.Array) -> pa.Array:
        """Which cells' styles show numbers as dates or times (calamine: datetime)."""
        dates = self.book.date_styles
        if not dates:
            return pa.repeat(pa.scalar(value=False), len(style))
        styles = pc.cast(pc.if_else(pc.equal(style, ""), "0", style), pa.int64())
        return pc.is_in(styles, value_set=pa.array(sorted(dates), pa.int64()))


_KIND_OF = {
    "": Kind.NUMBER, "n": Kind.NUMBER, "s": Kind.TEXT, "str": Kind.TEXT,
    "inlineStr": Kind.TEXT, "b": Kind.BOOL, "e": Kind.EMPTY, "d": Kind.OTHER,
}  # fmt: skip  # an error (#N/A, #DIV/0!) reaches Python from calamine as an empty cell
_OTHER = pa.scalar(Kind.OTHER, pa.int8())
_EMPTY = pa.scalar(Kind.EMPTY, pa.int8())


def _fragment(cell: str) -> Element:
    end = cell.rfind("</c>")
    return SafeXml.fromstring(f'<c xmlns="{MAIN}" {cell[:end]}</c>')


def _inline_text(cell: str) -> str:
    t = _fragment(cell).find(f"{{{MAIN}}}is/{{{MAIN}}}t")
    return "" if t is None else text_of(t)


def _formula_text(cell: str) -> str:
    v = _fragment(cell).find(f"{{{MAIN}}}v")
    return "" if v is None else unescaped(v.text or "")


def _column_numbers(letters: pa.Array) -> pa.Array:
    """Column letters (A, B, ..., XFD) as numbers from 0."""
    distinct = pc.unique(letters)
    numbers = [_number(text) for text in distinct.to_pylist()]
    if max(numbers, default=0) >= _MAX_COLUMN:
        raise Irregular("a cell past column XFD")
    return pc.take(pa.array(numbers, pa.int32()), pc.index_in(letters, value_set=distinct))


def _number(letters: str) -> int:
    n = 0
    for letter in letters:
        n = n * 26 + ord(letter) - 64
    return n - 1
