"""Reading ShipStation's levels at the locations we write to."""

from __future__ import annotations

from inventory_sync.app import App
from inventory_sync.domain.model import Sku


def current_level(app: App, location_id: str, sku: Sku) -> int | None:
    """ShipStation's on-hand for one SKU at one location; None when it has no row."""
    rows = [
        row
        for row in app.inventory.list_levels(inventory_location_id=location_id, sku=sku)
        if row.sku == sku
    ]
    return sum(row.on_hand for row in rows) if rows else None
