"""Drift: what a dry run would change, summarised in one event with the worst SKUs."""

from __future__ import annotations

import structlog

from inventory_sync.domain.model import JournalEntry
from inventory_sync.report import RunReport

log = structlog.get_logger(__name__)
WORST_SHOWN = 10  # enough to act on; the full list is one `reconcile --dry-run` away


def report_drift(report: RunReport) -> None:
    """Log drift.detected when any level differs from its source, else drift.scanned."""
    entries = sorted(report.entries, key=_size, reverse=True)
    if not entries:
        log.info("drift.scanned", skus_differing=0, unchanged=report.unchanged)
        return
    warehouses = sorted({e.adjustment.warehouse for e in entries})
    log.warning(
        "drift.detected",
        skus_differing=len(entries),
        units_differing=sum(_size(e) for e in entries),
        unchanged=report.unchanged,
        warehouses=warehouses,
        worst=[
            {
                "warehouse": e.adjustment.warehouse,
                "sku": e.adjustment.sku,
                "shipstation": e.adjustment.before,
                "source": e.adjustment.after,
            }
            for e in entries[:WORST_SHOWN]
        ],
    )


def _size(entry: JournalEntry) -> int:
    return abs(entry.adjustment.after - (entry.adjustment.before or 0))
