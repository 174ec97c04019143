"""Plain values the ledger returns; they live in the domain, re-exported here for the ledger."""

from __future__ import annotations

from inventory_sync.domain.model import RecordedObservation, RecordedRejection

__all__ = ["RecordedObservation", "RecordedRejection"]
