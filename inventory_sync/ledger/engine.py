"""Engines for the ledger: SQLite tuned for one careful writer, or PostgreSQL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import ConnectionPoolEntry

from inventory_sync.errors import LedgerError
from inventory_sync.ledger.urls import ledger_url_problem

BUSY_TIMEOUT_MS = 30_000  # wait this long for another process's write before giving up
READ_ONLY = {"ledger_read_only": True}  # execution option: a plain deferred BEGIN will do


# What a driver's words mean for the person who has to fix it.
_HINTS = (
    (
        ("unable to open database file", "readonly database", "read-only file system"),
        (
            "it cannot be written there: check that its directory exists, that this user may "
            "write to it, and that the file system is not read-only"
        ),
    ),
    (
        ("database or disk is full", "disk i/o error", "no space left"),
        "the disk holding it may be full: free some space",
    ),
    (
        ("database is locked",),
        (
            f"another process held its write lock for over {BUSY_TIMEOUT_MS // 1000} s: "
            "is a tool holding it open, or another inventory-sync stuck?"
        ),
    ),
)


def describe_failure(exc: Exception, engine: Engine) -> str:
    """Where the ledger is and what went wrong, in the driver's words plus what to check."""
    detail = str(getattr(exc, "orig", None) or exc)  # without SQLAlchemy's "Background" link
    place = sqlite_file(str(engine.url)) or engine.url.render_as_string(hide_password=True)
    lowered = detail.lower()
    hint = next((h for keys, h in _HINTS if any(k in lowered for k in keys)), None)
    return f"{place}: {detail}" + (f" ({hint})" if hint else "")


def ledger_url_from(path_or_url: str) -> str:
    """Turn a plain file path into a SQLite URL; pass URLs through unchanged.

    Raises LedgerError, naming the value and the accepted forms, for anything else (the
    configuration and `db upgrade --url` check the same first, as configuration errors)."""
    problem = ledger_url_problem(path_or_url)
    if problem is not None:
        raise LedgerError(problem)
    if "://" in path_or_url:
        return path_or_url
    return f"sqlite:///{Path(path_or_url).expanduser().resolve()}"


def sqlite_file(url: str) -> Path | None:
    """The database file a SQLite URL (or bare path) names; None for PostgreSQL."""
    parsed = make_url(ledger_url_from(url))
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database:
        return None
    return None if database.startswith("file:") else Path(database)


def create_ledger_engine(url: str) -> Engine:
    """Build the engine for a ledger URL (or bare path), configured for durability."""
    url = ledger_url_from(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    shown = parsed.render_as_string(hide_password=True)
    try:
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        # A driver that is not installed (psycopg comes with the `postgres` extra).
        raise LedgerError(f"cannot use {shown}: {exc}") from exc


def _sqlite_engine(url: str) -> Engine:
    path = sqlite_file(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LedgerError(
                f"cannot create the ledger's directory {path.parent} ({exc.strerror}); "
                "set state_dir or ledger.url to a place this user may write"
            ) from exc
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
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives power loss
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    # WAL is a property of the file, so this only matters the first time. Switching needs an
    # exclusive lock and SQLite answers "locked" at once instead of calling the busy handler,
    # so a second process opening a brand-new ledger retries here for up to the busy timeout.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        else:
            return


def _begin_sqlite_transaction(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead of
    # one failing with SQLITE_BUSY when a deferred read lock cannot be upgraded mid-transaction.
    if conn.get_execution_options().get("ledger_read_only"):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
