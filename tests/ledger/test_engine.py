"""The ledger's engine: SQLite durability settings really in effect, URLs from paths."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from inventory_sync.errors import LedgerError
from inventory_sync.ledger.engine import (
    BUSY_TIMEOUT_MS,
    READ_ONLY,
    create_ledger_engine,
    ledger_url_from,
)
from inventory_sync.ledger.urls import ledger_url_problem


@pytest.fixture
def engine(tmp_path: Path):
    engine = create_ledger_engine(str(tmp_path / "deep" / "er" / "ledger.db"))
    yield engine
    engine.dispose()


def pragma(engine, name: str):
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


class TestSqlitePragmas:
    def test_the_journal_is_write_ahead(self, engine):
        assert pragma(engine, "journal_mode") == "wal"

    def test_every_commit_is_synced(self, engine):
        assert pragma(engine, "synchronous") == 2  # FULL

    def test_writers_wait_for_each_other(self, engine):
        assert pragma(engine, "busy_timeout") == BUSY_TIMEOUT_MS

    def test_foreign_keys_are_enforced(self, engine):
        assert pragma(engine, "foreign_keys") == 1

    def test_parent_directories_are_created(self, engine, tmp_path):
        assert (tmp_path / "deep" / "er").is_dir()


class TestSqliteTransactions:
    def test_a_write_transaction_takes_the_write_lock_at_begin(self, engine, tmp_path):
        other = sqlite3.connect(tmp_path / "deep" / "er" / "ledger.db", timeout=0)
        with engine.begin(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # free again once the ledger committed
        other.close()

    def test_a_read_transaction_leaves_writers_free(self, engine, tmp_path):
        other = sqlite3.connect(tmp_path / "deep" / "er" / "ledger.db", timeout=0)
        with engine.execution_options(**READ_ONLY).begin() as conn:
            conn.exec_driver_sql("SELECT 1")
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        other.close()

    def test_a_failed_transaction_rolls_back_everything(self, engine):
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")

        def insert_then_fail() -> None:
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
                raise RuntimeError

        with pytest.raises(RuntimeError):
            insert_then_fail()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0


class TestUrls:
    def test_a_bare_path_becomes_an_absolute_sqlite_url(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        assert ledger_url_from("state/ledger.db") == f"sqlite:///{tmp_path}/state/ledger.db"

    def test_a_url_passes_through(self):
        url = "postgresql+psycopg://u@h/db"
        assert ledger_url_from(url) == url

    def test_a_malformed_url_is_a_ledger_error(self):
        with pytest.raises(LedgerError):
            create_ledger_engine("not a scheme://x")

    @pytest.mark.parametrize(
        "value",
        [
            "sqlite:///state/ledger.db",
            "sqlite:////var/lib/inventory-sync/ledger.db",
            "postgresql+psycopg://app:pw@db.example:5432/inventory",
            "/var/lib/inventory-sync/ledger.db",
            "./ledger.db",
            "state/ledger.db",
            "ledger.db",
            "~/ledger.db",
        ],
    )
    def test_the_documented_forms_are_accepted(self, value):
        assert ledger_url_problem(value) is None

    @pytest.mark.parametrize(
        ("value", "says"),
        [
            ("not a url", "neither a ledger URL nor a file path"),
            ("mysql://app@db/x", "a mysql URL"),
            ("sqlite://ledger.db", "names no SQLite file"),
            ("sqlite://", "names no SQLite file"),
            ("sqlite:ledger.db", "no '//' after the scheme"),
            ("postgresql+psycopg://app@db:fivefour/x", "not a valid URL"),
        ],
    )
    def test_anything_else_is_named_with_the_accepted_forms(self, value, says):
        problem = ledger_url_problem(value)
        assert says in problem
        assert repr(value) in problem
        assert "sqlite:///PATH, postgresql+psycopg://" in problem

    def test_a_password_in_a_refused_url_is_masked(self):
        problem = ledger_url_problem("mysql://app:s3cret@db/x")
        assert "mysql://app:***@db/x" in problem
        assert "s3cret" not in problem

    def test_a_bare_word_opens_no_ledger_and_makes_no_file(self, tmp_path, monkeypatch):
        monkeypatch.chdir(tmp_path)
        with pytest.raises(LedgerError, match="'not a url'"):
            create_ledger_engine("not a url")
        assert list(tmp_path.iterdir()) == []

    def test_postgresql_engines_check_connections_before_use(self):
        engine = create_ledger_engine("postgresql+psycopg://u@127.0.0.1:1/db")
        assert engine.pool._pre_ping
        assert engine.dialect.name == "postgresql"
