"""Settle: decide what happened to adjustments whose outcome is unknown, by reading back."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import structlog

from inventory_sync.app import App
from inventory_sync.domain.model import (
    AdjustmentStatus,
    JournalEntry,
    Outcome,
    TransactionType,
)
from inventory_sync.errors import ShipStationError
from inventory_sync.steps.agree import agree_on
from inventory_sync.steps.levels import current_level

log = structlog.get_logger(__name__)


def settle(app: App, entries: Iterable[JournalEntry]) -> list[JournalEntry]:
    """Read each unsettled adjustment's level back and record what it shows; never replay."""
    settled = []
    for entry in entries:
        outcome = _decide(app, entry)
        if outcome is None:
            continue
        if outcome.status is AdjustmentStatus.APPLIED:
            # The agreed level before the outcome, for the reason push gives.
            agree_on(app, entry.adjustment, entry.run_id)
        app.ledger.mark_outcome(entry.adjustment.adjustment_id, outcome)
        if outcome.status is AdjustmentStatus.NEEDS_REVIEW:
            log.error("adjustment.needs_review", **_fields(entry), error=outcome.error)
        else:
            log.info("adjustment.settled", **_fields(entry), status=outcome.status.value)
        settled.append(_with(entry, outcome))
    return settled


def _decide(app: App, entry: JournalEntry) -> Outcome | None:
    now = app.clock.now()
    if entry.status is AdjustmentStatus.PLANNED:
        # Never sent: the new run plans again from fresh numbers.
        return Outcome(AdjustmentStatus.SKIPPED, now, error="never sent; superseded by a later run")
    adjustment = entry.adjustment
    try:
        level = current_level(app.inventory, adjustment.location_id, adjustment.sku)
    except ShipStationError as exc:
        log.warning("adjustment.settle_deferred", **_fields(entry), error=str(exc))
        return None
    if level == adjustment.after:
        return Outcome(AdjustmentStatus.APPLIED, now, response=f"read back on_hand={level}")
    if adjustment.transaction_type is TransactionType.ADJUST or level == adjustment.before:
        # An adjust that did not land is simply planned again; so is a delta that left no trace.
        return Outcome(
            AdjustmentStatus.FAILED, now, error=f"not applied (read back on_hand={level})"
        )
    return Outcome(
        AdjustmentStatus.NEEDS_REVIEW,
        now,
        error=(
            f"read back on_hand={level}, expected {adjustment.after} if applied or "
            f"{adjustment.before} if not; other changes make it undecidable"
        ),
    )


def _with(entry: JournalEntry, outcome: Outcome) -> JournalEntry:
    return replace(entry, status=outcome.status, settled_at=outcome.at, error=outcome.error)


def _fields(entry: JournalEntry) -> dict[str, str]:
    adjustment = entry.adjustment
    return {
        "adjustment_id": adjustment.adjustment_id,
        "warehouse": adjustment.warehouse,
        "sku": adjustment.sku,
        "from_run": entry.run_id,
    }
