"""Reading ShipStation's levels at the locations we write to."""

from __future__ import annotations

from inventory_sync.ports import InventoryApi


def current_level(inventory: InventoryApi, location_id: str, sku: str) -> int | None:
    """ShipStation's on-hand for one SKU at one location; None when it has no row."""
    rows = [
        row
        for row in inventory.list_levels(inventory_location_id=location_id, sku=sku)
        if row.sku == sku
    ]
    return sum(row.on_hand for row in rows) if rows else None
