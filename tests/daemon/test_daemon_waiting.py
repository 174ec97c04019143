"""`inventory-sync run` with an archiving complete feed: between two uploads the inbox is empty,
the service says so once (source.no_new_file, never source.unavailable) and keeps reconciling
from the snapshot it pulled.

Budget: about 15 s (one daemon, a few reconcile cycles).
"""

from __future__ import annotations

from config_template import config_toml
from daemon_support import LOOSE_GUARDS, SKUS, START_BOUND, feed_text, wait_for

from inventory_sync.shipstation.models import InventoryUpdate

CYCLE = 1 + 2  # seconds: the source's interval plus [daemon] reconcile_interval


def archiving_config(world) -> None:
    inbox, done = world.tmp / "inbox", world.tmp / "done"
    inbox.mkdir()
    daemon = '[daemon]\nreconcile_interval = "2s"\ndebounce_seconds = 0.2\nstop_timeout = "10s"\n'
    text = config_toml(
        world.tmp / "state",
        world.emulator.base_url,
        inbox / "*.csv",
        shipstation="requests_per_minute = 100000",
        reconcile=LOOSE_GUARDS,
        source='interval = "1s"',
        tail=f'archive_dir = "{done}"\n{daemon}',
    )
    world.config.write_text(text, encoding="utf-8")


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
