"""Observed movements: changes in ShipStation that inventory-sync did not make (sales, edits)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import structlog

from inventory_sync.app import App
from inventory_sync.domain.model import (
    AdjustmentStatus,
    JournalEntry,
    Levels,
    Movement,
    RunId,
    Sku,
    Warehouse,
)

log = structlog.get_logger(__name__)
_EXAMPLES = 5


def observe_movements(
    app: App,
    run_id: RunId,
    warehouse: Warehouse,
    levels: Levels,
    *,
    skip: Collection[Sku] = (),
    only: Collection[str] | None = None,
) -> list[Movement]:
    """Compare ShipStation now with what the last run saw or left; record what else moved.

    ``skip``: SKUs whose earlier change was only now settled (their move was ours).
    ``only``: the SKUs `levels` covers, when the run read only some; None: every SKU.
    """
    seen = app.ledger.seen_levels(warehouse)
    if not seen:
        return []  # first sight of this warehouse: nothing to compare with
    now = app.clock.now()
    # Only SKUs seen before are compared: a run killed half-way leaves a partial picture,
    # and a SKU it never recorded has no "before" to move from.
    on_hand = levels.on_hand.get
    moved = [
        Movement(warehouse, sku, seen[sku], on_hand(sku), now, run_id)
        for sku in sorted(seen)
        if sku not in skip and (only is None or sku in only) and seen[sku] != (on_hand(sku) or 0)
    ]
    if moved:
        app.ledger.record_movements(moved)
        log.info(
            "shipstation.movements_observed",
            warehouse=warehouse,
            count=len(moved),
            examples=[f"{m.sku}: {m.before} -> {m.after}" for m in moved[:_EXAMPLES]],
        )
    return moved


def remember_levels(
    app: App,
    run_id: RunId,
    warehouse: Warehouse,
    levels: Levels,
    entries: Sequence[JournalEntry],
) -> None:
    """Store what ShipStation holds after this run: what was read, moved by what was applied."""
    after = dict(levels.on_hand)
    for entry in entries:
        if entry.status is AdjustmentStatus.APPLIED and entry.adjustment.warehouse == warehouse:
            after[entry.adjustment.sku] = entry.adjustment.after
    # Reading what is stored is far cheaper than upserting every SKU of the warehouse each run.
    seen = app.ledger.seen_levels(warehouse)
    changed = {sku: q for sku, q in after.items() if seen.get(sku) != q}
    if changed:
        app.ledger.record_seen_levels(warehouse, changed, at=app.clock.now(), run_id=run_id)
