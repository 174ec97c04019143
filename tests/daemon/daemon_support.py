"""The daemon as users run it: a subprocess against the emulator, its log a file of JSON lines."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from config_template import config_toml

from inventory_sync.ledger.repository import SqlLedger, open_ledger
from inventory_sync.shipstation.emulator.running import RunningEmulator, start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings, FaultSettings
from inventory_sync.shipstation.emulator.state import EmulatorState, LevelFilter

API_KEY = "daemon-test-key-3b9d51e0a7"
SKUS = ["RED", "BLUE", "GREEN", "BLACK", "WHITE", "PINK", "GREY", "GOLD", "TEAL", "NAVY"]
STOP_TIMEOUT = 10.0  # seconds; [daemon] stop_timeout in every test configuration
START_BOUND = 30.0  # generous: imports, migrations and the first health check on a busy box
# Most tests change many SKUs at once; the guards would (rightly) hold such runs.
LOOSE_GUARDS = "max_changed_share = 1.0\nmax_units_share = 100.0"


CATALOGUE = Path(__file__).parents[2] / "docs" / "monitoring.md"
_ROW = re.compile(r"^\|\s*\*{0,2}`(?P<event>[a-z_]+\.[a-z_.]+)`\*{0,2}\s*\|(?P<rest>.*)$")


def catalogue() -> dict[str, tuple[str, set[str]]]:
    """Event name -> (level text, documented fields), from the tables in docs/monitoring.md."""
    found = {}
    for line in CATALOGUE.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match is None:
            continue
        level, fields = (cell.strip() for cell in match["rest"].split("|")[:2])
        found[match["event"]] = (level, set(re.findall(r"`([a-z_]+)`", fields)))
    return found


def seed(skus: list[str]) -> dict[str, Any]:
    return {
        "products": skus,
        "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
        "locations": [
            {"inventory_location_id": "se-11", "name": "A", "inventory_warehouse_id": "se-1"}
        ],
        "levels": [
            {"sku": sku, "inventory_location_id": "se-11", "on_hand": 10, "allocated": 0}
            for sku in skus
        ],
    }


def feed_text(levels: dict[str, int]) -> str:
    return "sku,quantity\n" + "".join(f"{sku},{qty}\n" for sku, qty in levels.items())


def config_text(
    tmp: Path,
    base_url: str,
    feed: Path,
    extra: str = "",
    *,
    shipstation: str = "",
    reconcile: str = LOOSE_GUARDS,
    stop_timeout: str = f"{STOP_TIMEOUT:.0f}s",
) -> str:
    daemon = (
        '[daemon]\nreconcile_interval = "2s"\ndebounce_seconds = 0.2\n'
        f'stop_timeout = "{stop_timeout}"\n{extra}'
    )
    return config_toml(
        tmp / "state",
        base_url,
        feed,
        shipstation=f"requests_per_minute = 100000\n{shipstation}",
        reconcile=reconcile,
        source='interval = "1s"',
        tail=daemon,
    )


ARCHIVING_CYCLE = 1 + 2  # seconds: archiving_config's source interval plus reconcile_interval


def archiving_config(world: Any, *, source: str = "") -> None:
    """The world's csv source read from tmp/inbox/*.csv every second and archived into
    tmp/done, reconciled every 2 s; ``source`` adds lines to its table (``snapshot = ...``)."""
    inbox, done = world.tmp / "inbox", world.tmp / "done"
    inbox.mkdir()
    daemon = '[daemon]\nreconcile_interval = "2s"\ndebounce_seconds = 0.2\nstop_timeout = "10s"\n'
    text = config_toml(
        world.tmp / "state",
        world.emulator.base_url,
        inbox / "*.csv",
        shipstation="requests_per_minute = 100000",
        reconcile=LOOSE_GUARDS,
        source=f'interval = "1s"\n{source}',
        tail=f'archive_dir = "{done}"\n{daemon}',
    )
    world.config.write_text(text, encoding="utf-8")


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass
class Daemon:
    """A running `inventory-sync run`; its stderr goes to a file read back as events."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def lines(self) -> list[str]:
        return [line for line in self.log_path.read_text("utf-8").splitlines() if line.strip()]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines()]

    def named(self, name: str) -> list[dict[str, Any]]:
        found = []
        for line in self.lines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == name:
                found.append(event)
        return found

    def wait_event(self, name: str, timeout: float = 20.0, count: int = 1) -> list[dict[str, Any]]:
        return wait_for(
            lambda: (found := self.named(name)) and len(found) >= count and found,
            timeout,
            f"{count} {name} event(s)",
        )

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def stop(self, timeout: float = STOP_TIMEOUT + 10) -> int:
        """SIGTERM, then the exit code (killed and failed if it overstays ``timeout``)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


@dataclass
class World:
    """The emulator, a feed and a configuration on disk, and daemons started from them."""

    tmp: Path
    emulator: RunningEmulator
    config: Path
    feed: Path
    daemons: list[Daemon] = field(default_factory=list)

    @property
    def ledger_url(self) -> str:
        return f"sqlite:///{self.tmp / 'state' / 'ledger.db'}"

    def env(self, extra: dict[str, str | None] | None = None) -> dict[str, str]:
        """The test environment; a variable given as None in ``extra`` is left out."""
        merged = {**os.environ, "INVENTORY_SYNC_SHIPSTATION__API_KEY": API_KEY, **(extra or {})}
        return {name: value for name, value in merged.items() if value is not None}

    def start(self, env: dict[str, str | None] | None = None) -> Daemon:
        log_path = self.tmp / f"daemon-{len(self.daemons)}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "inventory_sync", "--config", str(self.config), "run"],
                env=self.env(env),
                stderr=log_file,
                stdout=subprocess.DEVNULL,
            )
        daemon = Daemon(process, log_path)
        self.daemons.append(daemon)
        return daemon

    def run(
        self, *args: str, env: dict[str, str | None] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "inventory_sync", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            env=self.env(env),
            timeout=120,
            check=False,
        )

    def on_hand(self) -> dict[str, int]:
        rows = self.emulator.state.levels(LevelFilter(inventory_location_id="se-11"))
        return {row.sku: row.on_hand for row in rows}

    def write_feed(self, levels: dict[str, int]) -> None:
        tmp = self.feed.with_suffix(".tmp")
        tmp.write_text(feed_text(levels), encoding="utf-8")
        tmp.replace(self.feed)  # atomic, as a careful feed producer writes

    def write_config(self, extra: str = "", **sections: str) -> None:
        text = config_text(self.tmp, self.emulator.base_url, self.feed, extra, **sections)
        self.config.write_text(text, encoding="utf-8")

    def ledger(self) -> SqlLedger:
        return open_ledger(self.ledger_url, migrate=False)

    def close(self) -> None:
        for daemon in self.daemons:
            if daemon.process.poll() is None:
                daemon.process.kill()
                daemon.process.wait(timeout=10)
        self.emulator.stop()


def make_world(tmp: Path, skus: list[str], *, latency_ms: int = 0, extra: str = "") -> World:
    settings = EmulatorSettings(
        api_keys=(API_KEY,),
        rate_limit_per_minute=0,
        faults=FaultSettings(latency_ms=latency_ms),
    )
    emulator = start_emulator(settings, EmulatorState.from_seed(seed(skus)))
    feed = tmp / "feed.csv"
    world = World(tmp, emulator, tmp / "inventory-sync.toml", feed)
    world.write_feed(dict.fromkeys(skus, 10))
    world.write_config(extra)
    return world
