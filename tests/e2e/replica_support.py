"""Three `inventory-sync run` replicas on one PostgreSQL ledger, two changing feeds, the checks."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from crash_support import changed_feed, feed_text

from inventory_sync.domain.model import JournalEntry
from inventory_sync.ledger.repository import open_ledger
from inventory_sync.ports import Lease
from inventory_sync.shipstation.emulator.running import RunningEmulator, start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings, FaultSettings
from inventory_sync.shipstation.emulator.state import EmulatorState, LevelFilter

API_KEY = "replica-test-key-8c1e55d0b2"
LEASE = "push:account:default"
WAREHOUSES = {"east": ("se-1", "se-11"), "west": ("se-2", "se-21")}
# With ``accounts``: three ShipStation accounts of one warehouse each (one emulator serves all).
ACCOUNTS = {"acme": "east", "bolt": "west", "cask": "north"}
ACCOUNT_WAREHOUSES = {**WAREHOUSES, "north": ("se-3", "se-31")}
FENCE = re.compile(r"fence=(?P<lease>\S+)#(?P<number>\d+) ")


def seed(
    skus: list[str], rng: random.Random, warehouses: dict[str, tuple[str, str]]
) -> dict[str, Any]:
    return {
        "products": skus,
        "warehouses": [
            {"inventory_warehouse_id": wh_id, "name": name}
            for name, (wh_id, _) in warehouses.items()
        ],
        "locations": [
            {"inventory_location_id": loc, "name": name, "inventory_warehouse_id": wh_id}
            for name, (wh_id, loc) in warehouses.items()
        ],
        "levels": [
            {"sku": sku, "inventory_location_id": loc, "on_hand": rng.randint(5, 30)}
            for _, loc in warehouses.values()
            for sku in skus
        ],
    }


def warehouses_text(base_url: str, accounts: bool) -> str:
    """The single-account ``[[warehouses]]``, or one ``[[accounts]]`` each (ACCOUNTS)."""
    if not accounts:
        return "".join(
            f'\n[[warehouses]]\nname = "{name}"\ninventory_warehouse_id = "{wh_id}"\n'
            f'inventory_location_id = "{loc}"\n'
            for name, (wh_id, loc) in WAREHOUSES.items()
        )
    text = ""
    for account, name in ACCOUNTS.items():
        wh_id, loc = ACCOUNT_WAREHOUSES[name]
        text += (
            f'\n[[accounts]]\nname = "{account}"\nbase_url = "{base_url}"\n'
            f'[[accounts.warehouses]]\nname = "{name}"\ninventory_warehouse_id = "{wh_id}"\n'
            f'inventory_location_id = "{loc}"\n'
        )
    return text


def config_text(
    tmp: Path,
    base_url: str,
    lease_seconds: float,
    renew_seconds: float,
    *,
    accounts: bool = False,
    reconcile_seconds: float = 2,
) -> str:
    warehouses = warehouses_text(base_url, accounts)
    layout = ACCOUNT_WAREHOUSES if accounts else WAREHOUSES
    sources = "".join(
        f'\n[[sources]]\nname = "{name}-feed"\ntype = "csv"\nwarehouses = ["{name}"]\n'
        f'interval = "1s"\n[sources.options]\npath = "{tmp / f"{name}.csv"}"\nstable_seconds = 0\n'
        for name in layout
    )
    base = "" if accounts else f'base_url = "{base_url}"\n'
    return f"""
state_dir = "{tmp / "state"}"

[shipstation]
{base}requests_per_minute = 100000
# One request at a time: fewer threads taking the interpreter's lock between the last check
# and the socket write, the window no fence can close (docs/deploy.md, "not guaranteed").
concurrency = 1

[reconcile]
mode = "delta"
# Guards off: the feeds move most SKUs every few seconds on purpose.
max_changed_share = 1.0
max_units_share = 100
max_zeroed = 1000
{warehouses}{sources}
[daemon]
reconcile_interval = "{reconcile_seconds}s"
debounce_seconds = 0.2
stop_timeout = "10s"
lease_seconds = {lease_seconds}
lease_renew_seconds = {renew_seconds}
"""


@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    log_path: Path

    def events(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.log() if e.get("event") == name]

    def log(self) -> list[dict[str, Any]]:
        """Every JSON event the replica logged so far, in order."""
        found = []
        for line in self.log_path.read_text("utf-8").splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found


@dataclass
class Cluster:
    """The emulator, two feeds that keep changing, and the replicas started on them."""

    tmp: Path
    ledger_url: str
    emulator: RunningEmulator
    feeds: dict[str, dict[str, int]]
    rng: random.Random
    warehouses: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(WAREHOUSES))
    accounts: bool = False
    replicas: list[Replica] = field(default_factory=list)
    _changing: threading.Event = field(default_factory=threading.Event)
    _changer: threading.Thread | None = None
    _feed_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def config(self) -> Path:
        return self.tmp / "inventory-sync.toml"

    def env(self) -> dict[str, str]:
        keys = (
            {f"INVENTORY_SYNC_ACCOUNTS__{a.upper()}__API_KEY": API_KEY for a in ACCOUNTS}
            if self.accounts
            else {"INVENTORY_SYNC_SHIPSTATION__API_KEY": API_KEY}
        )
        return {**os.environ, **keys, "INVENTORY_SYNC_LEDGER__URL": self.ledger_url}

    def start(self) -> Replica:
        log_path = self.tmp / f"replica-{len(self.replicas)}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", "inventory_sync", "--config", str(self.config), "run"],
                env=self.env(),
                stderr=log_file,
                stdout=subprocess.DEVNULL,
            )
        replica = Replica(process, log_path)
        self.replicas.append(replica)
        return replica

    def command(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "inventory_sync", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            env={**self.env(), **(env or {})},
            timeout=60,
            check=False,
        )

    def write_feeds(self) -> None:
        with self._feed_lock:
            for name, values in self.feeds.items():
                path = self.tmp / f"{name}.csv"
                path.with_suffix(".tmp").write_text(feed_text(values), encoding="utf-8")
                path.with_suffix(".tmp").replace(path)  # atomic, as a careful producer writes

    def change_feeds(self) -> None:
        with self._feed_lock:
            self.feeds = {name: changed_feed(v, self.rng) for name, v in self.feeds.items()}
        self.write_feeds()

    def keep_changing(self, every: float) -> None:
        """Change both feeds every ``every`` seconds until ``stop_changing``."""

        def loop() -> None:
            while not self._changing.wait(every):
                self.change_feeds()

        self._changer = threading.Thread(target=loop, name="feed-changer", daemon=True)
        self._changer.start()

    def stop_changing(self) -> None:
        self._changing.set()
        if self._changer is not None:
            self._changer.join(timeout=10)

    def on_hand(self) -> dict[str, dict[str, int]]:
        found = {}
        for name, (_, loc) in self.warehouses.items():
            rows = self.emulator.state.levels(LevelFilter(inventory_location_id=loc))
            found[name] = {row.sku: row.on_hand for row in rows}
        return found

    def at_targets(self) -> bool:
        with self._feed_lock:
            return self.on_hand() == self.feeds

    def lease(self, name: str = LEASE) -> Lease | None:
        with open_ledger(self.ledger_url, migrate=False) as ledger:
            return next((x for x in ledger.leases() if x.name == name), None)

    def history(self, name: str = LEASE) -> list[Lease]:
        with open_ledger(self.ledger_url, migrate=False) as ledger:
            return ledger.lease_history(name)

    def all_history(self) -> list[Lease]:
        """Every holder of every account's lease (with ``accounts``: the three)."""
        names = [f"push:account:{a}" for a in ACCOUNTS] if self.accounts else [LEASE]
        with open_ledger(self.ledger_url, migrate=False) as ledger:
            return [h for name in names for h in ledger.lease_history(name)]

    def unsettled(self) -> list[JournalEntry]:
        with open_ledger(self.ledger_url, migrate=False) as ledger:
            return ledger.unsettled()

    def holder(self) -> Replica:
        """The replica whose process holds the account's lease now."""
        lease = wait_for(self.lease, 30, "a lease holder")
        pid = int(lease.holder.split(":")[1])
        return next(r for r in self.replicas if r.process.pid == pid)

    def writes(self) -> int:
        return sum(e.count for e in self.emulator.applied() if e.path == "/v2/inventory")

    def close(self) -> None:
        self.stop_changing()
        for replica in self.replicas:
            if replica.process.poll() is None:
                replica.process.send_signal(signal.SIGCONT)
                replica.process.kill()
                replica.process.wait(timeout=10)
        self.emulator.stop()


def make_cluster(
    tmp: Path,
    ledger_url: str,
    *,
    skus: int,
    latency_ms: int,
    lease: float,
    renew: float,
    more_keys: tuple[str, ...] = (),
    accounts: bool = False,
    reconcile_seconds: float = 2,
) -> Cluster:
    """``more_keys``: keys the emulator accepts besides the replicas' (to tell another
    process's requests from theirs). ``accounts``: three accounts (ACCOUNTS), not one."""
    rng = random.Random(10)
    names = [f"SKU-{n:03d}" for n in range(skus)]
    layout = ACCOUNT_WAREHOUSES if accounts else WAREHOUSES
    account = seed(names, rng, layout)
    settings = EmulatorSettings(
        api_keys=(API_KEY, *more_keys),
        rate_limit_per_minute=0,
        faults=FaultSettings(latency_ms=latency_ms),
    )
    emulator = start_emulator(settings, EmulatorState.from_seed(account))
    feeds = {name: {sku: rng.randint(5, 30) for sku in names} for name in layout}
    cluster = Cluster(tmp, ledger_url, emulator, feeds, rng, dict(layout), accounts)
    cluster.write_feeds()
    text = config_text(
        tmp, emulator.base_url, lease, renew, accounts=accounts, reconcile_seconds=reconcile_seconds
    )
    cluster.config.write_text(text, "utf-8")
    return cluster


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_mid_push(cluster: Cluster, holder: Replica, *, writes: int = 3) -> None:
    """Until the holder has sent a few writes of a fresh push (after a feed change)."""
    cluster.change_feeds()
    start = cluster.writes()
    wait_for(lambda: cluster.writes() >= start + writes, 30, f"{writes} writes of a push")
    assert holder.process.poll() is None


# -- the emulator's own record against the ledger's lease history ---------------------------------


def fenced_writes(emulator: RunningEmulator) -> list[tuple[str, int, datetime, str]]:
    """(lease, fence, when applied, notes) for every application of every inventory write."""
    found = []
    for entry in emulator.applied():
        if entry.path != "/v2/inventory":
            continue
        notes = str(entry.body.get("notes") or "")
        match = FENCE.search(notes)
        lease, number = (match["lease"], int(match["number"])) if match else ("", 0)
        found.extend((lease, number, datetime.fromisoformat(at), notes) for at in entry.at)
    return found


def late_writes(emulator: RunningEmulator, history: list[Lease]) -> list[str]:
    """Writes applied after a newer fence of their lease was granted: sent under a lost lease."""
    late = []
    for lease, number, at, notes in fenced_writes(emulator):
        newer = [h for h in history if h.name == lease and h.fence > number]
        if not lease or any(h.acquired_at <= at for h in newer):
            taken = min((h.acquired_at for h in newer), default=None)
            late.append(f"{notes!r} applied at {at.isoformat()}, next fence from {taken}")
    return late
