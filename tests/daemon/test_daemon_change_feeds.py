"""`inventory-sync run` with a change feed: changes a reconcile did not count wait for the next.

Budget: about 15 s (one daemon, a few reconcile cycles).
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from config_template import config_toml
from daemon_support import LOOSE_GUARDS, SKUS, START_BOUND, wait_for

from inventory_sync.ledger.repository import open_ledger

CYCLE = 1 + 2  # seconds: the source's interval plus [daemon] reconcile_interval
ELSEWHERE = f"{socket.gethostname()}:{os.getpid()}:run-elsewhere"  # alive: this test


def change_feed_config(world) -> None:
    inbox, done = world.tmp / "inbox", world.tmp / "done"
    inbox.mkdir()
    daemon = '[daemon]\nreconcile_interval = "2s"\ndebounce_seconds = 0.2\nstop_timeout = "10s"\n'
    text = config_toml(
        world.tmp / "state",
        world.emulator.base_url,
        inbox / "*.csv",
        shipstation="requests_per_minute = 100000",
        reconcile=LOOSE_GUARDS,
        source='interval = "1s"\nsnapshot = "partial"',
        tail=f'archive_dir = "{done}"\n{daemon}',
    )
    world.config.write_text(text, encoding="utf-8")


class TestChangesNotCounted:
    def test_a_change_taken_while_the_warehouse_was_busy_is_applied_once_it_is_free(self, world):
        change_feed_config(world)
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
