"""Ledger fixtures: every Ledger implementation behind one `backend` fixture."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.ledger.repository import open_ledger


@dataclass
class Backend:
    """A store, and a way to open ledgers on it; a `durable` store survives a reopen."""

    name: str
    url: str | None
    durable: bool
    _open: Callable[[], object]
    opened: list[object] = field(default_factory=list)

    def ledger(self):
        """Open another ledger on the same store (the same object for memory)."""
        ledger = self._open()
        self.opened.append(ledger)
        return ledger

    def close_all(self) -> None:
        for ledger in self.opened:
            ledger.close()


@pytest.fixture
def pg_schema_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a scratch schema, dropped after the test."""
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = sa.make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _memory_backend() -> Backend:
    ledger = MemoryLedger()
    return Backend("memory", None, durable=False, _open=lambda: ledger)


def _sql_backend(name: str, url: str) -> Backend:
    return Backend(name, url, durable=True, _open=lambda: open_ledger(url))


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each Ledger implementation in turn, on a fresh store."""
    if request.param == "memory":
        chosen = _memory_backend()
    elif request.param == "sqlite":
        chosen = _sql_backend("sqlite", str(tmp_path / "state" / "ledger.db"))
    else:
        chosen = _sql_backend("postgres", request.getfixturevalue("pg_schema_url"))
    try:
        yield chosen
    finally:
        chosen.close_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Only the durable, SQL-backed ledgers."""
    if request.param == "sqlite":
        chosen = _sql_backend("sqlite", str(tmp_path / "ledger.db"))
    else:
        chosen = _sql_backend("postgres", request.getfixturevalue("pg_schema_url"))
    try:
        yield chosen
    finally:
        chosen.close_all()


@pytest.fixture
def ledger(backend: Backend):
    """A ledger on a fresh store, of each implementation in turn."""
    return backend.ledger()
