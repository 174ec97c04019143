"""Apply a reviewed plan exactly: re-read each SKU first, skip (on record) what moved since."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import structlog

from inventory_sync.app import App
from inventory_sync.domain.model import (
    Adjustment,
    AdjustmentStatus,
    Levels,
    Outcome,
    RunId,
    SnapshotUse,
    Warehouse,
    WarehouseTarget,
)
from inventory_sync.errors import UsageError
from inventory_sync.ports import Fence

log = structlog.get_logger(__name__)


def check_plan_targets(
    adjustments: Sequence[Adjustment], targets: Sequence[WarehouseTarget]
) -> None:
    """A plan may only write where the configuration says: same warehouse, same location."""
    where = {t.name: t.location_id for t in targets}
    for a in adjustments:
        if where.get(a.warehouse) != a.location_id:
            raise UsageError(
                f"plan adjustment {a.adjustment_id} writes to {a.warehouse}/{a.location_id}, "
                f"which the configuration does not map (configured: {where})"
            )


def still_current(
    app: App,
    run_id: RunId,
    adjustments: Sequence[Adjustment],
    levels: Mapping[Warehouse, Levels],
    *,
    fence: Fence | None = None,
    uses: Sequence[SnapshotUse] = (),
) -> list[Adjustment]:
    """The adjustments whose SKU still has the level the plan saw; the rest are recorded skipped.

    ``levels``: ShipStation's levels now, per warehouse. Adjustments the ledger already holds
    (a plan applied twice) are left out: each id is sent at most once. ``uses``, the change
    files the plan was made from, are counted with it, rows skipped or not: a row skipped
    because ShipStation moved must not be applied from that file by the next run either.
    """
    known = {e.adjustment.adjustment_id for e in app.ledger.journal()}
    fresh = [a for a in adjustments if a.adjustment_id not in known]
    for a in adjustments:
        if a.adjustment_id in known:
            log.warning("plan.already_applied", adjustment_id=a.adjustment_id, sku=a.sku)
    app.ledger.record_planned(run_id, fresh, at=app.clock.now(), fence=fence, uses=uses)
    keep = []
    for a in fresh:
        now = levels[a.warehouse].on_hand.get(a.sku)
        if now == a.before:
            keep.append(a)
            continue
        reason = f"ShipStation moved from {a.before} to {now} since the plan was made"
        log.warning("plan.row_skipped", adjustment_id=a.adjustment_id, sku=a.sku, reason=reason)
        app.ledger.mark_outcome(
            a.adjustment_id, Outcome(AdjustmentStatus.SKIPPED, app.clock.now(), error=reason)
        )
    return keep
