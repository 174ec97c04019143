"""Typed values the ShipStation V2 inventory API sends and receives (no I/O here)."""

from __future__ import annotations

from enum import StrEnum

# The values themselves belong to the port the service uses; the wire speaks them as they are.
from inventory_sync.domain.inventory import (
    Condition,
    InventoryLevel,
    InventoryLocation,
    InventoryUpdate,
    InventoryWarehouse,
    Money,
    PagesRead,
    UpdateReceipt,
)

__all__ = [
    "REPLAYABLE_TRANSACTIONS",
    "TRANSACTION_TYPES",
    "Condition",
    "GroupBy",
    "InventoryLevel",
    "InventoryLocation",
    "InventoryUpdate",
    "InventoryWarehouse",
    "Money",
    "PagesRead",
    "UpdateReceipt",
]

TRANSACTION_TYPES = frozenset({"increment", "decrement", "adjust", "modify"})

# Only an absolute set can be replayed after an unknown outcome without double-applying.
REPLAYABLE_TRANSACTIONS = frozenset({"adjust"})


class GroupBy(StrEnum):
    """How GET /v2/inventory aggregates rows (absent: one row per SKU and location)."""

    WAREHOUSE = "warehouse"
    LOCATION = "location"
