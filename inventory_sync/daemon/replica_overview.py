"""The replicas part of `status`: who is alive, and who holds which lease."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from inventory_sync.ports import Leases


def replicas_json(store: Leases, lease_ttl: timedelta, now: datetime) -> list[dict[str, Any]]:
    """Each replica with a heartbeat; ``stale`` once it has been silent for a whole lease."""
    return [
        {
            "replica": r.replica_id,
            "host": r.host,
            "pid": r.pid,
            "started_at": r.started_at.isoformat(),
            "heartbeat_at": r.heartbeat_at.isoformat(),
            "heartbeat_age_seconds": round((now - r.heartbeat_at).total_seconds(), 1),
            # A replica killed outright leaves its row; silence longer than a lease is death.
            "stale": now - r.heartbeat_at >= lease_ttl,
        }
        for r in store.replicas()
    ]


def leases_json(store: Leases, now: datetime) -> list[dict[str, Any]]:
    """Each lease: its holder and fence, and whether that holder's time is still running."""
    return [
        {
            "lease": x.name,
            "holder": x.holder,
            "fence": x.fence,
            "held": x.held_at(now),
            "acquired_at": x.acquired_at.isoformat(),
            "expires_at": x.expires_at.isoformat(),
        }
        for x in store.leases()
    ]
