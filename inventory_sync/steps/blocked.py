"""SKUs held back from planning: their last change's outcome is not known yet."""

from __future__ import annotations

from collections.abc import Collection

import structlog

from inventory_sync.app import App
from inventory_sync.domain.model import AdjustmentStatus, Hold, JournalEntry, Sku, Warehouse

log = structlog.get_logger(__name__)
Blocked = dict[Warehouse, dict[Sku, Hold]]


def blocked_skus(app: App, warehouses: Collection[str]) -> Blocked:
    """A SKU whose earlier change is still unsettled, or was left for review, is not planned.

    Planning it from the old agreed level would push a delta that may already have landed:
    a blind replay. It stays held until its change settles or a person resolves it.
    """
    blocked: Blocked = {}
    for entry in app.ledger.unsettled():
        _hold(blocked, warehouses, entry, "is still unsettled (it could not be read back yet)")
    for entry in app.ledger.journal(status=AdjustmentStatus.NEEDS_REVIEW):
        _hold(
            blocked,
            warehouses,
            entry,
            "needs review; after checking ShipStation run `inventory-sync resolve "
            f"{entry.adjustment.adjustment_id} --applied` (or --not-applied)",
        )
    return blocked


def _hold(blocked: Blocked, warehouses: Collection[str], entry: JournalEntry, why: str) -> None:
    adjustment = entry.adjustment
    if adjustment.warehouse not in warehouses:
        return
    reason = f"its change {adjustment.adjustment_id} (run {entry.run_id}) {why}"
    hold = Hold(f"sku:{adjustment.warehouse}/{adjustment.sku}", reason)
    if blocked.setdefault(adjustment.warehouse, {}).setdefault(adjustment.sku, hold) is hold:
        log.warning(
            "sku.held",
            warehouse=adjustment.warehouse,
            sku=adjustment.sku,
            adjustment_id=adjustment.adjustment_id,
            reason=reason,
        )
