"""Run bookkeeping shared by every kind of run: ids, levels read, confirmation, lock refresh."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Iterable
from itertools import chain

import structlog

from inventory_sync.app import App
from inventory_sync.domain.inventory import InventoryLevel
from inventory_sync.domain.model import (
    AdjustmentStatus,
    JournalEntry,
    Levels,
    RunId,
    Sku,
    WarehouseTarget,
)
from inventory_sync.ports import InventoryApi, Unwatched, Watch
from inventory_sync.steps.levels import LevelPages
from inventory_sync.steps.locks import WarehouseLocks
from inventory_sync.steps.settle import settle

log = structlog.get_logger(__name__)
PER_SKU_READS = 5  # up to this many SKUs, a narrowed run reads each SKU's level by itself
Progress = Callable[[int, int], None]


def new_run_id(app: App) -> RunId:
    stamp = app.clock.now().strftime("%Y%m%dT%H%M%SZ")
    return RunId(f"run-{stamp}-{secrets.token_hex(3)}")


def read_levels(
    inventory: InventoryApi,
    target: WarehouseTarget,
    skus: Collection[str] = (),
    watch: Watch | None = None,
) -> Levels:
    """ShipStation's on-hand per SKU at the target location (conditions and lots summed).

    With `skus`, only those: a handful is asked for one by one (a request each, instead of
    every page of the location); more are read with the location and picked out.
    """
    if skus and len(skus) <= PER_SKU_READS:
        location = target.location_id
        rows = chain.from_iterable(
            inventory.list_levels(inventory_location_id=location, sku=sku) for sku in sorted(skus)
        )
        return _sum_levels(rows, target, skus)
    return _read_location(inventory, target, skus, watch or Unwatched())


def _read_location(
    inventory: InventoryApi, target: WarehouseTarget, skus: Collection[str], watch: Watch
) -> Levels:
    """Every page of the target's location, logged as levels.progress and shown to ``watch``
    (a long read: a million levels are 2000 pages, some 10 minutes at 200 requests a minute)."""
    pages = LevelPages(target.name, watch)
    try:
        rows = inventory.list_levels(inventory_location_id=target.location_id, on_page=pages)
        levels = _sum_levels(rows, target, skus)
    finally:
        watch.levels_finished(target.name)
    pages.finished()
    return levels


def _sum_levels(
    rows: Iterable[InventoryLevel], target: WarehouseTarget, skus: Collection[str]
) -> Levels:
    on_hand: dict[Sku, int] = {}
    allocated: dict[Sku, int] = {}
    for row in rows:
        if row.inventory_location_id not in {None, target.location_id}:
            continue  # a server that ignores the filter must not mix locations
        if skus and row.sku not in skus:
            continue
        sku = Sku(row.sku)
        on_hand[sku] = on_hand.get(sku, 0) + row.on_hand
        if row.allocated:
            allocated[sku] = allocated.get(sku, 0) + row.allocated
    return Levels(on_hand, allocated)


def refreshing(locks: WarehouseLocks, progress: Progress | None) -> Progress:
    def tick(done: int, total: int) -> None:
        locks.refresh()
        if progress is not None:
            progress(done, total)

    return tick


def confirm(app: App, run_id: RunId) -> list[JournalEntry]:
    """Settle this run's uncertain adjustments by reading back, then return its journal."""
    journal = app.ledger.journal(run_id=run_id)
    uncertain = [e for e in journal if e.status is AdjustmentStatus.UNCERTAIN]
    if uncertain:
        settle(app, uncertain)
        journal = app.ledger.journal(run_id=run_id)
    return journal
