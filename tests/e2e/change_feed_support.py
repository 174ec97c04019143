"""A world with a change feed: two warehouses fed by one `partial` csv source read from an
inbox folder and archived into done/, against the emulator over loopback HTTP."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from e2e_support import API_KEY, World

from inventory_sync.domain.inventory import InventoryUpdate
from inventory_sync.ledger.repository import open_ledger
from inventory_sync.shipstation.emulator.running import start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings
from inventory_sync.shipstation.emulator.state import EmulatorState, LevelFilter

SKUS = ["RED", "BLUE", "GREEN", "BLACK", "WHITE", "PINK", "GREY", "GOLD", "TEAL", "NAVY"]
LOCATIONS = {"east": "se-11", "west": "se-21"}
SEED = {
    "products": SKUS,
    "warehouses": [
        {"inventory_warehouse_id": "se-1", "name": "East"},
        {"inventory_warehouse_id": "se-2", "name": "West"},
    ],
    "locations": [
        {"inventory_location_id": "se-11", "name": "E-1", "inventory_warehouse_id": "se-1"},
        {"inventory_location_id": "se-21", "name": "W-1", "inventory_warehouse_id": "se-2"},
    ],
    "levels": [
        {"sku": sku, "inventory_location_id": location, "on_hand": 10, "allocated": 0}
        for location in LOCATIONS.values()
        for sku in SKUS
    ],
}


def _config(tmp: Path, base_url: str, archive_dir: Path) -> str:
    warehouses = "".join(
        f'\n[[warehouses]]\nname = "{name}"\ninventory_warehouse_id = "se-{i}"\n'
        f'inventory_location_id = "{location}"\n'
        for i, (name, location) in enumerate(LOCATIONS.items(), start=1)
    )
    return f"""
state_dir = "{tmp / "state"}"

[shipstation]
base_url = "{base_url}"
{warehouses}
[[sources]]
name = "changes"
type = "csv"
snapshot = "partial"
warehouses = ["east", "west"]
[sources.options]
path = "{tmp / "inbox"}/*.csv"
stable_seconds = 0
warehouse_column = "warehouse"
archive_dir = "{archive_dir}"
"""


class ChangeWorld(World):
    """The e2e World, with an inbox of change files, their archive and both warehouses."""

    @property
    def inbox(self) -> Path:
        return self.tmp / "inbox"

    @property
    def done(self) -> Path:
        return self.tmp / "done"

    def drop_changes(
        self, name: str, rows: dict[tuple[str, str], int], *, minutes_ago: int | None = None
    ) -> Path:
        """Put a change file in the inbox: (warehouse, sku) -> the new absolute quantity;
        ``minutes_ago`` sets its mtime (the order files are read in)."""
        body = "".join(f"{wh},{sku},{qty}\n" for (wh, sku), qty in rows.items())
        path = self.inbox / name
        path.write_text("warehouse,sku,quantity\n" + body, encoding="utf-8")
        if minutes_ago is not None:
            at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).timestamp()
            os.utime(path, (at, at))
        return path

    def inbox_files(self) -> list[str]:
        return sorted(p.name for p in self.inbox.iterdir())

    def archived(self) -> list[str]:
        return sorted(p.name for p in self.done.iterdir()) if self.done.is_dir() else []

    def put_back(self, archived: str, name: str) -> None:
        """Copy an archived change file into the inbox again, its bytes unchanged."""
        shutil.copy(self.done / archived, self.inbox / name)

    def level(self, warehouse: str, sku: str) -> int:
        rows = self.emulator.state.levels(LevelFilter(inventory_location_id=LOCATIONS[warehouse]))
        return {row.sku: row.on_hand for row in rows}[sku]

    def sell(self, warehouse: str, sku: str, to: int) -> None:
        """Someone else moves ShipStation's level (a sale): a change applied twice undoes it."""
        update = InventoryUpdate("adjust", sku, to, LOCATIONS[warehouse])
        self.emulator.state.apply_update(update)

    def hold_lock(self, warehouse: str, holder: str) -> None:
        """Another live process pushes to the warehouse: its push lock is taken."""
        with open_ledger(self.ledger_url) as ledger:
            ttl, now = timedelta(minutes=5), datetime.now(UTC)
            assert ledger.acquire_lock(f"push:{warehouse}", holder, ttl, now)

    def release_lock(self, warehouse: str, holder: str) -> None:
        with open_ledger(self.ledger_url) as ledger:
            assert ledger.release_lock(f"push:{warehouse}", holder)

    def counted(self, warehouse: str) -> set[str]:
        with open_ledger(self.ledger_url) as ledger:
            return ledger.counted_snapshot_ids("changes", warehouse)  # type: ignore[arg-type]


def make_change_world(
    tmp: Path, ledger_url: str, *, archive_dir: Path | None = None
) -> ChangeWorld:
    settings = EmulatorSettings(api_keys=(API_KEY,), rate_limit_per_minute=0)
    running = start_emulator(settings, EmulatorState.from_seed(SEED))
    (tmp / "inbox").mkdir()
    config = tmp / "inventory-sync.toml"
    text = _config(tmp, running.base_url, archive_dir or tmp / "done")
    config.write_text(text, encoding="utf-8")
    return ChangeWorld(tmp, running, config, tmp / "inbox", ledger_url)


def events(result, name: str) -> list[dict]:
    return [e for e in result.log_events() if e["event"] == name]
