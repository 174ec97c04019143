"""The bad-input corpus: each broken feed gives a clear, named error; good rows still arrive.

File cases run through every transport (local disk, SFTP, S3), with the same errors."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from pathlib import Path

import pytest
from loopback import Answer
from source_helpers import make_spec, write_xlsx

from inventory_sync import errors
from inventory_sync.sources.csv_file import KIND as CSV
from inventory_sync.sources.csv_file import CsvOptions
from inventory_sync.sources.http_json import KIND as HTTP_JSON
from inventory_sync.sources.http_json import HttpJsonOptions
from inventory_sync.sources.xlsx_file import KIND as XLSX
from inventory_sync.sources.xlsx_file import XlsxOptions

CORPUS = Path(__file__).parent / "corpus"
CASES = tomllib.loads((CORPUS / "expected.toml").read_text())["case"]
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # what a spreadsheet would store as a number


def csv_source(case, place, context):
    """The case's file, written where the place keeps files, read by a csv source there."""
    origin = place.write(case["file"], (CORPUS / case["file"]).read_bytes())
    spec_fields = dict(case.get("spec", {}))
    warehouses = spec_fields.pop("warehouses", ["main"])
    options = {**place.options(), "path": place.path(case["file"]), **case.get("options", {})}
    source = CSV.build(make_spec(*warehouses, **spec_fields), CsvOptions(**options), context)
    return source, origin


def http_source(case, server, context):
    server.answer("/feed", Answer(body=(CORPUS / case["file"]).read_bytes()))
    options = HttpJsonOptions(url=server.url("/feed"), items_path="items", retries=0)
    return HTTP_JSON.build(make_spec(), options, context), server.url("/feed")


def test_the_corpus_is_big_enough_and_every_file_has_an_expectation():
    named = {case["file"] for case in CASES}
    on_disk = {p.name for p in CORPUS.iterdir() if p.name != "expected.toml"}
    assert named == on_disk
    assert len(CASES) >= 30
    assert {case.get("kind", "csv") for case in CASES} == {"csv", "http_json"}


FILE_CASES = [c for c in CASES if c.get("kind", "csv") == "csv"]
HTTP_CASES = [c for c in CASES if c.get("kind", "csv") == "http_json"]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c["file"] for c in FILE_CASES])
def test_each_bad_file_is_reported_clearly_through_every_transport(case, place, context):
    """The same named errors whether the file is on disk, on an SFTP server or in a bucket."""
    check_case(case, *csv_source(case, place, context))


@pytest.mark.parametrize("case", HTTP_CASES, ids=[c["file"] for c in HTTP_CASES])
def test_each_bad_page_is_reported_clearly(case, context, server):
    check_case(case, *http_source(case, server, context))


def xlsx_source(case, tmp_path, context):
    """The csv case's cells in a workbook's "Stock" sheet, numbers as numbers."""
    options = dict(case.get("options", {}))
    text = (CORPUS / case["file"]).read_bytes().decode("utf-8-sig")
    delimiter = "\t" if options.pop("format", "csv") == "tsv" else ","
    rows = [
        [float(cell) if NUMBER.fullmatch(cell) else cell for cell in row]
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    ]
    path = write_xlsx(tmp_path / "stock.xlsx", {"Stock": rows})
    spec_fields = dict(case.get("spec", {}))
    warehouses = spec_fields.pop("warehouses", ["main"])
    source = XLSX.build(
        make_spec(*warehouses, **spec_fields), XlsxOptions(path=str(path), **options), context
    )
    return source, str(path)


@pytest.mark.parametrize("case", FILE_CASES, ids=[c["file"] for c in FILE_CASES])
def test_each_bad_feed_as_a_spreadsheet_gets_the_same_named_errors(case, tmp_path, context):
    """The csv cases through the xlsx kind: rows name the sheet; [case.xlsx] says what differs."""
    sheet = case.get("xlsx", {})
    if "csv_only" in sheet:
        pytest.skip(f"CSV only: {sheet['csv_only']}")
    source, path = xlsx_source(case, tmp_path, context)
    check_case({**case, **sheet}, source, path, row_origin=f"{path}[Stock]")


def check_case(case, source, origin, row_origin=None):
    """The pull fails naming the file, or quarantines exactly the case's rows."""
    if "error" in case:
        with pytest.raises(getattr(errors, case["error"])) as raised:
            source.pull()
        assert case["message"] in str(raised.value)
        assert origin in str(raised.value), "the error must name the file or URL"
        assert raised.value.source == "feed"
        return
    snapshot = source.pull()
    assert sorted(o.sku for o in snapshot.observations) == case["good"]
    assert len(snapshot.rejected) == len(case["rejected"])
    for got, want in zip(snapshot.rejected, case["rejected"], strict=True):
        assert (got.source, got.origin, got.line) == ("feed", row_origin or origin, want["line"])
        assert got.field == want.get("field")
        if "value" in want:
            assert got.value == want["value"]
        assert want["reason"] in got.reason, str(got)
