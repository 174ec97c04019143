"""The inventory system's side in plain values: levels, updates, receipts, warehouses, locations.

These are what the InventoryApi port speaks; the ShipStation client reads and writes them
as its wire format (shipstation/models.py re-exports them), and the in-memory fake does too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Condition(StrEnum):
    SELLABLE = "sellable"
    DAMAGED = "damaged"
    EXPIRED = "expired"
    QA_HOLD = "qa_hold"


@dataclass(frozen=True, slots=True)
class Money:
    amount: float
    currency: str


@dataclass(frozen=True, slots=True)
class InventoryLevel:
    """One row of GET /v2/inventory."""

    sku: str
    on_hand: int
    allocated: int
    available: int
    inventory_warehouse_id: str | None
    inventory_location_id: str | None  # missing and null are read alike
    average_cost: Money | None = None


@dataclass(frozen=True, slots=True)
class InventoryUpdate:
    """The body of POST /v2/inventory: one SKU at one location."""

    transaction_type: str  # increment | decrement | adjust | modify
    sku: str
    quantity: int
    inventory_location_id: str
    condition: Condition | None = None
    lot: str | None = None
    cost: Money | None = None
    usable_start_date: str | None = None
    usable_end_date: str | None = None
    effective_at: str | None = None
    reason: str | None = None
    notes: str | None = None
    new_inventory_location_id: str | None = None
    new_cost: Money | None = None
    new_condition: Condition | None = None


@dataclass(frozen=True, slots=True)
class UpdateReceipt:
    """What a successful update left behind: the status and the id to quote to support."""

    status_code: int
    request_id: str | None


@dataclass(frozen=True, slots=True)
class InventoryWarehouse:
    inventory_warehouse_id: str
    name: str
    created_at: str | None = None
    updated_at: str | None = None


@dataclass(frozen=True, slots=True)
class InventoryLocation:
    inventory_location_id: str
    name: str
    inventory_warehouse_id: str
    created_at: str | None = None
    updated_at: str | None = None
    barcode: str | None = None


@dataclass(frozen=True, slots=True)
class PagesRead:
    """How far a paged list has been read: pages and items so far, and the totals the server
    gave with the last page (None when it gave none). For showing progress only: a total is
    the server's word at that moment, never a reason to stop early or to expect a row."""

    pages: int
    items: int
    pages_total: int | None = None
    items_total: int | None = None
