"""Engines for the ledger: SQLite tuned for one careful writer, or PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from inventory_sync.errors import LedgerError

BUSY_TIMEOUT_MS = 30_000  # wait this long for another process's write before giving up
READ_ONLY = {"ledger_read_only": True}  # execution option: a plain deferred BEGIN will do


def ledger_url_from(path_or_url: str) -> str:
    """Turn a bare filesystem path into a SQLite URL; pass URLs through unchanged."""
    if "://" in path_or_url:
        return path_or_url
    return f"sqlite:///{Path(path_or_url).expanduser().resolve()}"


def create_ledger_engine(url: str) -> Engine:
    """Build the engine for a ledger URL (or bare path), configured for durability."""
    url = ledger_url_from(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise LedgerError(f"not a database URL: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database)
    return create_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:  # noqa: ANN401
    # Python 3.11's sqlite3 has no `autocommit` attribute; turning off its own BEGIN handling
    # lets us emit BEGIN ourselves (SQLAlchemy's documented pysqlite recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives power loss
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead of
    # one failing with SQLITE_BUSY when a deferred read lock cannot be upgraded mid-transaction.
    if conn.get_execution_options().get("ledger_read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
