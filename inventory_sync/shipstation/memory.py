"""MemoryInventory: the inventory API in memory for tests; a contract test keeps it honest."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from inventory_sync.errors import ShipStationError
from inventory_sync.shipstation.batch import ResultCallback, SendCallback
from inventory_sync.shipstation.emulator.state import EmulatorState, LevelFilter
from inventory_sync.shipstation.keys import ExpiryNotice
from inventory_sync.shipstation.models import (
    GroupBy,
    InventoryLevel,
    InventoryLocation,
    InventoryUpdate,
    InventoryWarehouse,
    PagesRead,
    UpdateReceipt,
)
from inventory_sync.shipstation.wire import update_to_body


@dataclass(frozen=True, slots=True)
class _ScriptedFailure:
    error: ShipStationError
    after_applying: bool


class MemoryInventory:
    """Same behaviour as the emulator's account, without HTTP; failures can be scripted."""

    def __init__(self, state: EmulatorState | None = None) -> None:
        self.state = state or EmulatorState()
        self.sent: list[InventoryUpdate] = []  # every update that reached the account
        self.reads: list[LevelFilter] = []  # every list_levels call, as its filter
        self._failures: list[_ScriptedFailure] = []
        self._lock = threading.Lock()

    @classmethod
    def from_seed(cls, seed: Mapping[str, Any]) -> MemoryInventory:
        return cls(EmulatorState.from_seed(seed))

    def fail_next(self, error: ShipStationError, *, after_applying: bool = False) -> None:
        """Make the next update raise ``error``; ``after_applying`` models a lost answer."""
        with self._lock:
            self._failures.append(_ScriptedFailure(error, after_applying))

    # -- InventoryApi -------------------------------------------------------------------------

    def list_levels(
        self,
        *,
        inventory_warehouse_id: str | None = None,
        inventory_location_id: str | None = None,
        sku: str | None = None,
        group_by: GroupBy | None = None,
        on_page: Callable[[PagesRead], None] | None = None,
    ) -> Iterator[InventoryLevel]:
        where = LevelFilter(inventory_warehouse_id, inventory_location_id, sku)
        self.reads.append(where)
        rows = self.state.levels(where, group_by=None if group_by is None else GroupBy(group_by))
        if on_page is not None:  # every level on one page, with its totals, as the API says
            on_page(PagesRead(1, len(rows), 1 if rows else 0, len(rows)))
        yield from rows

    def update_level(
        self, update: InventoryUpdate, *, before_send: Callable[[], None] | None = None
    ) -> UpdateReceipt:
        if before_send is not None:
            before_send()
        with self._lock:
            scripted = self._failures.pop(0) if self._failures else None
        if scripted is not None and not scripted.after_applying:
            raise scripted.error
        self.state.apply_update(update)
        self.state.record_applied("POST", "/v2/inventory", update_to_body(update))
        self.sent.append(update)
        if scripted is not None:
            raise scripted.error
        return UpdateReceipt(204, str(uuid.uuid4()))

    def update_many(
        self,
        updates: Iterable[InventoryUpdate],
        *,
        on_result: ResultCallback | None = None,
        before_send: SendCallback | None = None,
    ) -> None:
        """Sequential, in order: tests get a deterministic history."""
        for update in updates:
            if before_send is not None:
                before_send(update)
            outcome: UpdateReceipt | ShipStationError
            try:
                outcome = self.update_level(update)
            except ShipStationError as exc:
                outcome = exc
            if on_result is not None:
                on_result(update, outcome)

    def list_warehouses(self) -> list[InventoryWarehouse]:
        with self.state.lock:
            return list(self.state.warehouses.values())

    def list_locations(self) -> list[InventoryLocation]:
        with self.state.lock:
            return list(self.state.locations.values())

    def check_key_expiry(self, today: date) -> list[ExpiryNotice]:  # noqa: ARG002 - the port's
        """No keys in memory, so none expires."""
        return []

    # -- the rest of the client's surface -----------------------------------------------------

    def get_warehouse(self, inventory_warehouse_id: str) -> InventoryWarehouse:
        return self.state.warehouse(inventory_warehouse_id)

    def create_warehouse(self, name: str) -> InventoryWarehouse:
        return self.state.create_warehouse(name)

    def rename_warehouse(self, inventory_warehouse_id: str, name: str) -> None:
        self.state.rename_warehouse(inventory_warehouse_id, name)

    def delete_warehouse(
        self, inventory_warehouse_id: str, *, remove_inventory: bool = False
    ) -> None:
        self.state.delete_warehouse(
            inventory_warehouse_id, remove_inventory=remove_inventory, refuse=409
        )

    def get_location(self, inventory_location_id: str) -> InventoryLocation:
        return self.state.location(inventory_location_id)

    def create_location(
        self, name: str, inventory_warehouse_id: str, *, barcode: str | None = None
    ) -> InventoryLocation:
        return self.state.create_location(name, inventory_warehouse_id, barcode)

    def update_location(
        self, inventory_location_id: str, *, name: str | None = None, barcode: str | None = None
    ) -> None:
        if not (name or barcode):
            raise ValueError("update_location needs a name or a barcode")
        self.state.update_location(inventory_location_id, name=name, barcode=barcode)

    def delete_location(
        self, inventory_location_id: str, *, remove_inventory: bool = False
    ) -> None:
        self.state.delete_location(
            inventory_location_id, remove_inventory=remove_inventory, refuse=409
        )
