"""The csv kind against real files on disk."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from source_helpers import EPOCH, make_spec, write_file

from inventory_sync.domain.model import Completeness, Observation, Sku, Warehouse
from inventory_sync.errors import ConfigError, FeedFormatError, SourceUnavailable
from inventory_sync.ports import commit_snapshot
from inventory_sync.sources.csv_file import KIND, CsvFileSource, CsvOptions
from inventory_sync.sources.files import FileChanged, list_candidates, read_unchanged
from inventory_sync.sources.local_store import LocalStore


def build(context, spec=None, **options) -> CsvFileSource:
    source = KIND.build(spec or make_spec(), CsvOptions(**options), context)
    assert isinstance(source, CsvFileSource)
    return source


def levels(snapshot) -> dict[str, int]:
    return {o.sku: o.quantity for o in snapshot.observations}


class TestReading:
    def test_a_plain_csv_becomes_a_snapshot_stamped_from_the_spec(self, tmp_path, context):
        path = write_file(tmp_path / "stock.csv", "sku,quantity\nA,1\nB,20\n")
        snapshot = build(context, path=str(path)).pull()
        assert snapshot.observations == (
            Observation(Warehouse("main"), Sku("A"), 1),
            Observation(Warehouse("main"), Sku("B"), 20),
        )
        assert snapshot.source == "feed"
        assert snapshot.warehouses == frozenset({"main"})
        assert snapshot.completeness == Completeness.COMPLETE
        assert snapshot.taken_at == EPOCH
        assert snapshot.origin == str(path)

    def test_quarantined_rows_keep_their_lines_and_the_good_rows_go_on(self, tmp_path, context):
        text = 'sku,quantity\nA,1\nB,oops\n\n"C\nD",3\nE,4,stray\nF,6\n'
        path = write_file(tmp_path / "stock.csv", text)
        snapshot = build(context, path=str(path)).pull()
        assert list(snapshot.rows_for(Warehouse("main")).items()) == [("A", 1), ("F", 6)]
        assert [(r.line, r.field) for r in snapshot.rejected] == [
            (3, "quantity"),
            (5, "sku"),
            (7, None),
        ]

    def test_a_rejected_row_names_its_sku_unless_the_file_was_cut_inside_it(
        self, tmp_path, context
    ):
        text = "sku,quantity\nA,1\nB,oops\nC,3,stray\n,4\nD"
        path = write_file(tmp_path / "stock.csv", text)
        snapshot = build(context, path=str(path)).pull()
        assert [(r.line, r.sku) for r in snapshot.rejected] == [
            (3, "B"),
            (4, "C"),
            (5, None),
            (6, None),  # the last line may be a SKU cut short: "D" of "D-100"
        ]
        assert str(snapshot.rejected[0]).startswith(f"{path}:3 SKU B field 'quantity'")

    def test_tsv_with_renamed_columns_and_quoted_fields(self, tmp_path, context):
        text = 'Item Code\tNote\tOn Hand\n"A B"\t"x, ""y"""\t3\nC\t\t4\n'
        path = write_file(tmp_path / "stock.tsv", text)
        source = build(
            context, path=str(path), format="tsv", sku_column="item code", quantity_column="ON HAND"
        )
        assert levels(source.pull()) == {"A B": 3, "C": 4}

    def test_latin_1_files_decode_when_configured(self, tmp_path, context):
        path = write_file(tmp_path / "s.csv", "sku;quantity\nCAFÉ;2\n".encode("latin-1"))
        source = build(context, path=str(path), delimiter=";", encoding="latin-1")
        assert levels(source.pull()) == {"CAFÉ": 2}

    def test_a_byte_order_mark_is_ignored(self, tmp_path, context):
        path = write_file(tmp_path / "s.csv", b"\xef\xbb\xbfsku,quantity\r\nA,1\r\n")
        assert levels(build(context, path=str(path)).pull()) == {"A": 1}

    def test_warehouse_column_with_a_map(self, tmp_path, context):
        path = write_file(tmp_path / "s.csv", "sku,qty,site\nA,1,E1\nA,2,W1\nB,3,N9\n")
        spec = make_spec("east", "west")
        source = build(
            context,
            spec,
            path=str(path),
            quantity_column="qty",
            warehouse_column="site",
            warehouse_map={"E1": "east", "W1": "west"},
        )
        snapshot = source.pull()
        assert {(o.warehouse, o.sku, o.quantity) for o in snapshot.observations} == {
            ("east", "A", 1),
            ("west", "A", 2),
        }
        [bad] = snapshot.rejected
        assert (bad.line, bad.field, bad.value) == (4, "site", "N9")

    def test_snapshot_id_is_the_content_checksum(self, tmp_path, context):
        one = write_file(tmp_path / "a" / "s.csv", "sku,quantity\nA,1\n")
        two = write_file(
            tmp_path / "b" / "s.csv", "sku,quantity\nA,1\n", mtime=EPOCH + timedelta(minutes=10)
        )
        three = write_file(tmp_path / "c" / "s.csv", "sku,quantity\nA,2\n")
        ids = [build(context, path=str(p)).pull().snapshot_id for p in (one, two, three)]
        assert ids[0] == ids[1] != ids[2]
        assert (
            ids[0] == "0a4b1b1d0e0e6e7ff7c54d8cc0f2b0d8a7fb0c5e7ef0d7ff7f2a3ab5dbd3ef8d"
            or len(ids[0]) == 64
        )


class TestWhichFile:
    def test_temporary_suffixes_are_never_read(self, tmp_path, context):
        write_file(tmp_path / "s1.csv", "sku,quantity\nOLD,1\n", mtime=EPOCH)
        write_file(
            tmp_path / "s2.csv.part", "sku,quantity\nNEW,1\n", mtime=EPOCH + timedelta(minutes=10)
        )
        write_file(
            tmp_path / "s3.csv.TMP", "sku,quantity\nNEW,1\n", mtime=EPOCH + timedelta(minutes=10)
        )
        assert levels(build(context, path=str(tmp_path / "s*")).pull()) == {"OLD": 1}

    def test_the_newest_stable_file_wins(self, tmp_path, context, clock):
        write_file(tmp_path / "a.csv", "sku,quantity\nOLDEST,1\n", mtime=EPOCH)
        write_file(
            tmp_path / "b.csv", "sku,quantity\nNEWER,1\n", mtime=EPOCH + timedelta(minutes=5)
        )
        write_file(tmp_path / "c.csv", "sku,quantity\nFRESH,1\n", mtime=clock.now())
        source = build(context, path=str(tmp_path / "*.csv"), stable_seconds=60)
        assert levels(source.pull()) == {"NEWER": 1}
        clock.advance(timedelta(seconds=60))
        assert levels(source.pull()) == {"FRESH": 1}

    def test_no_matching_file_is_unavailable(self, tmp_path, context):
        with pytest.raises(SourceUnavailable, match="no file matches"):
            build(context, path=str(tmp_path / "*.csv")).pull()

    def test_only_unstable_files_is_unavailable_until_they_settle(self, tmp_path, context, clock):
        path = write_file(tmp_path / "s.csv", "sku,quantity\nA,1\n", mtime=clock.now())
        source = build(context, path=str(path), stable_seconds=5)
        with pytest.raises(SourceUnavailable, match="still being written"):
            source.pull()
        clock.advance(timedelta(seconds=5))
        assert levels(source.pull()) == {"A": 1}

    def test_a_file_being_appended_is_not_read_until_stable(self, tmp_path, context, clock):
        """A writer thread appends rows while the source polls; real mtimes, injected clock."""
        path = tmp_path / "s.csv"
        path.write_text("sku,quantity\n")
        clock._now = clock.now().replace(year=2000)  # far behind real mtimes: nothing is stable
        source = build(context, path=str(path), stable_seconds=1)
        started, stop = threading.Event(), threading.Event()

        def append() -> None:
            n = 0
            while not stop.is_set() or n < 50:
                with path.open("a") as f:
                    f.write(f"SKU{n},{n}\n")
                n += 1
                started.set()

        writer = threading.Thread(target=append)
        writer.start()
        started.wait()
        polls = []
        for _ in range(20):
            with pytest.raises(SourceUnavailable) as raised:
                source.pull()
            polls.append(raised.value)
        stop.set()
        writer.join()
        rows = len(path.read_text().splitlines()) - 1
        clock._now = LocalStore().stat(str(path)).mtime + timedelta(seconds=1)
        snapshot = source.pull()
        assert snapshot.row_count == rows >= 50
        assert snapshot.rejected == ()

    def test_a_file_that_changes_between_listing_and_read_is_not_used(self, tmp_path):
        path = write_file(tmp_path / "s.csv", "sku,quantity\nA,1\n")
        store = LocalStore()
        [candidate] = list_candidates(store, str(path), ())
        write_file(path, "sku,quantity\nA,1\nB,2\n")
        with pytest.raises(FileChanged):
            read_unchanged(store, candidate)


class TestArchive:
    def test_commit_moves_the_file_and_the_older_ones_it_supersedes(self, tmp_path, context):
        inbox, archive = tmp_path / "in", tmp_path / "done"
        write_file(inbox / "a.csv", "sku,quantity\nA,1\n", mtime=EPOCH)
        write_file(inbox / "b.csv", "sku,quantity\nA,2\n", mtime=EPOCH + timedelta(minutes=10))
        source = build(context, path=str(inbox / "*.csv"), archive_dir=str(archive))
        snapshot = source.pull()
        assert sorted(p.name for p in inbox.iterdir()) == ["a.csv", "b.csv"]  # pull moves nothing
        commit_snapshot(source, snapshot)
        assert list(inbox.iterdir()) == []
        assert sorted(p.name for p in archive.iterdir()) == ["a.csv", "b.csv"]

    def test_an_archived_name_is_never_overwritten(self, tmp_path, context):
        inbox, archive = tmp_path / "in", tmp_path / "done"
        write_file(archive / "s.csv", "earlier")
        write_file(inbox / "s.csv", "sku,quantity\nA,1\n")
        source = build(context, path=str(inbox / "s.csv"), archive_dir=str(archive))
        source.commit(snapshot := source.pull())
        assert (archive / "s.csv").read_text() == "earlier"
        assert (archive / f"s.{snapshot.snapshot_id[:12]}.csv").exists()

    def test_without_archive_dir_commit_leaves_files_alone(self, tmp_path, context):
        path = write_file(tmp_path / "s.csv", "sku,quantity\nA,1\n")
        source = build(context, path=str(path))
        source.commit(source.pull())
        assert path.exists()


class TestWholeFileProblems:
    @pytest.mark.parametrize(
        ("content", "message"),
        [
            (b"", "file is empty"),
            (b"\n \n", "file is empty"),
            (b"sku,quantity\n", "header but no data rows"),
            (b"sku,qty\nA,1\n", "missing quantity column 'quantity'"),
            (b"sku;quantity\nA;1\n", "the delimiter is ',', but the header contains ';'"),
            (b"sku,quantity,sku\nA,1,B\n", "column 'sku' appears 2 times"),
            (
                b"sku,quantity\nA,1\nB\xff,2\n",
                "line 3: bytes b'\\xff,2\\n' at offset 18 are not valid utf-8",
            ),
        ],
    )
    def test_an_unusable_file_is_a_named_feed_format_error(
        self, tmp_path, context, content, message
    ):
        path = write_file(tmp_path / "s.csv", content)
        with pytest.raises(FeedFormatError) as raised:
            build(context, path=str(path)).pull()
        assert message in str(raised.value)
        assert str(path) in str(raised.value)
        assert raised.value.source == "feed"
        assert raised.value.origin == str(path)

    def test_a_header_only_partial_feed_is_an_empty_snapshot(self, tmp_path, context):
        path = write_file(tmp_path / "s.csv", "sku,quantity\n")
        spec = make_spec(completeness=Completeness.PARTIAL)
        snapshot = build(context, spec, path=str(path)).pull()
        assert snapshot.observations == snapshot.rejected == ()


class TestBuild:
    def test_a_file_without_warehouse_column_needs_exactly_one_warehouse(self, context):
        with pytest.raises(ConfigError, match=r"options\.warehouse_column"):
            KIND.build(make_spec("a", "b"), CsvOptions(path="x"), context)

    def test_warehouse_map_must_point_at_our_warehouses(self, context):
        options = CsvOptions(path="x", warehouse_column="w", warehouse_map={"1": "nowhere"})
        with pytest.raises(ConfigError, match="nowhere"):
            KIND.build(make_spec("a"), options, context)

    @pytest.mark.parametrize(
        ("options", "field"),
        [
            ({"path": "x", "delimiter": ";;"}, "delimiter"),
            ({"path": "x", "encoding": "klingon"}, "encoding"),
            ({"path": "x", "stable_seconds": -1}, "stable_seconds"),
            ({"path": "x", "colour": "red"}, "colour"),
            ({}, "path"),
        ],
    )
    def test_options_are_checked_by_the_model(self, options, field):
        with pytest.raises(ValueError, match=field):
            CsvOptions.model_validate(options)
