"""Seeds and the test key shared by the ShipStation suite (a plain module, not a conftest)."""

from __future__ import annotations

from typing import Any

KEY = "test-key-0123456789"
SKUS = ["SKU-A", "SKU-B", "SKU-C"]


def small_seed() -> dict[str, Any]:
    return {
        "products": [*SKUS, "SKU-NEW"],
        "warehouses": [
            {"inventory_warehouse_id": "se-1001", "name": "East DC"},
            {"inventory_warehouse_id": "se-1002", "name": "West DC"},
        ],
        "locations": [
            {
                "inventory_location_id": "se-2001",
                "name": "A - 1 - 1 - 1",
                "inventory_warehouse_id": "se-1001",
            },
            {
                "inventory_location_id": "se-2002",
                "name": "A - 1 - 1 - 1",
                "inventory_warehouse_id": "se-1002",
            },
        ],
        "levels": [
            {
                "sku": sku,
                "inventory_location_id": loc,
                "on_hand": 10 + i,
                "allocated": 1,
                "condition": "sellable",
            }
            for i, sku in enumerate(SKUS)
            for loc in ("se-2001", "se-2002")
        ],
    }


def big_seed(count: int) -> dict[str, Any]:
    """``count`` SKUs at one location: enough rows to span many pages."""
    seed = small_seed()
    skus = [f"BULK-{n:05d}" for n in range(count)]
    seed["products"] = skus
    seed["levels"] = [
        {"sku": sku, "inventory_location_id": "se-2001", "on_hand": n, "allocated": 0}
        for n, sku in enumerate(skus)
    ]
    return seed
