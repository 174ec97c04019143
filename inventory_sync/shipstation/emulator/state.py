"""The emulated account: products, warehouses, locations, stock; seeded from and dumped to JSON."""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inventory_sync.errors import NotFound, RequestRejected
from inventory_sync.shipstation.emulator.stock import Stock, StockBook
from inventory_sync.shipstation.models import (
    Condition,
    GroupBy,
    InventoryLevel,
    InventoryLocation,
    InventoryUpdate,
    InventoryWarehouse,
    Money,
)
from inventory_sync.shipstation.wire import location_from_json, record_to_json, warehouse_from_json

_FIRST_GENERATED_ID = 100_000


@dataclass(frozen=True, slots=True)
class LevelFilter:
    inventory_warehouse_id: str | None = None
    inventory_location_id: str | None = None
    sku: str | None = None


@dataclass(frozen=True, slots=True)
class AppliedEntry:
    """One distinct state-changing request body and how many times it was applied."""

    method: str
    path: str
    body: Any
    count: int
    # When each application happened (UTC, ISO): lets a test order writes against other
    # records, such as the moment a replica's lease passed to another.
    at: tuple[str, ...] = ()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _not_found(kind: str, identifier: str) -> NotFound:
    return NotFound(
        f"{kind} {identifier!r} was not found",
        status_code=404,
        error_code="invalid_identifier",
        error_type="validation",
    )


class EmulatorState:
    """Everything one emulated account holds. All public methods are thread-safe."""

    def __init__(self, *, default_condition: Condition = Condition.SELLABLE) -> None:
        self.lock = threading.RLock()
        self.products: set[str] = set()
        self.warehouses: dict[str, InventoryWarehouse] = {}
        self.locations: dict[str, InventoryLocation] = {}
        self.stock = StockBook(default_condition)
        self._applied: dict[tuple[str, str, str], list[Any]] = {}
        self._ids = itertools.count(_FIRST_GENERATED_ID)

    # -- seed and dump ------------------------------------------------------------------------

    @classmethod
    def from_seed(cls, seed: Mapping[str, Any], **kwargs: Any) -> EmulatorState:  # noqa: ANN401
        state = cls(**kwargs)
        state.products.update(str(sku) for sku in seed.get("products", []))
        now = _now()
        for raw in seed.get("warehouses", []):
            warehouse = warehouse_from_json({"created_at": now, "updated_at": now, **raw})
            state.warehouses[warehouse.inventory_warehouse_id] = warehouse
        for raw in seed.get("locations", []):
            location = location_from_json({"created_at": now, "updated_at": now, **raw})
            state.locations[location.inventory_location_id] = location
        for raw in seed.get("levels", []):
            cost = raw.get("cost")
            key = (
                raw["sku"],
                raw["inventory_location_id"],
                Condition(raw.get("condition") or "sellable"),
            )
            state.stock.rows[key] = Stock(
                int(raw["on_hand"]),
                int(raw.get("allocated", 0)),
                Money(cost["amount"], cost["currency"]) if cost else None,
            )
        state._skip_seeded_ids()
        return state

    @classmethod
    def load(cls, path: Path, **kwargs: Any) -> EmulatorState:  # noqa: ANN401
        return cls.from_seed(json.loads(path.read_text(encoding="utf-8")), **kwargs)

    def _skip_seeded_ids(self) -> None:
        """Generated ids start past every numeric id in the seed so they never collide."""
        numbers = [
            int(match.group(1))
            for identifier in itertools.chain(self.warehouses, self.locations)
            if (match := re.fullmatch(r"se-(\d+)", identifier))
        ]
        self._ids = itertools.count(max([_FIRST_GENERATED_ID - 1, *numbers]) + 1)

    def to_seed(self) -> dict[str, Any]:
        with self.lock:
            return {
                "products": sorted(self.products),
                "warehouses": [record_to_json(w) for w in self.warehouses.values()],
                "locations": [record_to_json(loc) for loc in self.locations.values()],
                "levels": [
                    {
                        "sku": sku,
                        "inventory_location_id": location,
                        "condition": condition.value,
                        "on_hand": row.on_hand,
                        "allocated": row.allocated,
                    }
                    | (
                        {"cost": {"amount": row.cost.amount, "currency": row.cost.currency}}
                        if row.cost
                        else {}
                    )
                    for (sku, location, condition), row in sorted(self.stock.rows.items())
                ],
            }

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_seed(), indent=2) + "\n", encoding="utf-8")

    # -- the applied record -------------------------------------------------------------------

    def record_applied(self, method: str, path: str, body: Any) -> None:  # noqa: ANN401
        """Count an applied state change; identical bodies (notes included) share one entry."""
        key = (method, path, json.dumps(body, sort_keys=True))
        with self.lock:
            entry = self._applied.setdefault(key, [body, 0, []])
            entry[1] += 1
            entry[2].append(datetime.now(UTC).isoformat())

    def applied(self) -> list[AppliedEntry]:
        with self.lock:
            return [
                AppliedEntry(m, p, body, n, tuple(at))
                for (m, p, _), (body, n, at) in self._applied.items()
            ]

    # -- inventory ----------------------------------------------------------------------------

    def apply_update(self, update: InventoryUpdate) -> None:
        with self.lock:
            self.location(update.inventory_location_id)
            if update.new_inventory_location_id:
                self.location(update.new_inventory_location_id)
            if update.sku not in self.products:
                raise RequestRejected(
                    f"SKU {update.sku!r} has no product record",
                    status_code=400,
                    error_code="invalid_field_value",
                    error_type="validation",
                )
            self.stock.apply(update)

    def levels(
        self, where: LevelFilter, *, group_by: GroupBy | None = None, omit_zero: bool = False
    ) -> list[InventoryLevel]:
        """Rows sorted for stable paging: per SKU and location, or per SKU and warehouse."""
        totals: dict[tuple[str, str, str | None], list[int]] = {}
        with self.lock:
            for (sku, location_id, _), row in self.stock.rows.items():
                warehouse_id = self.locations[location_id].inventory_warehouse_id
                if not _matches(where, sku, warehouse_id, location_id):
                    continue
                by_location = group_by is not GroupBy.WAREHOUSE
                key = (sku, warehouse_id, location_id if by_location else None)
                counts = totals.setdefault(key, [0, 0])
                counts[0] += row.on_hand
                counts[1] += row.allocated
        return [
            InventoryLevel(sku, on_hand, allocated, on_hand - allocated, warehouse_id, location_id)
            for (sku, warehouse_id, location_id), (on_hand, allocated) in sorted(
                totals.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or "")
            )
            if on_hand or not omit_zero
        ]

    # -- warehouses and locations -------------------------------------------------------------

    def warehouse(self, warehouse_id: str) -> InventoryWarehouse:
        with self.lock:
            if warehouse_id not in self.warehouses:
                raise _not_found("inventory warehouse", warehouse_id)
            return self.warehouses[warehouse_id]

    def location(self, location_id: str) -> InventoryLocation:
        with self.lock:
            if location_id not in self.locations:
                raise _not_found("inventory location", location_id)
            return self.locations[location_id]

    def create_warehouse(self, name: str) -> InventoryWarehouse:
        with self.lock:
            now = _now()
            created = InventoryWarehouse(f"se-{next(self._ids)}", name, now, now)
            self.warehouses[created.inventory_warehouse_id] = created
            return created

    def create_location(
        self, name: str, warehouse_id: str, barcode: str | None = None
    ) -> InventoryLocation:
        with self.lock:
            self.warehouse(warehouse_id)
            now = _now()
            created = InventoryLocation(
                f"se-{next(self._ids)}", name, warehouse_id, now, now, barcode
            )
            self.locations[created.inventory_location_id] = created
            return created

    def rename_warehouse(self, warehouse_id: str, name: str) -> None:
        with self.lock:
            current = self.warehouse(warehouse_id)
            self.warehouses[warehouse_id] = replace(current, name=name, updated_at=_now())

    def update_location(
        self, location_id: str, *, name: str | None = None, barcode: str | None = None
    ) -> None:
        with self.lock:
            current = self.location(location_id)
            self.locations[location_id] = replace(
                current,
                name=current.name if name is None else name,
                barcode=current.barcode if barcode is None else barcode,
                updated_at=_now(),
            )

    def delete_warehouse(self, warehouse_id: str, *, remove_inventory: bool, refuse: int) -> None:
        """Delete a warehouse and its locations (contract notes §2.7 leave this open)."""
        with self.lock:
            self.warehouse(warehouse_id)
            owned = {
                loc.inventory_location_id
                for loc in self.locations.values()
                if loc.inventory_warehouse_id == warehouse_id
            }
            self._clear_stock(owned, remove_inventory=remove_inventory, refuse=refuse)
            for location_id in owned:
                del self.locations[location_id]
            del self.warehouses[warehouse_id]

    def delete_location(self, location_id: str, *, remove_inventory: bool, refuse: int) -> None:
        with self.lock:
            self.location(location_id)
            self._clear_stock({location_id}, remove_inventory=remove_inventory, refuse=refuse)
            del self.locations[location_id]

    def _clear_stock(self, location_ids: set[str], *, remove_inventory: bool, refuse: int) -> None:
        if self.stock.holds_stock(location_ids) and not remove_inventory:
            raise RequestRejected(
                "inventory is still on hand; pass remove_inventory=1 to delete it too",
                status_code=refuse,
                error_code="field_conflict",
                error_type="business_rules",
            )
        self.stock.remove_locations(location_ids)


def _matches(where: LevelFilter, sku: str, warehouse_id: str, location_id: str) -> bool:
    return (
        (where.sku is None or where.sku == sku)
        and (where.inventory_warehouse_id in (None, warehouse_id))
        and (where.inventory_location_id in (None, location_id))
    )
