"""An .xlsx workbook's parts, read straight from its zip: sheet names, shared strings, styles.

Only what reading one sheet's values needs (ECMA-376 SpreadsheetML): which part holds each
sheet, the shared string table (as one Arrow column, so a million strings cost no Python
objects) and which cell styles show numbers as dates. The small parts are parsed with the
standard library's XML parser; the shared strings, which can be large, by whole columns with
a real XML parse only for the strings the column pass cannot read exactly.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import Element

import pyarrow as pa
import pyarrow.compute as pc
from defusedxml import ElementTree as SafeXml

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

# A shared string the column pass reads exactly: one text run without markup, entities, CR
# (an XML parser turns CR LF into LF), an _x00HH_ escape, or spaces at its ends (trimmed
# unless xml:space="preserve"): text every reader reads alike. Others are read by
# ElementTree, then by the rules calamine applies (see text_of).
BLOCK = 1 << 20  # bytes of a large part's XML read at a time
_PLAIN_ITEM = r'^<t(?: xml:space="preserve")?>(?P<t>[^<&\r]*)</t></si>$'
_ESCAPE = re.compile(r"_x00([0-9A-Fa-f]{2})_")  # Excel's escape of a control character
_ENDS = " \t\r\n"
# Built-in number formats that show a date or a time (ECMA-376 18.8.30, and the East Asian
# ones Excel adds); others are decided from their format code.
_DATE_FORMAT_IDS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_QUOTED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')  # text, colours and padding in a code


class WorkbookError(Exception):
    """The file is not a workbook this reader can open (a broken zip, a missing part)."""


@dataclass(frozen=True)
class Workbook:
    """The parts a sheet's values need; opened once per file."""

    archive: zipfile.ZipFile
    sheets: dict[str, str]  # sheet name -> its part's path in the zip, in workbook order
    shared: pa.Array  # the shared string table: index -> text
    date_styles: frozenset[int]  # cell style indexes whose number format is a date or time

    @property
    def sheet_names(self) -> list[str]:
        return list(self.sheets)


def open_workbook(archive: zipfile.ZipFile) -> Workbook:
    """Read the workbook's sheet list, shared strings and styles. Raises WorkbookError."""
    try:
        book = _parse(archive, "xl/workbook.xml")
        names = _sheet_parts(archive, book)
        shared = _shared_strings(archive)
        styles = _date_styles(archive)
    except (KeyError, SafeXml.ParseError, zipfile.BadZipFile, ValueError) as err:
        raise WorkbookError(str(err) or type(err).__name__) from err
    return Workbook(archive, names, shared, styles)


def _parse(archive: zipfile.ZipFile, part: str) -> Element:
    return SafeXml.fromstring(archive.read(part))


def _ns(element: Element) -> str:
    """The main namespace the workbook uses: transitional (Excel's default) or strict."""
    return _STRICT_MAIN if element.tag.startswith("{" + _STRICT_MAIN) else MAIN


def _sheet_parts(archive: zipfile.ZipFile, book: Element) -> dict[str, str]:
    rels = _parse(archive, "xl/_rels/workbook.xml.rels")
    targets = {
        rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{{{_RELS}}}Relationship")
    }
    sheets: dict[str, str] = {}
    for sheet in book.iter(f"{{{_ns(book)}}}sheet"):
        rid = sheet.get(f"{{{_DOC_RELS}}}id") or sheet.get(
            "{http://purl.oclc.org/ooxml/officeDocument/relationships}id"
        )
        target = targets.get(rid, "")
        if not target:
            raise ValueError(f"sheet {sheet.get('name')!r} has no part")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        sheets[sheet.get("name", "")] = posixpath.normpath(path)
    return sheets


def _shared_strings(archive: zipfile.ZipFile) -> pa.Array:
    """The shared string table, read a block at a time (a million strings are tens of MB)."""
    try:
        part = archive.open("xl/sharedStrings.xml")
    except KeyError:
        return pa.array([], pa.string())
    blocks: list[pa.Array] = []
    with part:
        rest = b""
        while data := part.read(BLOCK):
            rest += data
            cut = rest.rfind(b"</si>")
            if cut >= 0:
                blocks.append(_items(rest[: cut + 5]))
                rest = rest[cut + 5 :]
    if b"<si" in rest or b":si" in rest or (not blocks and rest.strip()):
        return pa.array(_parsed_items(archive.read("xl/sharedStrings.xml")), pa.string())
    table = pa.concat_arrays(blocks) if blocks else pa.array([], pa.string())
    del blocks
    pa.default_memory_pool().release_unused()  # the blocks' scratch, before the sheet's
    return table


def _items(data: bytes) -> pa.Array:
    """The strings of the <si> items in a block that ends at an item's end."""
    text = pa.array([data], pa.binary()).cast(pa.string())
    items = pc.list_flatten(pc.split_pattern(text, "<si>"))[1:]
    strings = plain_texts(found(items, _PLAIN_ITEM, "t"))
    odd = pc.indices_nonzero(pc.is_null(strings)).to_pylist()
    if odd:  # rich text runs, entities, line ends: the exact text from a real XML parse
        values = strings.to_pylist()
        for i in odd:
            values[i] = _item_text(items[i].as_py())
        strings = pa.array(values, pa.string())
    return strings


def found(texts: pa.Array, pattern: str, group: str) -> pa.Array:
    """One named group of a pattern searched in each text; null where it does not match."""
    matches = pc.extract_regex(texts, pattern)
    return pc.if_else(pc.is_valid(matches), matches.field(group), None)


def plain_texts(texts: pa.Array) -> pa.Array:
    """The texts every reader reads alike; null for one with an _x00HH_ escape or with
    spaces at an end (trimmed or kept by the xml:space attribute), to be read by text_of."""
    escaped = pc.match_substring(texts, "_x00")
    padded = pc.not_equal(texts, pc.utf8_trim(texts, _ENDS))
    return pc.if_else(pc.or_(escaped, padded), pa.scalar(None, pa.string()), texts)


def _item_text(fragment: str) -> str:
    """One <si> item's text: its own <t>, or its runs' <t>s; phonetic runs (<rPh>) left out."""
    end = fragment.rfind("</si>")
    item = SafeXml.fromstring(f'<si xmlns="{MAIN}">{fragment[:end]}</si>')
    return _si_text(item, MAIN)


def _si_text(item: Element, ns: str) -> str:
    """A string item's text (<si> or <is>): its own <t>s and its runs' <t>s in order, each
    read by text_of; phonetic runs (<rPh>) are left out."""
    texts = []
    for part in item:
        if part.tag == f"{{{ns}}}t":
            texts.append(text_of(part))
        elif part.tag == f"{{{ns}}}r":
            texts.extend(text_of(t) for t in part.iter(f"{{{ns}}}t"))
    return "".join(texts)


def text_of(t: Element) -> str:
    """A <t> element's text as calamine reads it: ASCII spaces at its ends trimmed unless
    xml:space="preserve", then Excel's _x00HH_ escapes decoded."""
    text = t.text or ""
    if t.get("{http://www.w3.org/XML/1998/namespace}space") != "preserve":
        text = text.strip(_ENDS)
    return unescaped(text)


def unescaped(text: str) -> str:
    """Excel's _x00HH_ escapes of control characters decoded, as calamine decodes them."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _parsed_items(data: bytes) -> list[str]:
    """Every item's text from the whole part (a part whose items have a prefix, say)."""
    root = SafeXml.fromstring(data)
    ns = _ns(root)
    return [_si_text(item, ns) for item in root.iter(f"{{{ns}}}si")]


def _date_styles(archive: zipfile.ZipFile) -> frozenset[int]:
    try:
        styles = _parse(archive, "xl/styles.xml")
    except KeyError:
        return frozenset()
    ns = _ns(styles)
    codes = {
        int(fmt.get("numFmtId", "0")): fmt.get("formatCode", "")
        for fmt in styles.iter(f"{{{ns}}}numFmt")
    }
    cell_xfs = styles.find(f"{{{ns}}}cellXfs")
    if cell_xfs is None:
        return frozenset()
    dated = set()
    for index, xf in enumerate(cell_xfs.findall(f"{{{ns}}}xf")):
        if _is_date_format(int(xf.get("numFmtId", "0")), codes):
            dated.add(index)
    return frozenset(dated)


def _is_date_format(format_id: int, codes: dict[int, str]) -> bool:
    if format_id in codes:
        code = _QUOTED.sub("", codes[format_id]).lower().replace("general", "")
        code = re.sub(r"e[+-]", "", code)  # scientific notation, not an era
        return any(letter in code for letter in "dmyhse")
    return format_id in _DATE_FORMAT_IDS
