"""Fixtures every test directory may use: a clean environment, PostgreSQL when available."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

POSTGRES_ENV = "INVENTORY_SYNC_TEST_POSTGRES_URL"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:
    """No test sees the developer's INVENTORY_SYNC_* settings or credentials; the tests' own
    INVENTORY_SYNC_TEST_* variables (a PostgreSQL URL, a Loki binary) stay."""
    for name in list(os.environ):
        if name.startswith("INVENTORY_SYNC_") and not name.startswith("INVENTORY_SYNC_TEST_"):
            monkeypatch.delenv(name)
    for name in ("CREDENTIALS_DIRECTORY", "STATE_DIRECTORY", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state-home")))


@pytest.fixture
def postgres_url() -> str:
    """The PostgreSQL URL for tests that need a real server; skips with the reason when unset."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set; PostgreSQL tests need a real server")
    return url


@pytest.fixture
def scratch_postgres_url(postgres_url: str):
    """A database of its own on the PostgreSQL server, dropped after the test."""
    name = f"inventory_sync_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
