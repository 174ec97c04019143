"""Leases held in memory, with the SQL ledger's rules: one holder, expiry frees the lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from inventory_sync.ledger.values import as_utc


@dataclass(frozen=True, slots=True)
class _Lease:
    holder: str
    expires_at: datetime


class MemoryLeases:
    """Named leases in a dict; see `inventory_sync.ledger.locks` for the SQL twin."""

    def __init__(self) -> None:
        self._leases: dict[str, _Lease] = {}

    def acquire(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        now = as_utc(now)
        lease = self._leases.get(name)
        if lease is not None and lease.holder != holder and lease.expires_at > now:
            return False
        self._leases[name] = _Lease(holder, now + ttl)
        return True

    def refresh(self, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
        now = as_utc(now)
        lease = self._leases.get(name)
        if lease is None or lease.holder != holder or lease.expires_at <= now:
            return False
        self._leases[name] = _Lease(holder, now + ttl)
        return True

    def release(self, name: str, holder: str) -> bool:
        lease = self._leases.get(name)
        if lease is None or lease.holder != holder:
            return False
        del self._leases[name]
        return True

    def holder(self, name: str, now: datetime) -> str | None:
        lease = self._leases.get(name)
        return lease.holder if lease and lease.expires_at > as_utc(now) else None
