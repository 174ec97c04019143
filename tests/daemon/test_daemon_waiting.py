"""`inventory-sync run` with an archiving complete feed: between two uploads the inbox is empty,
the service says so once (source.no_new_file, never source.unavailable) and keeps reconciling
from the snapshot it pulled.

Budget: about 15 s (one daemon, a few reconcile cycles).
"""

from __future__ import annotations

from daemon_support import (
    ARCHIVING_CYCLE,
    SKUS,
    START_BOUND,
    archiving_config,
    feed_text,
    wait_for,
)

from inventory_sync.shipstation.models import InventoryUpdate

CYCLE = ARCHIVING_CYCLE


class TestBetweenUploads:
    def test_the_empty_inbox_is_waiting_not_down_and_the_last_snapshot_still_serves(self, world):
        archiving_config(world)
        inbox = world.tmp / "inbox"
        levels = {**dict.fromkeys(SKUS, 10), "RED": 15}
        (inbox / "stock-1.csv").write_text(feed_text(levels), encoding="utf-8")
        daemon = world.start()
        try:
            waiting = daemon.wait_event("source.no_new_file", START_BOUND)[0]
            assert (waiting["source"], waiting["archive_dir"]) == ("feed", str(world.tmp / "done"))
            wait_for(lambda: world.on_hand()["RED"] == 15, 2 * CYCLE, "RED to reach 15")

            # A sale: the next reconcile, from the snapshot in memory, sets RED back to 15.
            world.emulator.state.apply_update(InventoryUpdate("decrement", "RED", 4, "se-11"))
            wait_for(lambda: world.on_hand()["RED"] == 15, 3 * CYCLE, "RED back at 15")

            levels["BLUE"] = 7
            (inbox / "stock-2.csv").write_text(feed_text(levels), encoding="utf-8")
            wait_for(lambda: world.on_hand()["BLUE"] == 7, 3 * CYCLE, "BLUE to reach 7")
            daemon.wait_event("source.no_new_file", 2 * CYCLE, count=2)  # archived in turn
        finally:
            assert daemon.stop() == 0
        names = [e["event"] for e in daemon.events()]
        assert "source.unavailable" not in names
        assert "source.recovered" not in names
