"""Manual adjustments: an operator's change, journaled and pushed like every other."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from inventory_sync.domain.model import Adjustment, RunId, Sku, TransactionType, WarehouseTarget
from inventory_sync.domain.rules import adjustment_id
from inventory_sync.errors import UsageError
from inventory_sync.ports import InventoryApi
from inventory_sync.steps.levels import current_level

REASONS = ("sale", "return", "damage", "count", "manual")


@dataclass(frozen=True, slots=True)
class ManualChange:
    """What the operator asked for: set to, add or remove a number of units."""

    sku: Sku
    kind: TransactionType  # ADJUST for --set, INCREMENT for --add, DECREMENT for --remove
    quantity: int
    reason: str
    note: str | None = None


def manual_adjustment(
    inventory: InventoryApi, run_id: RunId, target: WarehouseTarget, change: ManualChange
) -> Adjustment:
    """The journal entry for the change, with ShipStation's level now as its `before`."""
    before = current_level(inventory, target.location_id, change.sku)
    after = _after(change, before)
    basis = {
        "reason": change.reason,
        "note": change.note,
        "operator": operator(),
        "before": before,
    }
    return Adjustment(
        adjustment_id=adjustment_id(
            run_id, target.name, change.sku, change.kind, quantity=change.quantity, after=after
        ),
        warehouse=target.name,
        location_id=target.location_id,
        sku=change.sku,
        transaction_type=change.kind,
        quantity=change.quantity,
        before=before,
        after=after,
        rule=f"manual:{change.reason}",
        basis=basis,
    )


def _after(change: ManualChange, before: int | None) -> int:
    current = before or 0
    if change.kind is TransactionType.ADJUST:
        return change.quantity
    if change.kind is TransactionType.INCREMENT:
        return current + change.quantity
    if change.quantity > current:
        raise UsageError(
            f"cannot remove {change.quantity} of {change.sku}: ShipStation holds {current}"
        )
    return current - change.quantity


def operator() -> str:
    """The login name of the person at the keyboard, for the audit trail."""
    try:
        return getpass.getuser()
    except OSError:  # no login name (a container with an unnamed uid)
        return "unknown"
