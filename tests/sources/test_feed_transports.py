"""The csv kind reads the same way from a local folder, a real SFTP server and a real S3 bucket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from source_helpers import EPOCH, make_spec

from inventory_sync.domain.model import SourceName
from inventory_sync.errors import NoNewFile, SourceUnavailable
from inventory_sync.ports import commit_snapshot
from inventory_sync.sources.csv_file import KIND, CsvOptions
from inventory_sync.sources.feed_files import FeedFiles


def build(place, context, **options):
    merged = {**place.options(), **options}
    return KIND.build(make_spec(), CsvOptions.model_validate(merged), context)


def levels(snapshot) -> dict[str, int]:
    return {o.sku: o.quantity for o in snapshot.observations}


class TestWhichFile:
    def test_a_glob_picks_the_newest_complete_file(self, place, context, clock):
        place.write("in/stock-1.csv", "sku,quantity\nOLDEST,1\n", mtime=EPOCH)
        newer = place.write(
            "in/stock-2.csv", "sku,quantity\nNEWER,2\n", EPOCH + timedelta(minutes=1)
        )
        place.write(
            "in/other.csv", "sku,quantity\nNOT-MATCHED,3\n", mtime=EPOCH + timedelta(minutes=2)
        )
        source = build(place, context, path=place.path("in/stock-*.csv"))
        snapshot = source.pull()
        assert levels(snapshot) == {"NEWER": 2}
        assert snapshot.origin == newer
        assert snapshot.taken_at == EPOCH + timedelta(minutes=1)

    def test_a_file_still_being_uploaded_is_not_read(self, place, context, clock):
        place.write("in/stock-1.csv", "sku,quantity\nDONE,1\n", mtime=EPOCH)
        place.write("in/stock-2.csv.part", "sku,quantity\nUPLOADING,1\n", mtime=EPOCH)
        place.write("in/stock-3.csv", "sku,quantity\nSETTLING,1\n", mtime=clock.now())
        source = build(place, context, path=place.path("in/stock-*"), stable_seconds=60)
        assert levels(source.pull()) == {"DONE": 1}
        clock.advance(timedelta(seconds=60))
        assert levels(source.pull()) == {"SETTLING": 1}

    def test_only_files_inside_the_stability_window_is_unavailable(self, place, context, clock):
        place.write("in/stock.csv", "sku,quantity\nA,1\n", mtime=clock.now())
        source = build(place, context, path=place.path("in/*.csv"), stable_seconds=30)
        with pytest.raises(SourceUnavailable, match="still being written"):
            source.pull()

    def test_only_uploads_in_progress_are_named_as_such(self, place, context):
        place.write("in/stock-2.csv.part", "sku,quantity\nUPLOADING,1\n")
        source = build(place, context, path=place.path("in/stock-*"))
        with pytest.raises(SourceUnavailable) as raised:
            source.pull()
        message = str(raised.value)
        assert f"no complete file matches {place.path('in/stock-*')}" in message
        assert "only 1 upload(s) in progress (stock-2.csv.part)" in message

    def test_no_matching_file_is_unavailable(self, place, context):
        place.write("in/readme.txt", "not a feed")
        with pytest.raises(SourceUnavailable, match="no file matches") as raised:
            build(place, context, path=place.path("in/*.csv")).pull()
        assert not isinstance(raised.value, NoNewFile)  # without archive_dir: nothing was used


class TestArchive:
    def test_the_empty_inbox_after_archiving_says_where_the_files_went(self, place, context):
        place.write("in/a.csv", "sku,quantity\nA,1\n")
        archive = place.folder("done")
        source = build(place, context, path=place.path("in/*.csv"), archive_dir=archive)
        commit_snapshot(source, source.pull())
        with pytest.raises(NoNewFile) as raised:
            source.pull()
        assert str(raised.value) == (
            f"no file matches {place.path('in/*.csv')} (files already used were moved to"
            f" {archive}: no new one since?)"
        )
        assert raised.value.archive_dir == archive

    def test_an_inbox_with_only_an_upload_in_progress_is_not_empty(self, place, context):
        place.write("in/b.csv.part", "sku,quantity\nA,2\n")
        source = build(place, context, path=place.path("in/*"), archive_dir=place.folder("done"))
        with pytest.raises(SourceUnavailable, match="upload") as raised:
            source.pull()
        assert not isinstance(raised.value, NoNewFile)

    def test_commit_moves_the_file_and_older_ones_on_the_server(self, place, context):
        place.write("in/a.csv", "sku,quantity\nA,1\n", mtime=EPOCH)
        place.write("in/b.csv", "sku,quantity\nA,2\n", mtime=EPOCH + timedelta(minutes=10))
        source = build(
            place, context, path=place.path("in/*.csv"), archive_dir=place.folder("done/2026")
        )
        snapshot = source.pull()
        assert place.names("in") == ["a.csv", "b.csv"]  # pulling moves nothing
        commit_snapshot(source, snapshot)
        assert place.names("in") == []
        assert place.names("done/2026") == ["a.csv", "b.csv"]

    def test_an_archived_name_is_never_overwritten(self, place, context):
        place.write("done/s.csv", "earlier")
        place.write("in/s.csv", "sku,quantity\nA,1\n")
        source = build(
            place, context, path=place.path("in/s.csv"), archive_dir=place.folder("done")
        )
        snapshot = source.pull()
        commit_snapshot(source, snapshot)
        assert place.names("done") == sorted(["s.csv", f"s.{snapshot.snapshot_id[:12]}.csv"])
        assert place.names("in") == []


class TestStreaming:
    """FeedFiles.opened() is for readers that stream the file themselves (a spreadsheet, say)."""

    def files(self, place, context, relative):
        options = CsvOptions.model_validate({**place.options(), "path": place.path(relative)})
        return FeedFiles(options, SourceName("feed"), context)

    def test_the_stream_holds_the_same_bytes_as_a_whole_read(self, place, context):
        content = b"sku,quantity\n" + b"".join(b"SKU-%06d,%d\n" % (n, n) for n in range(20_000))
        place.write("in/big.csv", content)
        files = self.files(place, context, "in/*.csv")
        with files.opened() as found:
            streamed = found.stream.read()
            assert found.origin == place.path("in/big.csv")
        assert streamed == content == files.pick().data

    def test_a_file_that_changes_while_streamed_is_not_used(self, place, context):
        place.write("in/s.csv", "sku,quantity\nA,1\n")
        files = self.files(place, context, "in/s.csv")
        changed = pytest.raises(SourceUnavailable, match="changed while being read")
        with changed, files.opened() as found:  # the change happens mid-read
            found.stream.read()
            place.write("in/s.csv", "sku,quantity\nA,1\nB,2\n")
