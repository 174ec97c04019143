"""SKUs held back from planning: their last change's outcome is not known yet."""

from __future__ import annotations

from collections.abc import Collection, Sequence

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
    _quarantine(app, warehouses, blocked)
    return blocked


def _quarantine(app: App, warehouses: Collection[str], blocked: Blocked) -> None:
    """A SKU whose last ``max_attempts`` changes all failed is quarantined until released."""
    failing: dict[tuple[Warehouse, Sku], int] = {}
    for entry in app.ledger.journal(status=AdjustmentStatus.FAILED):
        key = (entry.adjustment.warehouse, entry.adjustment.sku)
        failing[key] = failing.get(key, 0) + 1
    for (warehouse, sku), count in failing.items():
        if count < app.max_attempts or warehouse not in warehouses:
            continue
        history = [e for e in app.ledger.journal(sku=sku) if e.adjustment.warehouse == warehouse]
        streak = consecutive_failures(history)
        if len(streak) >= app.max_attempts:
            last = streak[-1]
            why = (
                f"is the last of {len(streak)} failed attempts ({last.error}); quarantined: fix "
                f"the cause, then `inventory-sync release {sku} -w {warehouse}` "
                f"(`inventory-sync support-bundle {last.adjustment.adjustment_id}` for support)"
            )
            _hold(blocked, warehouses, last, why)


def consecutive_failures(history: Sequence[JournalEntry]) -> list[JournalEntry]:
    """The failed entries at the end of a SKU's history, oldest first."""
    streak: list[JournalEntry] = []
    for entry in reversed(history):
        if entry.status is not AdjustmentStatus.FAILED:
            break
        streak.append(entry)
    return streak[::-1]


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
