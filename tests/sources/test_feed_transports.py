"""The csv kind reads the same way from a local folder, a real SFTP server and a real S3 bucket."""

from __future__ import annotations

from datetime import timedelta

import pytest
import structlog
from source_helpers import EPOCH, make_spec

from inventory_sync.domain.model import Completeness, SourceName
from inventory_sync.errors import NoNewFile, SourceUnavailable
from inventory_sync.ports import commit_snapshot
from inventory_sync.sources.csv_file import KIND, CsvOptions
from inventory_sync.sources.feed_files import FeedFiles
from inventory_sync.sources.files import archive_files
from inventory_sync.sources.local_store import LocalStore


class ArchivedMeanwhile(LocalStore):
    """A local store where another process archives each file just before our move does."""

    def move(self, path: str, target: str) -> None:
        LocalStore.move(self, path, target)
        super().move(path, target)  # the file is gone now: FileNotFoundError


def build(place, context, *, completeness=Completeness.COMPLETE, **options):
    merged = {**place.options(), **options}
    spec = make_spec(completeness=completeness)
    return KIND.build(spec, CsvOptions.model_validate(merged), context)


def build_changes(place, context, **options):
    """A change feed (`snapshot = "partial"`) over the place's in/*.csv."""
    return build(
        place, context, completeness=Completeness.PARTIAL, path=place.path("in/*.csv"), **options
    )


def drop_three(place) -> None:
    """Three stable files, written in the order a, b, c (names sorted the other way round)."""
    place.write("in/c.csv", "sku,quantity\nA,1\n", mtime=EPOCH)
    place.write("in/b.csv", "sku,quantity\nB,2\n", mtime=EPOCH + timedelta(minutes=1))
    place.write("in/a.csv", "sku,quantity\nA,3\n", mtime=EPOCH + timedelta(minutes=2))


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


class TestAChangeFeedWithAnArchive:
    """A change feed with archive_dir reads its oldest file, alone: a backlog drains in order."""

    def test_the_oldest_file_is_read_and_archiving_moves_only_it(self, place, context):
        drop_three(place)
        source = build_changes(place, context, archive_dir=place.folder("done"))
        seen = []
        for waiting in (2, 1, 0):
            snapshot = source.pull()
            assert snapshot.files_waiting == waiting
            seen.append(levels(snapshot))
            commit_snapshot(source, snapshot)
        assert seen == [{"A": 1}, {"B": 2}, {"A": 3}]
        assert place.names("in") == []
        assert place.names("done") == ["a.csv", "b.csv", "c.csv"]

    def test_each_file_knows_when_the_newest_one_waiting_behind_it_was_written(
        self, place, context
    ):
        drop_three(place)
        source = build_changes(place, context, archive_dir=place.folder("done"))
        newest = []
        for _ in range(3):
            snapshot = source.pull()
            newest.append(snapshot.newest_waiting_at)
            commit_snapshot(source, snapshot)
        last = EPOCH + timedelta(minutes=2)
        assert [t and t.replace(microsecond=0) for t in newest] == [last, last, None]

    def test_after_one_archive_the_others_are_still_in_the_inbox(self, place, context):
        drop_three(place)
        source = build_changes(place, context, archive_dir=place.folder("done"))
        commit_snapshot(source, source.pull())
        assert place.names("done") == ["c.csv"]
        assert place.names("in") == ["a.csv", "b.csv"]

    def test_a_file_not_committed_is_read_again_before_any_newer_one(self, place, context):
        drop_three(place)
        source = build_changes(place, context, archive_dir=place.folder("done"))
        first = source.pull()
        again = source.pull()  # not committed: not counted, or its archive failed
        assert again.snapshot_id == first.snapshot_id
        assert levels(again) == {"A": 1}

    def test_files_of_the_same_mtime_are_read_in_name_order(self, place, context):
        place.write("in/2.csv", "sku,quantity\nA,2\n", mtime=EPOCH)
        place.write("in/1.csv", "sku,quantity\nA,1\n", mtime=EPOCH)
        source = build_changes(place, context, archive_dir=place.folder("done"))
        first = source.pull()
        commit_snapshot(source, first)
        assert (levels(first), levels(source.pull())) == ({"A": 1}, {"A": 2})

    def test_a_file_still_being_written_is_neither_read_nor_waiting(self, place, context, clock):
        place.write("in/old.csv", "sku,quantity\nA,1\n", mtime=EPOCH)
        place.write("in/new.csv", "sku,quantity\nA,2\n", mtime=clock.now())
        source = build_changes(place, context, archive_dir=place.folder("done"), stable_seconds=60)
        snapshot = source.pull()
        assert (levels(snapshot), snapshot.files_waiting) == ({"A": 1}, 0)


class TestArchivingTwice:
    def test_a_file_archived_meanwhile_by_another_run_is_not_an_error(self, tmp_path):
        inbox = tmp_path / "in"
        inbox.mkdir()
        (inbox / "a.csv").write_text("sku,quantity\nA,1\n", encoding="utf-8")
        done = str(tmp_path / "done")
        moved = archive_files(ArchivedMeanwhile(), [str(inbox / "a.csv")], done, "tag")
        assert moved == []
        assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["a.csv"]

    def test_a_move_that_fails_with_the_file_still_there_is_an_error(self, tmp_path):
        inbox = tmp_path / "in"
        inbox.mkdir()
        (inbox / "a.csv").write_text("sku,quantity\nA,1\n", encoding="utf-8")
        missing_folder = str(tmp_path / "no" / "such")
        with pytest.raises(FileNotFoundError):
            archive_files(NoFolders(), [str(inbox / "a.csv")], missing_folder, "tag")
        assert (inbox / "a.csv").exists()


class NoFolders(LocalStore):
    """A local store that cannot make the archive folder: the move finds no target folder."""

    def make_folder(self, path: str) -> None:
        """Makes nothing."""


class TestAChangeFeedWithoutAnArchive:
    def test_reads_the_newest_and_says_at_start_that_older_ones_are_never_applied(
        self, place, context
    ):
        drop_three(place)
        with structlog.testing.capture_logs() as logged:
            source = build_changes(place, context)
        (warned,) = [e for e in logged if e["event"] == "source.config_warning"]
        assert warned["source"] == "feed"
        assert "never applied" in warned["reason"]
        snapshot = source.pull()
        assert (levels(snapshot), snapshot.files_waiting) == ({"A": 3}, 0)
        commit_snapshot(source, snapshot)  # no archive_dir: moves nothing
        assert place.names("in") == ["a.csv", "b.csv", "c.csv"]

    def test_a_change_feed_with_an_archive_and_a_complete_feed_warn_of_nothing(
        self, place, context
    ):
        with structlog.testing.capture_logs() as logged:
            build_changes(place, context, archive_dir=place.folder("done"))
            build(place, context, path=place.path("in/*.csv"))
        assert [e for e in logged if e["event"] == "source.config_warning"] == []


class TestACompleteFeedIsUnchanged:
    def test_the_newest_is_read_and_archiving_moves_every_older_one_with_it(self, place, context):
        drop_three(place)
        source = build(
            place, context, path=place.path("in/*.csv"), archive_dir=place.folder("done")
        )
        snapshot = source.pull()
        assert (levels(snapshot), snapshot.files_waiting) == ({"A": 3}, 0)
        commit_snapshot(source, snapshot)
        assert place.names("in") == []
        assert place.names("done") == ["a.csv", "b.csv", "c.csv"]


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

    def test_a_draining_feed_streams_its_oldest_file_and_counts_the_rest(self, place, context):
        drop_three(place)
        options = CsvOptions.model_validate({**place.options(), "path": place.path("in/*.csv")})
        files = FeedFiles(options, SourceName("feed"), context, drain=True)
        with files.opened() as found:
            assert found.stream.read() == b"sku,quantity\nA,1\n"
            assert (found.superseded, found.waiting) == ((found.candidate.path,), 2)
