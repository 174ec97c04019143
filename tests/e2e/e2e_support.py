"""End-to-end fixtures: the emulator on loopback, a feed on disk, the command as users run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from config_template import config_toml

from inventory_sync.shipstation.emulator.running import RunningEmulator, start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings
from inventory_sync.shipstation.emulator.state import EmulatorState, LevelFilter

API_KEY = "e2e-secret-key-5f9c2a7d41"
SEED = {
    "products": ["RED", "BLUE", "GREEN", "BLACK", "WHITE", "PINK", "GREY", "GOLD", "TEAL", "NAVY"],
    "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
    "locations": [
        {
            "inventory_location_id": "se-11",
            "name": "A - 1 - 1 - 1",
            "inventory_warehouse_id": "se-1",
        }
    ],
    "levels": [
        {"sku": sku, "inventory_location_id": "se-11", "on_hand": 10, "allocated": 1}
        for sku in [
            "RED",
            "BLUE",
            "GREEN",
            "BLACK",
            "WHITE",
            "PINK",
            "GREY",
            "GOLD",
            "TEAL",
            "NAVY",
        ]
    ],
}
FEED = (
    "sku,quantity\nRED,12\nBLUE,10\nGREEN,7\nBLACK,10\nWHITE,10\n"
    "PINK,10\nGREY,10\nGOLD,10\nTEAL,10\nNAVY,10\n"
)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)

    def log_events(self) -> list[dict]:
        return [json.loads(line) for line in self.stderr.splitlines() if line.strip()]


@dataclass
class World:
    """A configuration on disk pointing at a running emulator, and a way to run the command."""

    tmp: Path
    emulator: RunningEmulator
    config: Path
    feed: Path
    ledger_url: str

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        full_env = {
            **os.environ,
            "INVENTORY_SYNC_SHIPSTATION__API_KEY": API_KEY,
            "INVENTORY_SYNC_LEDGER__URL": self.ledger_url,
            **(env or {}),
        }
        done = subprocess.run(
            [sys.executable, "-m", "inventory_sync", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=120,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)

    def on_hand(self) -> dict[str, int]:
        rows = self.emulator.state.levels(LevelFilter(inventory_location_id="se-11"))
        return {row.sku: row.on_hand for row in rows}

    def write_feed(self, text: str) -> None:
        self.feed.write_text(text, encoding="utf-8")


def write_config(tmp: Path, base_url: str, feed: Path, extra: str = "") -> Path:
    config = tmp / "inventory-sync.toml"
    config.write_text(config_toml(tmp / "state", base_url, feed, tail=extra), encoding="utf-8")
    return config


def make_world(tmp: Path, ledger_url: str, **emulator: object) -> World:
    settings = EmulatorSettings(api_keys=(API_KEY,), rate_limit_per_minute=0, **emulator)  # type: ignore[arg-type]
    running = start_emulator(settings, EmulatorState.from_seed(SEED))
    feed = tmp / "feed.csv"
    feed.write_text(FEED, encoding="utf-8")
    return World(tmp, running, write_config(tmp, running.base_url, feed), feed, ledger_url)


@pytest.fixture
def world(tmp_path: Path):
    running = make_world(tmp_path, f"sqlite:///{tmp_path / 'state' / 'ledger.db'}")
    try:
        yield running
    finally:
        running.emulator.stop()
