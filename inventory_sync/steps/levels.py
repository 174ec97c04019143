"""Reading ShipStation's levels at the locations we write to."""

from __future__ import annotations

import structlog

from inventory_sync.domain.inventory import PagesRead
from inventory_sync.domain.model import Warehouse
from inventory_sync.ports import InventoryApi, Watch

log = structlog.get_logger(__name__)
# Pages between levels.progress lines: at the default budget (200 requests a minute) about one
# line every 30 s, as push.progress gives one every 100 requests; 2000 pages make 21 lines.
_LOG_EVERY = 100


def current_level(inventory: InventoryApi, location_id: str, sku: str) -> int | None:
    """ShipStation's on-hand for one SKU at one location; None when it has no row."""
    rows = [
        row
        for row in inventory.list_levels(inventory_location_id=location_id, sku=sku)
        if row.sku == sku
    ]
    return sum(row.on_hand for row in rows) if rows else None


class LevelPages:
    """Hears the pages of one warehouse's level read: shows each to the watch, and logs
    ``levels.progress`` at a rate monitoring can take (see _LOG_EVERY)."""

    def __init__(self, warehouse: Warehouse, watch: Watch) -> None:
        self.warehouse = warehouse
        self.watch = watch
        self.last = PagesRead(0, 0)

    def __call__(self, read: PagesRead) -> None:
        self.last = read
        self.watch.levels_paged(self.warehouse, read)
        # The first page says how long the read will be; then every _LOG_EVERY pages. The
        # last page is left to finished(), which knows the read is whole.
        last = read.pages_total is not None and read.pages >= read.pages_total
        if not last and (read.pages == 1 or read.pages % _LOG_EVERY == 0):
            self._log(read, done=False)

    def finished(self) -> None:
        """Every page was read: log the whole read once."""
        self._log(self.last, done=True)

    def _log(self, read: PagesRead, *, done: bool) -> None:
        log.info(
            "levels.progress",
            warehouse=self.warehouse,
            pages=read.pages,
            pages_total=read.pages_total,
            levels=read.items,
            levels_total=read.items_total,
            done=done,
        )
