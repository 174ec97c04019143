"""JSON shapes of the inventory API, both ways: model values to wire bodies and back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from inventory_sync.errors import RequestRejected
from inventory_sync.shipstation.models import (
    TRANSACTION_TYPES,
    Condition,
    InventoryLevel,
    InventoryLocation,
    InventoryUpdate,
    InventoryWarehouse,
    Money,
)

JsonObject = dict[str, Any]

_REQUIRED_UPDATE_FIELDS = ("transaction_type", "sku", "quantity", "inventory_location_id")
_MONEY_FIELDS = frozenset({"cost", "new_cost"})
_CONDITION_FIELDS = frozenset({"condition", "new_condition"})
_UPDATE_FIELDS = tuple(f.name for f in fields(InventoryUpdate))


def money_to_json(money: Money) -> JsonObject:
    return {"amount": money.amount, "currency": money.currency}


def update_to_body(update: InventoryUpdate) -> JsonObject:
    """Render an update as the POST body: None fields are omitted, nothing else is added."""
    body: JsonObject = {}
    for name in _UPDATE_FIELDS:
        value = getattr(update, name)
        if value is None:
            continue
        if isinstance(value, Money):
            body[name] = money_to_json(value)
        elif isinstance(value, Condition):
            body[name] = value.value
        else:
            body[name] = value
    return body


def _invalid(message: str, code: str = "invalid_field_value") -> RequestRejected:
    return RequestRejected(message, status_code=400, error_code=code, error_type="validation")


def _money_from_json(name: str, raw: object) -> Money:
    if not isinstance(raw, Mapping):
        raise _invalid(f"{name} must be an object with amount and currency")
    amount, currency = raw.get("amount"), raw.get("currency")
    if not isinstance(amount, int | float) or not isinstance(currency, str):
        raise _invalid(f"{name} needs a numeric amount and a string currency")
    return Money(float(amount), currency)


def _condition_from_json(name: str, raw: object) -> Condition:
    try:
        return Condition(str(raw))
    except ValueError:
        raise _invalid(f"{name} must be one of {[c.value for c in Condition]}") from None


def _field_from_json(name: str, raw: object) -> object:
    if name in _MONEY_FIELDS:
        return _money_from_json(name, raw)
    if name in _CONDITION_FIELDS:
        return _condition_from_json(name, raw)
    if name == "quantity":
        # bool is an int in Python but never a quantity on the wire.
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise _invalid("quantity must be an integer")
        return raw
    if not isinstance(raw, str):
        raise _invalid(f"{name} must be a string")
    return raw


def update_from_body(body: object) -> InventoryUpdate:
    """Parse and validate a POST /v2/inventory body (the emulator's side)."""
    if not isinstance(body, Mapping):
        raise _invalid("request body must be a JSON object", "request_body_required")
    missing = [name for name in _REQUIRED_UPDATE_FIELDS if body.get(name) is None]
    if missing:
        raise _invalid(f"missing required field(s): {', '.join(missing)}", "field_value_required")
    if body["transaction_type"] not in TRANSACTION_TYPES:
        raise _invalid(f"transaction_type must be one of {sorted(TRANSACTION_TYPES)}")
    values = {
        name: _field_from_json(name, body[name])
        for name in _UPDATE_FIELDS
        if body.get(name) is not None
    }
    return InventoryUpdate(**values)  # type: ignore[arg-type]


def _optional_str(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    return None if value is None else str(value)


def level_from_json(raw: Mapping[str, Any]) -> InventoryLevel:
    """Read one inventory row; a missing and a null location id are read alike."""
    cost = raw.get("average_cost")
    on_hand = int(raw.get("on_hand") or 0)
    allocated = int(raw.get("allocated") or 0)
    available = raw.get("available")
    return InventoryLevel(
        sku=str(raw["sku"]),
        on_hand=on_hand,
        allocated=allocated,
        available=on_hand - allocated if available is None else int(available),
        inventory_warehouse_id=_optional_str(raw, "inventory_warehouse_id"),
        inventory_location_id=_optional_str(raw, "inventory_location_id"),
        average_cost=_money_from_json("average_cost", cost) if cost else None,
    )


def level_to_json(level: InventoryLevel) -> JsonObject:
    body: JsonObject = {
        "sku": level.sku,
        "on_hand": level.on_hand,
        "allocated": level.allocated,
        "available": level.available,
    }
    if level.average_cost is not None:
        body["average_cost"] = money_to_json(level.average_cost)
    if level.inventory_warehouse_id is not None:
        body["inventory_warehouse_id"] = level.inventory_warehouse_id
    if level.inventory_location_id is not None:
        body["inventory_location_id"] = level.inventory_location_id
    return body


def warehouse_from_json(raw: Mapping[str, Any]) -> InventoryWarehouse:
    return InventoryWarehouse(
        inventory_warehouse_id=str(raw["inventory_warehouse_id"]),
        name=str(raw.get("name") or ""),
        created_at=_optional_str(raw, "created_at"),
        updated_at=_optional_str(raw, "updated_at"),
    )


def location_from_json(raw: Mapping[str, Any]) -> InventoryLocation:
    return InventoryLocation(
        inventory_location_id=str(raw["inventory_location_id"]),
        name=str(raw.get("name") or ""),
        inventory_warehouse_id=str(raw["inventory_warehouse_id"]),
        created_at=_optional_str(raw, "created_at"),
        updated_at=_optional_str(raw, "updated_at"),
        barcode=_optional_str(raw, "barcode"),
    )


def record_to_json(record: InventoryWarehouse | InventoryLocation) -> JsonObject:
    """Render a warehouse or location as the API does: None fields left out."""
    return {f.name: getattr(record, f.name) for f in fields(record) if getattr(record, f.name)}
