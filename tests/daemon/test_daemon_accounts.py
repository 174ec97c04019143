"""`inventory-sync run` with two accounts, one refused (402): the other's work goes on.

Budget: about 15 s (one daemon start, one push, one stop).
"""

from __future__ import annotations

import json

from daemon_support import API_KEY, LOOSE_GUARDS, SKUS, START_BOUND, feed_text, seed, wait_for

from inventory_sync.shipstation.emulator.running import start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings
from inventory_sync.shipstation.emulator.state import EmulatorState

BARE_KEY = "bare-account-key-61d0a9"
SINGLE_KEY = "INVENTORY_SYNC_SHIPSTATION__API_KEY"


def two_accounts(world, bare_url: str) -> None:
    bare_feed = world.tmp / "bare.csv"
    bare_feed.write_text(feed_text(dict.fromkeys(SKUS, 3)), encoding="utf-8")
    world.config.write_text(
        f"""
state_dir = "{world.tmp / "state"}"

[shipstation]
requests_per_minute = 100000

[[accounts]]
name = "good"
base_url = "{world.emulator.base_url}"
[[accounts.warehouses]]
name = "main"
inventory_warehouse_id = "se-1"
inventory_location_id = "se-11"

[[accounts]]
name = "bare"
base_url = "{bare_url}"
[[accounts.warehouses]]
name = "bare-main"
inventory_warehouse_id = "se-1"
inventory_location_id = "se-11"

[[sources]]
name = "feed"
type = "csv"
warehouses = ["main"]
interval = "1s"
[sources.options]
path = "{world.feed}"
stable_seconds = 0

[[sources]]
name = "bare-feed"
type = "csv"
warehouses = ["bare-main"]
interval = "1s"
[sources.options]
path = "{bare_feed}"
stable_seconds = 0

[reconcile]
{LOOSE_GUARDS}

[daemon]
reconcile_interval = "2s"
debounce_seconds = 0.2
stop_timeout = "10s"
""",
        encoding="utf-8",
    )


def runs_of_both(finished: list[dict]) -> list[dict]:
    return finished if {e.get("account") for e in finished} >= {"good", "bare"} else []


class TestTwoAccounts:
    def test_a_refused_account_does_not_stop_the_service_or_the_other_account(self, world):
        bare = start_emulator(
            EmulatorSettings(plan_refused_keys=(BARE_KEY,), api_keys=()),
            EmulatorState.from_seed(seed(SKUS)),
        )
        try:
            two_accounts(world, bare.base_url)
            daemon = world.start(
                {
                    SINGLE_KEY: None,  # each account has its own
                    "INVENTORY_SYNC_ACCOUNTS__GOOD__API_KEY": API_KEY,
                    "INVENTORY_SYNC_ACCOUNTS__BARE__API_KEY": BARE_KEY,
                }
            )
            try:
                world.write_feed(dict.fromkeys(SKUS, 10) | {"RED": 12})
                wait_for(lambda: world.on_hand()["RED"] == 12, START_BOUND, "the good push")
                # The start-up check says it once; each of its runs is then recorded failed.
                failed = daemon.wait_event("account.failed", timeout=START_BOUND)
                finished = wait_for(
                    lambda: runs_of_both(daemon.named("run.finished")),
                    START_BOUND,
                    "a run of each account",
                )
            finally:
                assert daemon.stop() == 0
            assert {e["account"] for e in failed} == {"bare"}
            assert {e["error_type"] for e in failed} == {"PlanError"}
            assert {(e["account"], e["status"]) for e in finished} == {
                ("good", "succeeded"),
                ("bare", "failed"),
            }
            assert all(r.status == 402 for r in bare.requests)
            status = world.run("status", "--json", "--account", "good", env={SINGLE_KEY: None})
            health = json.loads(status.stdout)
            assert [w["warehouse"] for w in health["warehouses"]] == ["main"]
        finally:
            bare.stop()
