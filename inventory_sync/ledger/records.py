"""Plain values the ledger returns beyond the domain's own types (stdlib only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from inventory_sync.domain.model import RunId, SourceName


@dataclass(frozen=True, slots=True)
class RecordedObservation:
    """One number a source reported for a (warehouse, sku), as the ledger kept it."""

    source: SourceName
    snapshot_id: str
    quantity: int
    observed_at: datetime
    run_id: RunId
