"""A held run says which warehouses it held and why; `status` blames only those.

Two warehouses, each fed by its own complete csv source, against the emulator over loopback
HTTP and a SQLite ledger file. Budget: about 15 s (two scenarios of a few short commands).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from change_feed_support import LOCATIONS, SEED, SKUS
from e2e_support import API_KEY, World

from inventory_sync.shipstation.emulator.running import start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings
from inventory_sync.shipstation.emulator.state import EmulatorState, LevelFilter

FULL = "sku,quantity\n" + "".join(f"{sku},10\n" for sku in SKUS)
SHRUNK = "sku,quantity\nRED,3\n"  # 1 of the 10 rows the last good feed had


class TwoFeeds(World):
    def write(self, warehouse: str, text: str) -> None:
        (self.tmp / f"{warehouse}.csv").write_text(text, encoding="utf-8")

    def level(self, warehouse: str, sku: str) -> int:
        rows = self.emulator.state.levels(LevelFilter(inventory_location_id=LOCATIONS[warehouse]))
        return {row.sku: row.on_hand for row in rows}[sku]


def _config(tmp: Path, base_url: str) -> str:
    parts = [f'state_dir = "{tmp / "state"}"\n\n[shipstation]\nbase_url = "{base_url}"\n']
    for i, (name, location) in enumerate(LOCATIONS.items(), start=1):
        parts.append(
            f'\n[[warehouses]]\nname = "{name}"\ninventory_warehouse_id = "se-{i}"\n'
            f'inventory_location_id = "{location}"\n'
        )
    parts.extend(
        f'\n[[sources]]\nname = "{name}-feed"\ntype = "csv"\nwarehouses = ["{name}"]\n'
        f'[sources.options]\npath = "{tmp / name}.csv"\nstable_seconds = 0\n'
        for name in LOCATIONS
    )
    return "".join(parts)


@pytest.fixture
def feeds(tmp_path: Path):
    settings = EmulatorSettings(api_keys=(API_KEY,), rate_limit_per_minute=0)
    running = start_emulator(settings, EmulatorState.from_seed(SEED))
    config = tmp_path / "inventory-sync.toml"
    config.write_text(_config(tmp_path, running.base_url), encoding="utf-8")
    ledger = f"sqlite:///{tmp_path / 'state' / 'ledger.db'}"
    world = TwoFeeds(tmp_path, running, config, tmp_path / "east.csv", ledger)
    for name in LOCATIONS:
        world.write(name, FULL)
    try:
        yield world
    finally:
        running.stop()


def _problems(world: TwoFeeds) -> list[str]:
    status = world.run("status", "--json")
    return [" ".join(p.split()) for p in status.json()["problems"]]


class TestAHeldSourceHoldsOnlyItsWarehouse:
    def test_status_names_the_held_warehouse_and_why_and_not_the_other(self, feeds):
        assert feeds.run("reconcile").code == 0  # the last good feeds: 10 rows each
        feeds.write("east", SHRUNK)
        feeds.write("west", FULL.replace("BLUE,10", "BLUE,4"))

        result = feeds.run("reconcile", "--json")
        assert result.code == 3, result.stderr
        run = result.json()
        assert run["status"] == "held"
        assert feeds.level("west", "BLUE") == 4  # west was reconciled in full
        assert feeds.level("east", "RED") == 10  # nothing of the held feed was used

        problems = _problems(feeds)
        east = [p for p in problems if p.startswith("warehouse east:")]
        assert len(east) == 1, problems
        assert f"last run {run['run_id']} held: source:east-feed:" in east[0]
        assert "only 1 rows" in east[0] or "only 1 row" in east[0]
        assert not [p for p in problems if p.startswith("warehouse west:")], problems

        runs = feeds.run("history", "--json").json()["runs"]
        (recorded,) = [r for r in runs if r["run_id"] == run["run_id"]]
        assert recorded["held_warehouses"] == "east"
        assert recorded["held:east"].startswith("source:east-feed:")

        shown = " ".join(feeds.run("history").stdout.split())
        assert f"{run['run_id']} held east: source:east-feed:" in shown
        assert "held west" not in shown

        feeds.write("east", FULL)
        assert feeds.run("reconcile").code == 0
        assert feeds.run("status").code == 0  # the next good feed clears it

    def test_a_guard_holds_every_warehouse_of_the_run_and_says_which_one_tripped(self, feeds):
        assert feeds.run("reconcile").code == 0
        feeds.write("east", FULL.replace(",10", ",0").replace("RED,0", "RED,10"))  # 9 of 10 zeroed
        feeds.write("west", FULL.replace("BLUE,10", "BLUE,4"))

        result = feeds.run("reconcile", "--json")
        assert result.code == 3, result.stderr
        assert feeds.level("west", "BLUE") == 10  # the guard stopped the whole plan

        problems = _problems(feeds)
        east = [p for p in problems if p.startswith("warehouse east:")]
        west = [p for p in problems if p.startswith("warehouse west:")]
        assert len(east) == 1, problems
        assert "warehouse:east:" in east[0]
        assert len(west) == 1, problems
        assert "held with the run by a guard on warehouse:east" in west[0]
