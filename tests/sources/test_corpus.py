"""The bad-input corpus: each broken feed gives a clear, named error; good rows still arrive."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from loopback import Answer
from source_helpers import make_spec, write_file

from inventory_sync import errors
from inventory_sync.sources.csv_file import KIND as CSV
from inventory_sync.sources.csv_file import CsvOptions
from inventory_sync.sources.http_json import KIND as HTTP_JSON
from inventory_sync.sources.http_json import HttpJsonOptions

CORPUS = Path(__file__).parent / "corpus"
CASES = tomllib.loads((CORPUS / "expected.toml").read_text())["case"]


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


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_each_bad_feed_is_reported_clearly(case, tmp_path, context, server):
    if case.get("kind", "csv") == "http_json":
        source, origin = http_source(case, server, context)
    else:
        source, origin = csv_source(case, tmp_path, context)
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
        assert (got.source, got.origin, got.line) == ("feed", origin, want["line"])
        assert got.field == want.get("field")
        if "value" in want:
            assert got.value == want["value"]
        assert want["reason"] in got.reason, str(got)
