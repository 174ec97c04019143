"""The Leases port in memory, with the SQL rules: one holder, a fence that only grows."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from inventory_sync.errors import LeaseLost
from inventory_sync.ledger.values import as_utc
from inventory_sync.ports import Fence, Lease, Replica


class MemoryReplicas:
    """Mixed into MemoryLedger; see `inventory_sync.ledger.leases` for the SQL twin."""

    def __init__(self) -> None:
        self._leases: dict[str, Lease] = {}
        self._history: dict[str, list[Lease]] = {}
        self._replicas: dict[str, Replica] = {}

    def take_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> Lease | None:
        now = as_utc(now)
        current = self._leases.get(name)
        if current is not None and current.held_at(now):
            if current.holder != holder:
                return None
            extended = replace(current, expires_at=now + ttl)
            self._leases[name] = extended
            return extended
        fence = 1 if current is None else current.fence + 1
        lease = Lease(name, holder, fence, now, now + ttl)
        self._leases[name] = lease
        self._history.setdefault(name, []).append(lease)
        return lease

    def renew_lease(self, lease: Lease, ttl: timedelta, now: datetime) -> Lease | None:
        now = as_utc(now)
        current = self._leases.get(lease.name)
        if current is None or not _same(current, lease) or not current.held_at(now):
            return None
        self._leases[lease.name] = replace(current, expires_at=now + ttl)
        return self._leases[lease.name]

    def release_lease(self, lease: Lease, now: datetime) -> bool:
        now = as_utc(now)
        current = self._leases.get(lease.name)
        if current is None or not _same(current, lease) or not current.held_at(now):
            return False
        self._leases[lease.name] = replace(current, expires_at=now)
        return True

    def leases(self) -> list[Lease]:
        return [self._leases[name] for name in sorted(self._leases)]

    def lease_history(self, name: str) -> list[Lease]:
        return list(self._history.get(name, ()))

    def beat(self, replica: Replica) -> None:
        known = self._replicas.get(replica.replica_id)
        started = replica.started_at if known is None else known.started_at
        self._replicas[replica.replica_id] = replace(replica, started_at=started)

    def replicas(self) -> list[Replica]:
        return sorted(self._replicas.values(), key=lambda r: (r.started_at, r.replica_id))

    def forget_replica(self, replica_id: str) -> None:
        self._replicas.pop(replica_id, None)

    def check_fence(self, fence: Fence | None, now: datetime) -> None:
        """Raise LeaseLost unless ``fence`` is current with its margin left (as SQL does)."""
        if fence is None:
            return
        current = self._leases.get(fence.lease)
        if current is None or (current.fence, current.holder) != (fence.number, fence.holder):
            at = None if current is None else current.fence
            raise LeaseLost(fence.lease, fence=fence.number, reason=f"the lease is at {at}")
        if current.expires_at <= as_utc(now) + fence.margin:
            raise LeaseLost(
                fence.lease,
                fence=fence.number,
                reason=f"it runs out at {current.expires_at.isoformat()}",
            )


def _same(current: Lease, lease: Lease) -> bool:
    return (current.holder, current.fence) == (lease.holder, lease.fence)


if TYPE_CHECKING:  # mypy holds the class to the port; nothing runs
    from inventory_sync.ports import Leases

    def _conforms(store: MemoryReplicas) -> Leases:
        return store
