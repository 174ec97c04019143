"""`inventory-sync run` with a change feed: changes a reconcile did not count wait for the next.

Budget: about 15 s (one daemon, a few reconcile cycles).
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime, timedelta

from daemon_support import ARCHIVING_CYCLE, SKUS, START_BOUND, archiving_config, wait_for

from inventory_sync.domain.inventory import InventoryUpdate
from inventory_sync.ledger.repository import open_ledger

CYCLE = ARCHIVING_CYCLE
ELSEWHERE = f"{socket.gethostname()}:{os.getpid()}:run-elsewhere"  # alive: this test


class TestChangesNotCounted:
    def test_a_change_taken_while_the_warehouse_was_busy_is_applied_once_it_is_free(self, world):
        archiving_config(world, source='snapshot = "partial"')
        inbox, done = world.tmp / "inbox", world.tmp / "done"
        (world.tmp / "state").mkdir(exist_ok=True)
        ledger = open_ledger(world.ledger_url)  # migrated: the daemon finds it ready
        try:
            now = datetime.now(UTC)
            assert ledger.acquire_lock("push:main", ELSEWHERE, timedelta(minutes=5), now)
            (inbox / "changes-1.csv").write_text("sku,quantity\nRED,15\n", encoding="utf-8")
            daemon = world.start()
            try:
                (kept,) = daemon.wait_event("daemon.changes_kept", START_BOUND)[:1]
                assert kept["warehouse"] == "main"
                assert world.on_hand()["RED"] == 10
                assert [p.name for p in inbox.iterdir()] == ["changes-1.csv"]

                assert ledger.release_lock("push:main", ELSEWHERE)
                wait_for(lambda: world.on_hand()["RED"] == 15, 4 * CYCLE, "RED to reach 15")
                wait_for(lambda: not any(inbox.iterdir()), 2 * CYCLE, "the file archived")
                assert [p.name for p in done.iterdir()] == ["changes-1.csv"]
            finally:
                assert daemon.stop() == 0
        finally:
            ledger.close()
        assert [s for s in SKUS if world.on_hand()[s] != 10] == ["RED"]


def drop(inbox, name: str, text: str, *, minutes_ago: int) -> None:
    """A change file whose mtime says when it came: the order the daemon reads them in."""
    path = inbox / name
    path.write_text(text, encoding="utf-8")
    at = time.time() - 60 * minutes_ago
    os.utime(path, (at, at))


class TestABacklogOfChangeFiles:
    def test_is_applied_in_order_one_file_per_reconcile_each_once(self, world):
        archiving_config(world, source='snapshot = "partial"')
        inbox, done = world.tmp / "inbox", world.tmp / "done"
        drop(inbox, "c.csv", "sku,quantity\nRED,15\nBLUE,16\n", minutes_ago=3)
        drop(inbox, "b.csv", "sku,quantity\nGREEN,17\n", minutes_ago=2)
        drop(inbox, "a.csv", "sku,quantity\nRED,19\n", minutes_ago=1)
        daemon = world.start()
        try:
            wait_for(lambda: not any(inbox.iterdir()), START_BOUND + 6 * CYCLE, "the inbox empty")
            assert sorted(p.name for p in done.iterdir()) == ["a.csv", "b.csv", "c.csv"]
            pulled = daemon.named("source.pulled")
            assert [e["files_waiting"] for e in pulled] == [2, 1, 0]
        finally:
            assert daemon.stop() == 0
        levels = world.on_hand()
        assert (levels["RED"], levels["BLUE"], levels["GREEN"]) == (19, 16, 17)
        assert [s for s in SKUS if levels[s] != 10] == ["RED", "BLUE", "GREEN"]
        with open_ledger(world.ledger_url) as ledger:
            counted = ledger.counted_snapshot_ids("feed", "main")
        assert len(counted) == 3

    def test_a_counted_file_that_cannot_be_archived_holds_the_source_and_the_next_waits(
        self, world
    ):
        archiving_config(world, source='snapshot = "partial"')
        inbox, done = world.tmp / "inbox", world.tmp / "done"
        done.write_text("a file where the archive folder should be\n", encoding="utf-8")
        drop(inbox, "b.csv", "sku,quantity\nRED,15\n", minutes_ago=2)
        drop(inbox, "a.csv", "sku,quantity\nBLUE,16\n", minutes_ago=1)
        daemon = world.start()
        try:
            wait_for(lambda: world.on_hand()["RED"] == 15, START_BOUND + 2 * CYCLE, "RED at 15")
            daemon.wait_event("source.archive_failed", 2 * CYCLE, count=2)  # and tried again
            held = daemon.wait_event("source.held", 2 * CYCLE)
            assert "newer change files wait" in held[0]["reason"]
            assert world.on_hand()["BLUE"] == 10  # a.csv is not read behind the stuck file
            sale = InventoryUpdate("adjust", "RED", 12, "se-11")
            world.emulator.state.apply_update(sale)  # b.csv read again must not undo it

            done.unlink()  # the archive folder can be made now
            wait_for(lambda: world.on_hand()["BLUE"] == 16, 4 * CYCLE, "BLUE to reach 16")
            wait_for(lambda: not any(inbox.iterdir()), 2 * CYCLE, "the inbox empty")
            assert world.on_hand()["RED"] == 12
        finally:
            assert daemon.stop() == 0
