"""A change feed (`snapshot = "partial"`): each change file is applied exactly once per
warehouse, and leaves its inbox only once every warehouse of its source has counted it.

Budget: about 30 s (short command runs against the emulator over loopback HTTP).
"""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
from change_feed_support import ChangeWorld, events, make_change_world
from config_template import config_toml
from e2e_support import make_world
from remote_servers import SftpServer

MANY = {("east", sku): 11 for sku in ["RED", "BLUE", "GREEN", "BLACK", "WHITE", "PINK"]}
ELSEWHERE = f"{socket.gethostname()}:{os.getpid()}:run-elsewhere"  # alive: this test


@pytest.fixture
def changes(tmp_path):
    world = make_change_world(tmp_path, f"sqlite:///{tmp_path / 'state' / 'ledger.db'}")
    try:
        yield world
    finally:
        world.emulator.stop()


def held_by_a_guard_then_applied_once(world: ChangeWorld) -> None:
    world.drop_changes("changes-1.csv", MANY)  # 6 of 10 SKUs: over max_changed_share
    held = world.run("reconcile", "--json")
    assert held.code == 3, held.stderr[-2000:]
    assert held.json()["held"] == 6
    assert world.level("east", "RED") == 10
    assert world.inbox_files() == ["changes-1.csv"]  # recorded, not counted: it stays
    assert world.counted("east") == set()

    forced = world.run("reconcile", "--json", "--force")
    assert forced.code == 0, forced.stderr[-2000:]
    assert forced.json()["applied"] == 6
    assert world.level("east", "RED") == 11
    assert (world.inbox_files(), world.archived()) == ([], ["changes-1.csv"])

    # A sale moves RED; the same bytes put back in the inbox must not undo it.
    world.sell("east", "RED", 9)
    world.put_back("changes-1.csv", "again.csv")
    again = world.run("reconcile", "--json")
    assert again.code == 0, again.stderr[-2000:]
    assert again.json()["planned"] == 0
    assert world.level("east", "RED") == 9
    skipped = {e["warehouse"] for e in events(again, "source.already_counted")}
    assert skipped == {"east", "west"}
    assert world.inbox_files() == []  # counted everywhere already: archived again
    assert len(world.archived()) == 2


class TestAChangeFileIsCountedOnce:
    def test_a_file_held_by_a_guard_stays_and_the_next_run_applies_it_once(self, changes):
        held_by_a_guard_then_applied_once(changes)

    def test_a_dry_run_counts_nothing(self, changes):
        changes.drop_changes("changes-1.csv", {("east", "RED"): 15})
        dry = changes.run("reconcile", "--dry-run", "--json")
        assert dry.code == 0, dry.stderr[-2000:]
        assert dry.json()["planned"] == 1
        assert changes.level("east", "RED") == 10
        assert changes.inbox_files() == ["changes-1.csv"]

        real = changes.run("reconcile", "--json")
        assert real.code == 0, real.stderr[-2000:]
        assert real.json()["applied"] == 1
        assert changes.level("east", "RED") == 15
        assert changes.archived() == ["changes-1.csv"]

    def test_a_narrowed_run_counts_nothing(self, changes):
        changes.drop_changes("changes-1.csv", {("east", "RED"): 15, ("east", "BLUE"): 16})
        narrowed = changes.run("reconcile", "--sku", "RED", "--json")
        assert narrowed.code == 0, narrowed.stderr[-2000:]
        assert changes.level("east", "RED") == 15
        assert changes.inbox_files() == ["changes-1.csv"]  # BLUE's change is still to come

        whole = changes.run("reconcile", "--json")
        assert whole.code == 0, whole.stderr[-2000:]
        assert (changes.level("east", "RED"), changes.level("east", "BLUE")) == (15, 16)
        assert changes.archived() == ["changes-1.csv"]


class TestAReviewedPlanOfAChangeFile:
    def test_applying_it_counts_the_file_so_the_next_run_does_not_apply_it_again(
        self, changes, tmp_path
    ):
        changes.drop_changes("changes-1.csv", {("east", "RED"): 13, ("west", "BLUE"): 10})
        plan = tmp_path / "plan.json"
        review = changes.run("reconcile", "--plan-out", str(plan))
        assert review.code == 0, review.stderr[-2000:]
        written = json.loads(plan.read_text(encoding="utf-8"))
        # west's level already matches: no row, but its plan too was made from the file
        assert {(c["source"], c["warehouse"]) for c in written["change_files"]} == {
            ("changes", "east"),
            ("changes", "west"),
        }
        assert changes.counted("east") == set()  # a review counts nothing
        assert changes.inbox_files() == ["changes-1.csv"]

        applied = changes.run("reconcile", "--apply", str(plan), "--json")
        assert applied.code == 0, applied.stderr[-2000:]
        assert changes.level("east", "RED") == 13
        (snapshot_id,) = {c["snapshot_id"] for c in written["change_files"]}
        assert changes.counted("east") == changes.counted("west") == {snapshot_id}

        changes.sell("east", "RED", 12)  # a sale after the apply must stay
        changes.sell("west", "BLUE", 8)
        after = changes.run("reconcile", "--json")
        assert after.code == 0, after.stderr[-2000:]
        assert after.json()["planned"] == 0
        assert (changes.level("east", "RED"), changes.level("west", "BLUE")) == (12, 8)
        assert (changes.inbox_files(), changes.archived()) == ([], ["changes-1.csv"])

    def test_a_plan_file_written_before_change_files_were_kept_still_applies(
        self, changes, tmp_path
    ):
        changes.drop_changes("changes-1.csv", {("east", "RED"): 13})
        plan = tmp_path / "plan.json"
        assert changes.run("reconcile", "--plan-out", str(plan)).code == 0
        document = json.loads(plan.read_text(encoding="utf-8"))
        del document["change_files"]
        plan.write_text(json.dumps(document), encoding="utf-8")
        applied = changes.run("reconcile", "--apply", str(plan))
        assert applied.code == 0, applied.stderr[-2000:]
        assert changes.level("east", "RED") == 13
        assert changes.counted("east") == set()  # nothing to count it by: as before

    def test_a_malformed_change_files_entry_is_a_usage_error_naming_it(self, changes, tmp_path):
        changes.drop_changes("changes-1.csv", {("east", "RED"): 13})
        plan = tmp_path / "plan.json"
        assert changes.run("reconcile", "--plan-out", str(plan)).code == 0
        document = json.loads(plan.read_text(encoding="utf-8"))
        document["change_files"] = [{"source": "changes"}]
        plan.write_text(json.dumps(document), encoding="utf-8")
        refused = changes.run("reconcile", "--apply", str(plan))
        assert refused.code == 2
        assert "change_files[0] needs text fields source, snapshot_id, warehouse" in " ".join(
            refused.stderr.split()
        )
        assert changes.level("east", "RED") == 10


class TestTwoWarehousesOfOneChangeSource:
    def test_the_file_stays_until_both_counted_and_neither_gets_it_twice(self, changes):
        changes.drop_changes("changes-1.csv", {("east", "RED"): 15, ("west", "RED"): 16})
        changes.hold_lock("east", ELSEWHERE)
        busy = changes.run("reconcile", "--json")
        assert busy.code == 5, busy.stderr[-2000:]
        assert (changes.level("east", "RED"), changes.level("west", "RED")) == (10, 16)
        assert changes.inbox_files() == ["changes-1.csv"]  # east has not counted it
        assert changes.counted("east") == set()
        assert len(changes.counted("west")) == 1

        changes.sell("west", "RED", 14)
        changes.release_lock("east", ELSEWHERE)
        done = changes.run("reconcile", "--json")
        assert done.code == 0, done.stderr[-2000:]
        assert (changes.level("east", "RED"), changes.level("west", "RED")) == (15, 14)
        assert [e["warehouse"] for e in events(done, "source.already_counted")] == ["west"]
        assert (changes.inbox_files(), changes.archived()) == ([], ["changes-1.csv"])

    def test_a_run_of_one_warehouse_leaves_the_file_for_the_other(self, changes):
        changes.drop_changes("changes-1.csv", {("east", "RED"): 15, ("west", "RED"): 16})
        east = changes.run("reconcile", "--warehouse", "east", "--json")
        assert east.code == 0, east.stderr[-2000:]
        assert (changes.level("east", "RED"), changes.level("west", "RED")) == (15, 10)
        assert changes.inbox_files() == ["changes-1.csv"]

        changes.sell("east", "RED", 12)
        both = changes.run("reconcile", "--json")
        assert both.code == 0, both.stderr[-2000:]
        assert (changes.level("east", "RED"), changes.level("west", "RED")) == (12, 16)
        assert changes.archived() == ["changes-1.csv"]


class TestAnArchiveThatFails:
    def test_holds_the_source_and_the_counted_changes_are_not_applied_again(self, tmp_path):
        blocked = tmp_path / "not-a-folder"
        blocked.write_text("a file where the archive folder should be\n", encoding="utf-8")
        world = make_change_world(
            tmp_path, f"sqlite:///{tmp_path / 'state' / 'ledger.db'}", archive_dir=blocked
        )
        try:
            world.drop_changes("changes-1.csv", {("east", "RED"): 15}, minutes_ago=2)
            world.drop_changes("changes-2.csv", {("east", "BLUE"): 16}, minutes_ago=1)
            first = world.run("reconcile", "--json")
            assert first.code == 3, first.stderr[-2000:]  # applied, but the next file waits
            assert world.level("east", "RED") == 15
            (failed,) = events(first, "source.archive_failed")
            assert failed["source"] == "changes"
            assert str(blocked) in failed["error"]
            assert_archive_hold(first.json())
            assert first.json()["files_waiting"] == {"changes": 1}
            assert world.inbox_files() == ["changes-1.csv", "changes-2.csv"]

            world.sell("east", "RED", 13)
            second = world.run("reconcile", "--json")
            assert second.code == 3, second.stderr[-2000:]
            assert second.json()["planned"] == 0  # RED's change is not applied twice...
            assert world.level("east", "RED") == 13
            assert world.level("east", "BLUE") == 10  # ...and the newer file is not read
            assert len(events(second, "source.archive_failed")) == 1
            assert_archive_hold(second.json())

            blocked.unlink()  # the archive folder can be made now
            archived = world.run("reconcile", "--json")
            assert archived.code == 0, archived.stderr[-2000:]
            assert [p.name for p in blocked.iterdir()] == ["changes-1.csv"]
            assert world.inbox_files() == ["changes-2.csv"]
            assert world.level("east", "RED") == 13

            nxt = world.run("reconcile", "--json")
            assert nxt.code == 0, nxt.stderr[-2000:]
            assert (world.level("east", "RED"), world.level("east", "BLUE")) == (13, 16)
            assert world.inbox_files() == []
        finally:
            world.emulator.stop()

    def test_the_hold_shows_in_status(self, tmp_path):
        blocked = tmp_path / "not-a-folder"
        blocked.write_text("a file where the archive folder should be\n", encoding="utf-8")
        world = make_change_world(
            tmp_path, f"sqlite:///{tmp_path / 'state' / 'ledger.db'}", archive_dir=blocked
        )
        try:
            world.drop_changes("changes-1.csv", {("east", "RED"): 15})
            assert world.run("reconcile").code == 3
            status = world.run("status", "--json")
            assert status.code == 1, status.stderr[-2000:]
            assert "held" in status.stdout
        finally:
            world.emulator.stop()


def assert_archive_hold(report: dict) -> None:
    (hold,) = report["holds"]
    assert hold["subject"] == "source:changes"
    assert "could not archive" in hold["reason"]
    assert "newer change files wait" in hold["reason"]


class TestABacklogOfChangeFiles:
    def test_three_files_are_applied_in_order_one_per_run_each_once(self, changes):
        changes.drop_changes("c.csv", {("east", "RED"): 15, ("east", "BLUE"): 16}, minutes_ago=3)
        changes.drop_changes("b.csv", {("west", "RED"): 17, ("east", "GREEN"): 18}, minutes_ago=2)
        changes.drop_changes("a.csv", {("east", "RED"): 19, ("west", "GREY"): 20}, minutes_ago=1)

        first = changes.run("reconcile")  # on a terminal: the backlog is said in words
        assert first.code == 0, first.stderr[-2000:]
        assert "2 more file(s) wait" in " ".join(first.stdout.split())
        assert (changes.level("east", "RED"), changes.level("east", "BLUE")) == (15, 16)
        assert changes.level("east", "GREEN") == 10  # the newer files are not read yet
        assert (changes.inbox_files(), changes.archived()) == (["a.csv", "b.csv"], ["c.csv"])
        assert [e["files_waiting"] for e in events(first, "source.pulled")] == [2]

        changes.sell("east", "BLUE", 14)  # must stay: c.csv is not applied again
        second = changes.run("reconcile", "--json")
        assert second.code == 0, second.stderr[-2000:]
        assert (second.json()["applied"], second.json()["files_waiting"]) == (2, {"changes": 1})
        assert [e["files_waiting"] for e in events(second, "source.pulled")] == [1]
        assert (changes.level("west", "RED"), changes.level("east", "GREEN")) == (17, 18)
        assert (changes.level("east", "RED"), changes.level("east", "BLUE")) == (15, 14)

        third = changes.run("reconcile", "--json")
        assert third.code == 0, third.stderr[-2000:]
        assert (third.json()["applied"], third.json()["files_waiting"]) == (2, {})
        assert [e["files_waiting"] for e in events(third, "source.pulled")] == [0]
        assert (changes.level("east", "RED"), changes.level("west", "GREY")) == (19, 20)
        assert (changes.inbox_files(), changes.archived()) == ([], ["a.csv", "b.csv", "c.csv"])
        assert (changes.level("west", "RED"), changes.level("east", "BLUE")) == (17, 14)

    def test_after_downtime_an_old_file_with_newer_ones_behind_it_is_not_held_by_max_age(
        self, changes
    ):
        with changes.config.open("a", encoding="utf-8") as config:
            config.write('[sources.gates]\nmax_age = "6h"\n')
        changes.drop_changes("old.csv", {("east", "RED"): 15}, minutes_ago=3 * 24 * 60)
        changes.drop_changes("new.csv", {("east", "BLUE"): 16}, minutes_ago=1)

        first = changes.run("reconcile", "--json")
        assert first.code == 0, first.stderr[-2000:]
        assert changes.level("east", "RED") == 15  # three days old, but the feed is fresh
        assert changes.archived() == ["old.csv"]
        second = changes.run("reconcile", "--json")
        assert second.code == 0, second.stderr[-2000:]
        assert changes.level("east", "BLUE") == 16

    def test_a_backlog_whose_newest_file_is_old_too_is_held_by_max_age(self, changes):
        with changes.config.open("a", encoding="utf-8") as config:
            config.write('[sources.gates]\nmax_age = "6h"\n')
        changes.drop_changes("old.csv", {("east", "RED"): 15}, minutes_ago=3 * 24 * 60)
        changes.drop_changes("new.csv", {("east", "BLUE"): 16}, minutes_ago=2 * 24 * 60)

        held = changes.run("reconcile", "--json")
        assert held.code == 3, held.stderr[-2000:]
        (hold,) = held.json()["holds"]
        assert hold["reason"].startswith("the newest change file waiting is 2d")
        assert changes.level("east", "RED") == 10


@pytest.fixture
def sftp_changes(tmp_path):
    """One warehouse fed by a change feed on a real SFTP server: /in/*.csv, archived to /done."""
    with SftpServer(tmp_path / "sftp-root") as server:
        (tmp_path / "sftp-root" / "in").mkdir(parents=True)
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(server.known_hosts_line())
        world = make_world(tmp_path, f"sqlite:///{tmp_path / 'state' / 'ledger.db'}")
        tail = (
            'archive_dir = "/done"\n[sources.options.sftp]\n'
            f'password_secret = "sftp_password"\nknown_hosts = "{known_hosts}"\n'
        )
        text = config_toml(
            tmp_path / "state",
            world.emulator.base_url,
            server.url("in/*.csv"),  # type: ignore[arg-type]
            source='snapshot = "partial"',
            tail=tail,
        )
        world.config.write_text(text, encoding="utf-8")
        try:
            yield world, server
        finally:
            world.emulator.stop()


def drop_on(server, name: str, text: str, *, minutes_ago: int) -> None:
    path = server.root / "in" / name
    path.write_text(text, encoding="utf-8")
    at = time.time() - 60 * minutes_ago
    os.utime(path, (at, at))


class TestOverSftp:
    def test_a_backlog_drains_oldest_first_and_a_refused_archive_holds_it(self, sftp_changes):
        world, server = sftp_changes
        env = {"INVENTORY_SYNC_CREDENTIAL_SFTP_PASSWORD": server.password}
        drop_on(server, "b.csv", "sku,quantity\nRED,15\n", minutes_ago=2)
        drop_on(server, "a.csv", "sku,quantity\nRED,17\nBLUE,16\n", minutes_ago=1)
        server.refuse_renames = True

        first = world.run("reconcile", "--json", env=env)
        assert first.code == 3, first.stderr[-2000:]
        assert (world.on_hand()["RED"], world.on_hand()["BLUE"]) == (15, 10)  # b.csv only
        (hold,) = first.json()["holds"]
        assert hold["subject"] == "source:feed"
        assert "newer change files wait" in hold["reason"]
        assert first.json()["files_waiting"] == {"feed": 1}

        second = world.run("reconcile", "--json", env=env)
        assert second.code == 3, second.stderr[-2000:]
        assert second.json()["planned"] == 0
        assert world.on_hand()["BLUE"] == 10

        server.refuse_renames = False
        assert world.run("reconcile", "--json", env=env).code == 0  # archives b.csv
        assert sorted(p.name for p in (server.root / "done").iterdir()) == ["b.csv"]
        last = world.run("reconcile", "--json", env=env)
        assert last.code == 0, last.stderr[-2000:]
        assert (world.on_hand()["RED"], world.on_hand()["BLUE"]) == (17, 16)
        assert list((server.root / "in").iterdir()) == []
        assert sorted(p.name for p in (server.root / "done").iterdir()) == ["a.csv", "b.csv"]


@pytest.mark.postgres
class TestOnPostgresql:
    def test_a_file_held_by_a_guard_is_applied_once_with_the_ledger_on_postgresql(
        self, tmp_path, scratch_postgres_url
    ):
        world = make_change_world(tmp_path, scratch_postgres_url)
        try:
            held_by_a_guard_then_applied_once(world)
        finally:
            world.emulator.stop()
