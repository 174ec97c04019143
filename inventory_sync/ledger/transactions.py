"""One transaction per ledger call, with driver failures turned into LedgerError."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, Select
from sqlalchemy.exc import SQLAlchemyError

from inventory_sync.errors import LedgerError
from inventory_sync.ledger.engine import READ_ONLY, describe_failure


class Transactions:
    """Opens write transactions (IMMEDIATE on SQLite) and plain read ones on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = engine.execution_options(**READ_ONLY)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits on success and rolls back on any exception."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger write failed: {describe_failure(exc, self.engine)}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A deferred transaction: it never takes SQLite's write lock."""
        try:
            with self._reader.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise LedgerError(f"ledger read failed: {describe_failure(exc, self.engine)}") from exc

    def fetch(self, query: Select[Any]) -> list[RowMapping]:
        """Every row of a query, as mappings."""
        with self.read() as conn:
            return list(conn.execute(query).mappings())
