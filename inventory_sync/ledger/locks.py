"""Named leases in the ledger: one holder at a time, and a crashed holder's lease runs out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, or_, select, update

from inventory_sync.ledger.bulk import dialect_insert
from inventory_sync.ledger.tables import LOCKS


def acquire(conn: Connection, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Take the lock unless someone else holds an unexpired lease; True when we hold it."""
    stmt = dialect_insert(conn, LOCKS).values(
        name=name, holder=holder, acquired_at=now, expires_at=now + ttl
    )
    # One statement decides: insert when free, take over only an expired (or our own) lease.
    # Concurrent callers serialise on the row, so exactly one of them ends up the holder.
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={
            "holder": stmt.excluded.holder,
            "acquired_at": stmt.excluded.acquired_at,
            "expires_at": stmt.excluded.expires_at,
        },
        where=or_(LOCKS.c.expires_at <= now, LOCKS.c.holder == holder),
    )
    conn.execute(stmt)
    return holder_of(conn, name) == holder


def refresh(conn: Connection, name: str, holder: str, ttl: timedelta, now: datetime) -> bool:
    """Extend our own unexpired lease; False when it lapsed or was never ours."""
    result = conn.execute(
        update(LOCKS)
        .where(LOCKS.c.name == name, LOCKS.c.holder == holder, LOCKS.c.expires_at > now)
        .values(expires_at=now + ttl)
    )
    return result.rowcount == 1


def release(conn: Connection, name: str, holder: str) -> bool:
    """Give the lock up if we hold it; True when a lease was removed."""
    result = conn.execute(delete(LOCKS).where(LOCKS.c.name == name, LOCKS.c.holder == holder))
    return result.rowcount == 1


def holder_of(conn: Connection, name: str, now: datetime | None = None) -> str | None:
    """Who holds the lock (ignoring expired leases when `now` is given)."""
    query = select(LOCKS.c.holder).where(LOCKS.c.name == name)
    if now is not None:
        query = query.where(LOCKS.c.expires_at > now)
    return conn.execute(query).scalar_one_or_none()
