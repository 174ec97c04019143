"""Fenced leases and replica heartbeats in SQL: row locks decide, the fence only grows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Connection, RowMapping, delete, insert, select, update

from inventory_sync.errors import LeaseLost
from inventory_sync.ledger.bulk import dialect_insert
from inventory_sync.ledger.tables import LEASE_HISTORY, LEASES, REPLICAS
from inventory_sync.ports import Fence, Lease, Replica

_NEVER = 0  # the fence of a lease row nobody has held yet
# A process frozen inside one of these short transactions (SIGSTOP, a stopped VM) would keep
# its row locks, and no other replica could take the lease or settle the row until it woke.
# PostgreSQL ends such a session after this long idle in its transaction, releasing them.
FROZEN_SESSION_LIMIT = "5s"


def _bounded(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            f"SET LOCAL idle_in_transaction_session_timeout = '{FROZEN_SESSION_LIMIT}'"
        )


def take(conn: Connection, name: str, holder: str, ttl: timedelta, now: datetime) -> Lease | None:
    """Take the lease when free or expired (fence + 1), extend it when ours; else None."""
    _bounded(conn)
    _ensure_row(conn, name, holder, now)
    # SKIP LOCKED: a contender (or a fenced write checking this lease) holds the row right
    # now; rather than queue behind it, this replica simply tries again at its next tick.
    # SQLite ignores FOR UPDATE; its BEGIN IMMEDIATE already makes this transaction the only
    # writer.
    query = select(LEASES).where(LEASES.c.name == name).with_for_update(skip_locked=True)
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    if row.holder == holder and row.fence != _NEVER and row.expires_at > now:
        return _extend(conn, row, ttl, now)
    if row.expires_at > now and row.fence != _NEVER:
        return None
    fence = row.fence + 1
    values = {"holder": holder, "fence": fence, "acquired_at": now, "expires_at": now + ttl}
    conn.execute(update(LEASES).where(LEASES.c.name == name).values(renewed_at=now, **values))
    conn.execute(insert(LEASE_HISTORY).values(name=name, **values))
    return Lease(name, holder, fence, now, now + ttl)


def _ensure_row(conn: Connection, name: str, holder: str, now: datetime) -> None:
    stmt = dialect_insert(conn, LEASES).values(
        name=name, holder=holder, fence=_NEVER, acquired_at=now, renewed_at=now, expires_at=now
    )
    conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))


def _extend(conn: Connection, row: RowMapping, ttl: timedelta, now: datetime) -> Lease:
    conn.execute(
        update(LEASES).where(LEASES.c.name == row.name).values(renewed_at=now, expires_at=now + ttl)
    )
    return Lease(row.name, row.holder, row.fence, row.acquired_at, now + ttl)


def renew(conn: Connection, lease: Lease, ttl: timedelta, now: datetime) -> Lease | None:
    """Extend our unexpired lease; None when it lapsed or another holder has it."""
    _bounded(conn)
    result = conn.execute(
        update(LEASES)
        .where(*_ours(lease), LEASES.c.expires_at > now)
        .values(renewed_at=now, expires_at=now + ttl)
    )
    if result.rowcount != 1:
        return None
    return Lease(lease.name, lease.holder, lease.fence, lease.acquired_at, now + ttl)


def release(conn: Connection, lease: Lease, now: datetime) -> bool:
    """Expire our lease now; the row and its fence stay for the next holder."""
    _bounded(conn)
    result = conn.execute(
        update(LEASES).where(*_ours(lease), LEASES.c.expires_at > now).values(expires_at=now)
    )
    return result.rowcount == 1


def _ours(lease: Lease) -> tuple[ColumnElement[bool], ...]:
    return (
        LEASES.c.name == lease.name,
        LEASES.c.holder == lease.holder,
        LEASES.c.fence == lease.fence,
    )


def check(conn: Connection, fence: Fence, now: datetime) -> None:
    """Raise LeaseLost unless ``fence`` is the lease's current number with ``margin`` left.

    FOR SHARE keeps the row until the caller's write commits, so a takeover cannot commit
    between this check and the write it guards: a new holder never reads the journal while
    an old holder's `sent` mark is still on its way. A holder frozen inside the transaction
    delays a takeover only until PostgreSQL ends its session (FROZEN_SESSION_LIMIT)."""
    _bounded(conn)
    query = select(LEASES).where(LEASES.c.name == fence.lease).with_for_update(read=True)
    row = conn.execute(query).mappings().first()
    if row is None or row.fence != fence.number or row.holder != fence.holder:
        current = None if row is None else row.fence
        raise LeaseLost(fence.lease, fence=fence.number, reason=f"the lease is at {current}")
    if row.expires_at <= now + fence.margin:
        raise LeaseLost(
            fence.lease, fence=fence.number, reason=f"it runs out at {row.expires_at.isoformat()}"
        )


def all_leases(conn: Connection) -> list[Lease]:
    rows = conn.execute(select(LEASES).where(LEASES.c.fence != _NEVER).order_by(LEASES.c.name))
    return [_lease(r) for r in rows.mappings()]


def history(conn: Connection, name: str) -> list[Lease]:
    query = select(LEASE_HISTORY).where(LEASE_HISTORY.c.name == name)
    return [_lease(r) for r in conn.execute(query.order_by(LEASE_HISTORY.c.fence)).mappings()]


def _lease(row: RowMapping) -> Lease:
    return Lease(row.name, row.holder, row.fence, row.acquired_at, row.expires_at)


def beat(conn: Connection, replica: Replica) -> None:
    stmt = dialect_insert(conn, REPLICAS).values(
        replica_id=replica.replica_id,
        host=replica.host,
        pid=replica.pid,
        started_at=replica.started_at,
        heartbeat_at=replica.heartbeat_at,
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["replica_id"], set_={"heartbeat_at": stmt.excluded.heartbeat_at}
        )
    )


def replicas(conn: Connection) -> list[Replica]:
    query = select(REPLICAS).order_by(REPLICAS.c.started_at, REPLICAS.c.replica_id)
    return [
        Replica(r.replica_id, r.host, r.pid, r.started_at, r.heartbeat_at)
        for r in conn.execute(query).mappings()
    ]


def forget(conn: Connection, replica_id: str) -> None:
    conn.execute(delete(REPLICAS).where(REPLICAS.c.replica_id == replica_id))
