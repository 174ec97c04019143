"""Agreed levels: what each SKU last agreed with its source, advanced as each change lands."""

from __future__ import annotations

from inventory_sync.app import App
from inventory_sync.domain.model import Adjustment, RunId


def agreed_value(adjustment: Adjustment) -> int | None:
    """The source value an applied adjustment brought ShipStation in line with."""
    value = adjustment.basis.get("source_value")
    if isinstance(value, int):
        return value
    if adjustment.rule.endswith("zero_absent"):
        return 0
    return None


def agree_on(app: App, adjustment: Adjustment, run_id: RunId) -> None:
    """Record the agreed level, and the level ShipStation now holds, the moment an adjustment
    is known to be applied.

    Doing it per adjustment, not at the end of the run, is what keeps a delta from being
    applied twice when a run dies half-way: the next run starts from the new agreed level;
    and it keeps the next run from mistaking this change for someone else's movement.
    """
    now = app.clock.now()
    value = agreed_value(adjustment)
    if value is not None:
        app.ledger.record_agreed(adjustment.warehouse, {adjustment.sku: value}, at=now)
    app.ledger.record_seen_levels(
        adjustment.warehouse, {adjustment.sku: adjustment.after}, at=now, run_id=run_id
    )
