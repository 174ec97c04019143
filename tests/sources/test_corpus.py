"""The bad-input corpus: each broken feed gives a clear, named error; good rows still arrive."""

from __future__ import annotations

import csv
import io
import re
import tomllib
from pathlib import Path

import pytest
from loopback import Answer
from source_helpers import make_spec, write_file, write_xlsx

from inventory_sync import errors
from inventory_sync.sources.csv_file import KIND as CSV
from inventory_sync.sources.csv_file import CsvOptions
from inventory_sync.sources.http_json import KIND as HTTP_JSON
from inventory_sync.sources.http_json import HttpJsonOptions
from inventory_sync.sources.xlsx_file import KIND as XLSX
from inventory_sync.sources.xlsx_file import XlsxOptions

CORPUS = Path(__file__).parent / "corpus"
CASES = tomllib.loads((CORPUS / "expected.toml").read_text())["case"]
SHEET_CASES = [c for c in CASES if c.get("kind", "csv") == "csv"]
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # what a spreadsheet would store as a number


def csv_source(case, tmp_path, context):
    path = write_file(tmp_path / case["file"], (CORPUS / case["file"]).read_bytes())
    spec_fields = dict(case.get("spec", {}))
    warehouses = spec_fields.pop("warehouses", ["main"])
    options = CsvOptions(path=str(path), **case.get("options", {}))
    return CSV.build(make_spec(*warehouses, **spec_fields), options, context), str(path)


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
    return source, f"{path}[Stock]"


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_each_bad_feed_is_reported_clearly(case, tmp_path, context, server):
    if case.get("kind", "csv") == "http_json":
        source, origin = http_source(case, server, context)
    else:
        source, origin = csv_source(case, tmp_path, context)
    check(case, source, origin)


@pytest.mark.parametrize("case", SHEET_CASES, ids=[c["file"] for c in SHEET_CASES])
def test_each_bad_feed_as_a_spreadsheet_gets_the_same_named_errors(case, tmp_path, context):
    sheet = case.get("xlsx", {})
    if "csv_only" in sheet:
        pytest.skip(f"CSV only: {sheet['csv_only']}")
    source, origin = xlsx_source(case, tmp_path, context)
    check({**case, **sheet}, source, origin, file_origin=origin.removesuffix("[Stock]"))


def check(case, source, origin, file_origin=None):
    """The pull fails with the case's error, or quarantines exactly its rows."""
    if "error" in case:
        with pytest.raises(getattr(errors, case["error"])) as raised:
            source.pull()
        assert case["message"] in str(raised.value)
        assert (file_origin or origin) in str(raised.value), "the error must name the file or URL"
        assert raised.value.source == "feed"
        return
    snapshot = source.pull()
    assert sorted(o.sku for o in snapshot.observations) == case["good"]
    assert len(snapshot.rejected) == len(case["rejected"])
    for got, want in zip(snapshot.rejected, case["rejected"], strict=True):
        assert (got.source, got.origin, got.line) == ("feed", origin, want["line"])
        assert got.field == want.get("field")
        if "value" in want:
            assert got.value == want["value"]
        assert want["reason"] in got.reason, str(got)
