"""The Leases port on SQL: fenced leases and replica heartbeats, one transaction per call."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from inventory_sync.ledger import leases
from inventory_sync.ledger.transactions import Transactions
from inventory_sync.ledger.values import as_utc
from inventory_sync.ports import Lease, Replica


class SqlLeases:
    """Mixed into SqlLedger, which owns the transactions."""

    _tx: Transactions

    def take_lease(self, name: str, holder: str, ttl: timedelta, now: datetime) -> Lease | None:
        with self._tx.write() as conn:
            return leases.take(conn, name, holder, ttl, as_utc(now))

    def renew_lease(self, lease: Lease, ttl: timedelta, now: datetime) -> Lease | None:
        with self._tx.write() as conn:
            return leases.renew(conn, lease, ttl, as_utc(now))

    def release_lease(self, lease: Lease, now: datetime) -> bool:
        with self._tx.write() as conn:
            return leases.release(conn, lease, as_utc(now))

    def leases(self) -> list[Lease]:
        with self._tx.read() as conn:
            return leases.all_leases(conn)

    def lease_history(self, name: str) -> list[Lease]:
        with self._tx.read() as conn:
            return leases.history(conn, name)

    def beat(self, replica: Replica) -> None:
        with self._tx.write() as conn:
            leases.beat(conn, replica)

    def replicas(self) -> list[Replica]:
        with self._tx.read() as conn:
            return leases.replicas(conn)

    def forget_replica(self, replica_id: str) -> None:
        with self._tx.write() as conn:
            leases.forget(conn, replica_id)

    @property
    def shared(self) -> bool:
        """True on a server database that several hosts can share (PostgreSQL)."""
        return self._tx.engine.dialect.name == "postgresql"


if TYPE_CHECKING:  # mypy holds the class to the port; nothing runs
    from inventory_sync.ports import Leases

    def _conforms(store: SqlLeases) -> Leases:
        return store
