"""The xlsx kind against real workbooks on disk (written by xlsxwriter, read by calamine)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError
from source_helpers import EPOCH, make_spec, write_file, write_xlsx

from inventory_sync.domain.model import Completeness, Sku, Warehouse
from inventory_sync.errors import FeedFormatError
from inventory_sync.ports import commit_snapshot
from inventory_sync.sources import load_kind
from inventory_sync.sources.xlsx_file import KIND, XlsxOptions

MAIN = Warehouse("main")
STOCK = [["sku", "quantity"], ["A", 1], ["B", 20]]


def pull(context, path, spec=None, **options):
    source = KIND.build(spec or make_spec(), XlsxOptions(path=str(path), **options), context)
    return source.pull()


class TestReading:
    def test_the_first_sheet_is_the_default_and_numbers_are_whole(self, tmp_path, context):
        path = write_xlsx(tmp_path / "stock.xlsx", {"Stock": STOCK, "Other": [["x"]]})
        snapshot = pull(context, path)
        assert dict(snapshot.rows_for(MAIN)) == {"A": 1, "B": 20}
        assert snapshot.origin == str(path)
        assert len(snapshot.snapshot_id) == 64

    def test_a_sheet_is_chosen_by_name_or_by_position_from_one(self, tmp_path, context):
        other = [["sku", "quantity"], ["Z", 9]]
        path = write_xlsx(tmp_path / "stock.xlsx", {"Notes": [["hello"]], "Stock": other})
        assert dict(pull(context, path, sheet="Stock").rows_for(MAIN)) == {"Z": 9}
        assert dict(pull(context, path, sheet=2).rows_for(MAIN)) == {"Z": 9}

    def test_a_sheet_name_is_matched_ignoring_case_as_excel_does(self, tmp_path, context):
        # Excel refuses two sheets whose names differ only in case: "stock" can mean one only.
        other = [["sku", "quantity"], ["Z", 9]]
        path = write_xlsx(tmp_path / "stock.xlsx", {"Notes": [["hello"]], "Stock": other})
        assert dict(pull(context, path, sheet="stock").rows_for(MAIN)) == {"Z": 9}

    def test_lines_are_the_sheets_row_numbers_wherever_the_table_starts(self, tmp_path, context):
        rows = [["sku", "quantity"], ["A", 1], [None, None], ["B", "x"]]
        path = write_xlsx(tmp_path / "s.xlsx", {"S": rows}, first_row=3, first_column=2)
        (rejected,) = pull(context, path).rejected
        assert (rejected.line, rejected.field, rejected.value) == (7, "quantity", "x")
        assert rejected.origin == f"{path}[S]"
        assert str(rejected).startswith(f"{path}[S]:7 SKU B field 'quantity' value 'x':")

    def test_a_title_above_the_header_is_skipped_with_header_row(self, tmp_path, context):
        rows = [["Stock report, 1 May"], [], ["Item", "On hand", "Site"], ["A", 3, "E1"]]
        path = write_xlsx(tmp_path / "s.xlsx", {"S": rows})
        snapshot = pull(
            context,
            path,
            spec=make_spec("east"),
            header_row=3,
            sku_column="item",
            quantity_column="on hand",
            warehouse_column="site",
            warehouse_map={"E1": "east"},
        )
        assert dict(snapshot.rows_for(Warehouse("east"))) == {"A": 3}

    def test_typed_cells_are_judged_by_the_shared_rules(self, tmp_path, context):
        rows = [
            ["sku", "quantity"],
            [12345, 2],  # a SKU typed as a number is its digits
            ["B", 12.5],
            ["C", True],
            ["D", datetime(2026, 1, 5)],  # noqa: DTZ001 - a spreadsheet date has no zone
            [1.5, 3],
            ["E", -1],
            ["F", ""],
        ]
        snapshot = pull(context, write_xlsx(tmp_path / "t.xlsx", {"S": rows}))
        assert dict(snapshot.rows_for(MAIN)) == {Sku("12345"): 2}
        reasons = [(r.line, r.value, r.reason) for r in snapshot.rejected]
        assert reasons == [
            (3, "12.5", "quantity must be a whole number, got a fraction"),
            (4, "True", "quantity must be a whole number, got a boolean"),
            (5, "2026-01-05", "quantity must be a whole number, got date"),
            (6, "1.5", "SKU must be text, got float"),
            (7, "-1", "quantity is negative"),
            (8, "", "quantity is empty"),
        ]

    def test_commit_archives_the_workbook_as_the_csv_kind_does(self, tmp_path, context):
        path = write_xlsx(tmp_path / "in" / "stock.xlsx", {"S": STOCK})
        options = XlsxOptions(path=str(path), archive_dir=str(tmp_path / "done"))
        source = KIND.build(make_spec(), options, context)
        commit_snapshot(source, source.pull())
        assert not path.exists()
        assert (tmp_path / "done" / "stock.xlsx").exists()

    def test_a_workbook_is_read_and_archived_through_every_transport(
        self, place, tmp_path, context
    ):
        rows = [["sku", "quantity"], ["A", 1], ["B", 2.5]]
        data = write_xlsx(tmp_path / "made" / "stock.xlsx", {"Stock": rows}).read_bytes()
        origin = place.write("in/stock.xlsx", data)
        options = {**place.options(), "path": place.path("in/*.xlsx")}
        options["archive_dir"] = place.folder("done")
        source = KIND.build(make_spec(), XlsxOptions(**options), context)
        snapshot = source.pull()
        assert dict(snapshot.rows_for(MAIN)) == {"A": 1}
        (rejected,) = snapshot.rejected
        assert (rejected.origin, rejected.line, rejected.sku) == (f"{origin}[Stock]", 3, "B")
        commit_snapshot(source, snapshot)
        assert place.names("done") == ["stock.xlsx"]

    def test_a_change_feed_of_workbooks_reads_the_oldest_and_archives_only_it(
        self, place, tmp_path, context
    ):
        for minute, (name, quantity) in enumerate([("b", 1), ("a", 2)]):
            made = tmp_path / "made" / f"{name}.xlsx"
            data = write_xlsx(made, {"S": [["sku", "quantity"], ["A", quantity]]}).read_bytes()
            place.write(f"in/{name}.xlsx", data, mtime=EPOCH + timedelta(minutes=minute))
        options = {**place.options(), "path": place.path("in/*.xlsx")}
        options["archive_dir"] = place.folder("done")
        spec = make_spec(completeness=Completeness.PARTIAL)
        source = KIND.build(spec, XlsxOptions(**options), context)
        first = source.pull()
        assert (dict(first.rows_for(MAIN)), first.files_waiting) == ({"A": 1}, 1)
        commit_snapshot(source, first)
        assert (place.names("in"), place.names("done")) == (["a.xlsx"], ["b.xlsx"])
        second = source.pull()
        assert (dict(second.rows_for(MAIN)), second.files_waiting) == ({"A": 2}, 0)

    def test_a_complete_feed_of_workbooks_reads_the_newest_and_archives_all(
        self, tmp_path, context
    ):
        write_xlsx(tmp_path / "in" / "b.xlsx", {"S": [["sku", "quantity"], ["A", 1]]})
        later = EPOCH + timedelta(minutes=1)
        write_xlsx(tmp_path / "in" / "a.xlsx", {"S": [["sku", "quantity"], ["A", 2]]}, mtime=later)
        options = XlsxOptions(path=str(tmp_path / "in" / "*.xlsx"), archive_dir=str(tmp_path / "d"))
        source = KIND.build(make_spec(), options, context)
        snapshot = source.pull()
        assert (dict(snapshot.rows_for(MAIN)), snapshot.files_waiting) == ({"A": 2}, 0)
        commit_snapshot(source, snapshot)
        assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["a.xlsx", "b.xlsx"]

    def test_the_kind_is_registered_as_xlsx(self):
        assert load_kind("xlsx") is KIND


class TestUnusableWorkbooks:
    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"sheet": "Stock"}, "no sheet named 'Stock'; the workbook has ['S', 'T']"),
            ({"sheet": 3}, "there is no sheet 3: the workbook has 2 ['S', 'T']"),
            ({"sheet": "T"}, "sheet 'T': sheet has no header row (it is empty or blank)"),
            ({"header_row": 9}, "sheet 'S': sheet has no row 9 (header_row)"),
            ({"quantity_column": "qty"}, "missing quantity column 'qty'; the header has"),
            ({"sheet": "2"}, "no sheet named '2'; the workbook has ['S', 'T'] (a position is a"),
        ],
    )
    def test_a_wrong_sheet_or_header_names_the_file_and_the_sheet(
        self, tmp_path, context, options, message
    ):
        path = write_xlsx(tmp_path / "s.xlsx", {"S": STOCK, "T": []})
        with pytest.raises(FeedFormatError) as raised:
            pull(context, path, **options)
        assert message in str(raised.value)
        assert str(path) in str(raised.value)

    def test_a_title_read_as_the_header_says_which_row_and_to_set_header_row(
        self, tmp_path, context
    ):
        rows = [["Stock report, 1 May"], [], ["sku", "quantity"], ["A", 3]]
        path = write_xlsx(tmp_path / "s.xlsx", {"S": rows})
        with pytest.raises(FeedFormatError) as raised:
            pull(context, path)
        message = str(raised.value)
        assert "missing sku column 'sku'; the header has ['Stock report, 1 May']" in message
        assert "(row 1, the first non-blank row; if the column names are on a later row," in message
        assert "CSV text" not in message  # the title's comma is no delimiter
        assert "set header_row)" in message
        with pytest.raises(FeedFormatError, match=r"\['sku', 'quantity'\] \(row 3, header_row\)"):
            pull(context, path, header_row=3, quantity_column="qty")

    def test_a_csv_file_named_xlsx_is_not_a_workbook(self, tmp_path, context):
        path = write_file(tmp_path / "s.xlsx", "sku,quantity\nA,1\n")
        with pytest.raises(FeedFormatError, match="not a readable xlsx workbook"):
            pull(context, path)

    def test_csv_text_pasted_into_one_column_is_named(self, tmp_path, context):
        path = write_xlsx(tmp_path / "s.xlsx", {"S": [["sku;quantity"], ["A;1"]]})
        with pytest.raises(FeedFormatError, match="the header is one cell containing ';'"):
            pull(context, path)

    @pytest.mark.parametrize("options", [{"encoding": "latin-1"}, {"format": "tsv"}, {"sheet": 0}])
    def test_options_that_mean_nothing_in_a_workbook_are_errors(self, options):
        with pytest.raises(ValidationError):
            XlsxOptions(path="/srv/stock.xlsx", **options)
