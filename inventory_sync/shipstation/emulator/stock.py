"""Units on hand per (SKU, location, condition) and the four transaction types acting on them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from inventory_sync.errors import RequestRejected
from inventory_sync.shipstation.models import Condition, InventoryUpdate, Money

StockKey = tuple[str, str, Condition]  # sku, inventory_location_id, condition


@dataclass(slots=True)
class Stock:
    """Mutable counts behind one key; only the emulator's lock guards it."""

    on_hand: int = 0
    allocated: int = 0
    cost: Money | None = None


def _rejected(message: str, code: str = "invalid_field_value") -> RequestRejected:
    return RequestRejected(message, status_code=400, error_code=code, error_type="business_rules")


def _blend(old: Money | None, old_units: int, new: Money | None, new_units: int) -> Money | None:
    """Weighted average cost, the way a per-unit wholesale average behaves."""
    if new is None:
        return old
    if old is None or old_units <= 0:
        return new
    total = old.amount * old_units + new.amount * new_units
    return Money(round(total / (old_units + new_units), 4), new.currency)


class StockBook:
    """The stock table; callers hold the state lock and have validated SKU and locations."""

    def __init__(self, default_condition: Condition) -> None:
        self.rows: dict[StockKey, Stock] = {}
        self.default_condition = default_condition

    def condition_of(self, update: InventoryUpdate) -> Condition:
        return update.condition or self.default_condition

    def apply(self, update: InventoryUpdate) -> None:
        """Apply one update, all or nothing."""
        kind = update.transaction_type
        if kind == "adjust":
            self._adjust(update)
        elif kind == "increment":
            self._increment(update)
        elif kind == "decrement":
            self._take(update, self._matching(update))
        else:
            self._modify(update)

    def _adjust(self, update: InventoryUpdate) -> None:
        # Contract notes §2.2: per (sku, location, condition) — other conditions are untouched.
        if update.quantity < 0:
            raise _rejected("quantity for adjust must be zero or more")
        key = (update.sku, update.inventory_location_id, self.condition_of(update))
        row = self.rows.setdefault(key, Stock())
        added = update.quantity - row.on_hand
        if added > 0:
            row.cost = _blend(row.cost, row.on_hand, update.cost, added)
        row.on_hand = update.quantity

    def _increment(self, update: InventoryUpdate) -> None:
        if update.quantity <= 0:
            raise _rejected("quantity for increment must be positive")
        key = (update.sku, update.inventory_location_id, self.condition_of(update))
        row = self.rows.setdefault(key, Stock())
        row.cost = _blend(row.cost, row.on_hand, update.cost, update.quantity)
        row.on_hand += update.quantity

    def _matching(self, update: InventoryUpdate) -> list[StockKey]:
        """Keys a decrement or modify selects; no condition given means every condition."""
        conditions = [update.condition] if update.condition else list(Condition)
        return [
            key
            for condition in conditions
            if (key := (update.sku, update.inventory_location_id, condition)) in self.rows
        ]

    def _take(
        self, update: InventoryUpdate, keys: Iterable[StockKey]
    ) -> list[tuple[StockKey, int]]:
        """Remove quantity units from the keys in order; atomic: 400 if there are too few."""
        if update.quantity <= 0:
            raise _rejected(f"quantity for {update.transaction_type} must be positive")
        keys = list(keys)
        have = sum(self.rows[key].on_hand for key in keys)
        if have < update.quantity:
            raise _rejected(
                f"cannot {update.transaction_type} {update.quantity} unit(s) of {update.sku}: "
                f"only {have} match at {update.inventory_location_id}"
            )
        left, taken = update.quantity, []
        for key in keys:
            part = min(left, self.rows[key].on_hand)
            self.rows[key].on_hand -= part
            taken.append((key, part))
            left -= part
        return taken

    def _modify(self, update: InventoryUpdate) -> None:
        if not (update.new_inventory_location_id or update.new_condition or update.new_cost):
            raise _rejected("modify needs new_inventory_location_id, new_condition or new_cost")
        for (sku, location, condition), units in self._take(update, self._matching(update)):
            old_cost = self.rows[(sku, location, condition)].cost
            target = (
                sku,
                update.new_inventory_location_id or location,
                update.new_condition or condition,
            )
            row = self.rows.setdefault(target, Stock())
            row.cost = _blend(row.cost, row.on_hand, update.new_cost or old_cost, units)
            row.on_hand += units

    def holds_stock(self, location_ids: set[str]) -> bool:
        return any(row.on_hand > 0 for key, row in self.rows.items() if key[1] in location_ids)

    def remove_locations(self, location_ids: set[str]) -> None:
        for key in [key for key in self.rows if key[1] in location_ids]:
            del self.rows[key]
