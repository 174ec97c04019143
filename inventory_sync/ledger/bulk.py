"""Batched writes: observations, quarantined rows, planned adjustments, and portable upserts."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, Table, insert
from sqlalchemy.dialects import postgresql, sqlite

from inventory_sync.domain.model import RunId, Snapshot
from inventory_sync.errors import LedgerError
from inventory_sync.ledger.tables import OBSERVATIONS
from inventory_sync.ledger.values import as_utc

T = TypeVar("T")
CHUNK = 50_000  # rows per executemany: bounds memory while keeping per-call overhead small

_OBSERVATION_COLUMNS = (
    "run_id",
    "source",
    "snapshot_id",
    "completeness",
    "observed_at",
    "warehouse",
    "sku",
    "quantity",
)


def chunked(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    """Yield lists of at most `size` items (itertools.batched arrived only in 3.12)."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def insert_observations(
    conn: Connection, run_id: RunId, snapshot: Snapshot, *, observed_at: datetime
) -> int:
    """Insert a snapshot's observations in chunks; return how many were written."""
    constants = (run_id, snapshot.source, snapshot.snapshot_id, snapshot.completeness.value)
    if conn.dialect.name == "sqlite":
        return _insert_observations_sqlite(conn, snapshot, constants, observed_at)
    if conn.dialect.name == "postgresql":
        return _copy_observations_postgresql(conn, snapshot, constants, observed_at)
    written = 0
    names = _OBSERVATION_COLUMNS
    for chunk in chunked(_fields(snapshot)):
        conn.execute(
            insert(OBSERVATIONS),
            [dict(zip(names, (*constants, observed_at, *row), strict=True)) for row in chunk],
        )
        written += len(chunk)
    return written


def _insert_observations_sqlite(
    conn: Connection, snapshot: Snapshot, constants: tuple[str, ...], observed_at: datetime
) -> int:
    # The hot path: plain tuples straight to sqlite3's executemany. The columns shared by every
    # row go through the column type once, so they are stored exactly as Core would store them.
    head = (*constants, bind(conn, OBSERVATIONS.c.observed_at, observed_at))
    marks = ", ".join("?" * len(_OBSERVATION_COLUMNS))
    sql = f"INSERT INTO observations ({', '.join(_OBSERVATION_COLUMNS)}) VALUES ({marks})"  # noqa: S608  (fixed names)
    written = 0
    for warehouse, rows in snapshot.rows.items():
        shared = (*head, warehouse)
        for chunk in chunked(rows.items()):
            conn.exec_driver_sql(sql, [(*shared, sku, quantity) for sku, quantity in chunk])
            written += len(chunk)
    return written


def _copy_observations_postgresql(
    conn: Connection, snapshot: Snapshot, constants: tuple[str, ...], observed_at: datetime
) -> int:
    # COPY is several times faster than even batched INSERTs on PostgreSQL. It runs on the
    # driver connection inside the caller's transaction, so it commits or rolls back with it.
    head = (*constants, as_utc(observed_at))
    sql = f"COPY observations ({', '.join(_OBSERVATION_COLUMNS)}) FROM STDIN"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    written = 0
    with cursor, cursor.copy(sql) as copy:
        for warehouse, rows in snapshot.rows.items():
            shared = (*head, warehouse)
            for sku, quantity in rows.items():
                copy.write_row((*shared, sku, quantity))
            written += len(rows)
    return written


def _fields(snapshot: Snapshot) -> Iterator[tuple[str, str, int]]:
    """(warehouse, sku, quantity) for every row, straight from the snapshot's dicts."""
    for warehouse, rows in snapshot.rows.items():
        for sku, quantity in rows.items():
            yield warehouse, sku, quantity


def bind(conn: Connection, column: Column[Any], value: object) -> object:
    """`value` as the driver will receive it for `column` (type conversions applied)."""
    processor = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    return processor(value) if processor else value


def insert_rows(conn: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Core executemany in chunks; return rows written."""
    written = 0
    for chunk in chunked(rows):
        conn.execute(insert(table), chunk)
        written += len(chunk)
    return written


def dialect_insert(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that knows ON CONFLICT, for the two dialects the ledger supports."""
    match conn.dialect.name:
        case "sqlite":
            return sqlite.insert(table)
        case "postgresql":
            return postgresql.insert(table)
        case other:
            raise LedgerError(f"the ledger supports sqlite and postgresql, not {other}")


def insert_ignoring(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, leaving any whose primary key already exists untouched."""
    keys = [c.name for c in table.primary_key.columns]
    for chunk in chunked(rows):
        conn.execute(dialect_insert(conn, table).on_conflict_do_nothing(index_elements=keys), chunk)


def upsert(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows, overwriting the non-key columns of any that already exist."""
    keys = [c.name for c in table.primary_key.columns]
    for chunk in chunked(rows):
        stmt = dialect_insert(conn, table)
        changes = {name: stmt.excluded[name] for name in chunk[0] if name not in keys}
        conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changes), chunk)
