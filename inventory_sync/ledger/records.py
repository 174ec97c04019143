"""Plain values the ledger returns; they live in the domain, re-exported here for the ledger."""

from __future__ import annotations

from inventory_sync.domain.model import RecordedObservation

__all__ = ["RecordedObservation"]
