"""The columnar fast path judges every feed exactly as the per-row path does."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory_sync.domain.model import SourceName, Warehouse
from inventory_sync.sources.delimited import Columns, LayoutError, parse_delimited
from inventory_sync.sources.delimited_columns import judge_columns
from inventory_sync.sources.rows import RowRules, validate_rows

CORPUS = Path(__file__).parent / "corpus"
CASES = [
    c
    for c in tomllib.loads((CORPUS / "expected.toml").read_text())["case"]
    if c.get("kind", "csv") == "csv" and "error" not in c
]
SITE = Columns("sku", "quantity", "site")
EAST_WEST = (Warehouse("east"), Warehouse("west"))


def per_row(text: str, delimiter: str, columns: Columns, rules: RowRules):
    feed = parse_delimited(
        text, delimiter=delimiter, columns=columns, source=rules.source, origin="f.csv"
    )
    good, rejected = validate_rows(feed.rows, rules)
    return good, sorted([*feed.rejected, *rejected], key=lambda r: r.line or 0)


def by_columns(text: str, delimiter: str, columns: Columns, rules: RowRules):
    judged = judge_columns(
        [text.encode()], delimiter=delimiter, columns=columns, rules=rules, origin="f.csv"
    )
    if judged is None:
        return None
    good, rejected = judged
    return good, sorted(rejected, key=lambda r: r.line or 0)


def same_judgement(text: str, delimiter: str, columns: Columns, rules: RowRules) -> bool:
    """True when the fast path took the feed (and then agreed, feed order included)."""
    fast = by_columns(text, delimiter, columns, rules)
    if fast is None:
        return False
    slow = per_row(text, delimiter, columns, rules)
    assert fast == slow
    # Each warehouse's SKUs in feed order (the order of the warehouses themselves is free).
    assert {w: list(c.items()) for w, c in fast[0].items()} == {
        w: list(c.items()) for w, c in slow[0].items()
    }
    return True


def rules_for(case: dict) -> tuple[RowRules, Columns, str]:
    spec = dict(case.get("spec", {}))
    options = case.get("options", {})
    warehouses = tuple(Warehouse(w) for w in spec.pop("warehouses", ["main"]))
    rules = RowRules(
        source=SourceName("feed"),
        warehouses=warehouses,
        warehouse_map={k: Warehouse(v) for k, v in options.get("warehouse_map", {}).items()},
        warehouse_field=options.get("warehouse_column", "warehouse"),
        **spec,
    )
    columns = Columns("sku", "quantity", options.get("warehouse_column"))
    return rules, columns, "\t" if options.get("format") == "tsv" else ","


class TestTheCorpus:
    @pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
    def test_each_corpus_feed_is_judged_the_same_by_columns_or_refused(self, case):
        rules, columns, delimiter = rules_for(case)
        text = (CORPUS / case["file"]).read_bytes().decode("utf-8")
        took = same_judgement(text, delimiter, columns, rules)
        quoted = '"' in text
        assert took is not quoted, "plain feeds take the fast path; quoted ones the csv module"

    def test_most_of_the_corpus_takes_the_fast_path(self):
        plain = [c for c in CASES if b'"' not in (CORPUS / c["file"]).read_bytes()]
        assert len(plain) >= 20


class TestOddRows:
    """Rows the column checks cannot settle go through the per-row rules, in place."""

    RULES = RowRules(source=SourceName("feed"), warehouses=(Warehouse("main"),))

    @pytest.mark.parametrize(
        "text",
        [
            "sku,quantity\nA,1\n\n  \n , \nB,2\r\nC,x\nD\nE,5,\nF,6,extra\nG",
            "sku,quantity\n A ,1\nB,\t2\t\nA,3\nÉ,4\nB,5\nH,99999999999999999999\nI,1000001\n",
            "sku,quantity\nA,1\nB,2\nA,3\nC,4\nB,x\n",
            "note,sku,quantity\nx,A\x0b,1\ny,\tB,2\nz,C\x1f,3\n,,\n",
        ],
    )
    def test_odd_rows_are_judged_as_the_per_row_path_judges_them(self, text):
        assert same_judgement(text, ",", Columns("sku", "quantity"), self.RULES)

    def test_summed_duplicates_keep_their_first_rows_place(self):
        rules = RowRules(source=SourceName("f"), warehouses=(Warehouse("m"),), duplicates="sum")
        text = "sku,quantity\nA,1\nB,2\nC,3\nB,4\nD,5\n"
        assert same_judgement(text, ",", Columns("sku", "quantity"), rules)
        good, _ = by_columns(text, ",", Columns("sku", "quantity"), rules)
        assert list(good[Warehouse("m")].items()) == [("A", 1), ("B", 6), ("C", 3), ("D", 5)]

    def test_warehouse_values_are_mapped_and_unknown_ones_rejected(self):
        rules = RowRules(
            source=SourceName("f"),
            warehouses=EAST_WEST,
            warehouse_map={"E1": Warehouse("east"), "W1": Warehouse("west")},
            warehouse_field="site",
        )
        text = "sku,quantity,site\nA,1,E1\nA,2,W1\nB,3, E1 \nC,4,N9\nD,5,\n"
        assert same_judgement(text, ",", SITE, rules)

    def test_a_broken_header_is_the_per_row_readers_error(self):
        with pytest.raises(LayoutError, match="missing quantity column"):
            by_columns("sku,qty\nA,1\n", ",", Columns("sku", "quantity"), self.RULES)

    @pytest.mark.parametrize(
        "text",
        [
            'sku,quantity\n"A,B",1\n',  # quotes: the csv module's job
            "sku,quantity\rA,1\r",  # lone carriage returns
            "\nsku,quantity\nA,1\n",  # the header is not on line one
            "sku,quantity\nA,1\n  ",  # an unfinished blank last line
            "sku,quantity\nA\n,",  # ... even one of empty fields
            "sku,quantity\nA," + "9" * 140_000 + "\n",  # above the csv module's field limit
        ],
    )
    def test_feeds_only_the_csv_module_reads_right_are_left_to_it(self, text):
        assert by_columns(text, ",", Columns("sku", "quantity"), self.RULES) is None


CELL = st.sampled_from(["A", "B", "a", " A", "B\t", "É", "", " ", "1", "12", "x", "-3", "007"])
ROW = st.lists(CELL, min_size=0, max_size=4).map(",".join)
SITES = st.sampled_from(["east", "west", " east", "north", ""])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(ROW, SITES), max_size=12),
    end=st.sampled_from(["\n", "\r\n", ""]),
    duplicates=st.sampled_from(["reject", "sum"]),
    sku_case=st.sampled_from(["keep", "upper", "lower"]),
)
def test_any_plain_feed_is_judged_the_same_by_columns(rows, end, duplicates, sku_case):
    text = "\n".join(["site,sku,quantity", *(f"{site},{row}" for row, site in rows)]) + end
    rules = RowRules(
        source=SourceName("f"),
        warehouses=EAST_WEST,
        max_quantity=20,
        duplicates=duplicates,
        sku_case=sku_case,
        warehouse_field="site",
    )
    if by_columns(text, ",", SITE, rules) is not None:
        same_judgement(text, ",", SITE, rules)
