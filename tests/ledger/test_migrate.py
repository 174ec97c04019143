"""Packaged migrations: from empty to head on SQLite and PostgreSQL, and in step with the models."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from inventory_sync.domain.model import Rejected, RunId, SourceName, Warehouse
from inventory_sync.errors import LedgerError
from inventory_sync.ledger.engine import create_ledger_engine
from inventory_sync.ledger.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from inventory_sync.ledger.repository import open_ledger

TABLES = {
    "runs",
    "snapshots",
    "snapshot_uses",
    "observations",
    "rejected_rows",
    "adjustments",
    "agreed_levels",
    "locks",
    "leases",
    "lease_history",
    "replicas",
    "absent_counts",
    "seen_levels",
    "movements",
    "alembic_version",
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return request.getfixturevalue("pg_schema_url")


def inspect(url: str, what):
    engine = create_ledger_engine(url)
    try:
        with engine.connect() as conn:
            return what(conn)
    finally:
        engine.dispose()


def test_an_empty_database_has_no_revision(empty_url):
    assert current_revision(empty_url) is None


def test_upgrade_creates_every_table_and_reports_head(empty_url):
    assert upgrade(empty_url) == head_revision()
    assert current_revision(empty_url) == head_revision()
    assert set(inspect(empty_url, lambda c: sa.inspect(c).get_table_names())) == TABLES


def test_upgrading_twice_changes_nothing(empty_url):
    upgrade(empty_url)
    engine = create_ledger_engine(empty_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO locks VALUES ('n', 'h', '2026-01-01', '2026-01-02')")
    engine.dispose()
    assert upgrade(empty_url) == head_revision()
    assert (
        inspect(empty_url, lambda c: c.exec_driver_sql("SELECT count(*) FROM locks").scalar()) == 1
    )


def test_the_migrations_match_the_models(empty_url):
    upgrade(empty_url)

    def differences(conn):
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    assert inspect(empty_url, differences) == []


def test_asking_for_the_revision_creates_no_file(tmp_path):
    assert current_revision(str(tmp_path / "absent.db")) is None
    assert not (tmp_path / "absent.db").exists()


def test_two_upgrades_at_once_both_succeed(empty_url):
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(upgrade(empty_url))) for _ in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [head_revision()] * 2


def test_a_database_from_a_newer_version_is_a_ledger_error(empty_url):
    upgrade(empty_url)
    engine = create_ledger_engine(empty_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(LedgerError, match="9999"):
        upgrade(empty_url)


def test_observations_recorded_with_lines_survive_the_upgrade_that_drops_them(empty_url):
    """0003 drops observations.line; the rows, and the indexes that find them, stay."""
    engine = create_ledger_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0002")
        conn.exec_driver_sql(
            "INSERT INTO observations (run_id, source, snapshot_id, warehouse, sku, quantity,"
            " line, observed_at, completeness)"
            " VALUES ('r1', 'erp', 's1', 'east', 'A', 7, 12, '2026-11-01 00:00:00', 'complete')"
        )
    engine.dispose()
    assert upgrade(empty_url) == head_revision()

    def rows_and_shape(conn):
        names = {c["name"] for c in sa.inspect(conn).get_columns("observations")}
        indexes = {i["name"] for i in sa.inspect(conn).get_indexes("observations")}
        row = conn.exec_driver_sql("SELECT sku, quantity FROM observations").one()
        return names, indexes, tuple(row)

    names, indexes, row = inspect(empty_url, rows_and_shape)
    assert "line" not in names
    assert indexes >= {"ix_observations_wh_sku_at", "ix_observations_observed_at"}
    assert row == ("A", 7)


def test_rejected_rows_from_before_0006_keep_their_facts_with_no_sku_or_warehouse(empty_url):
    """0006 adds rejected_rows.sku and .warehouse; rows quarantined before it read back null."""
    engine = create_ledger_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0005")
        conn.exec_driver_sql(
            "INSERT INTO rejected_rows (run_id, source, origin, line, field, value, reason, at)"
            " VALUES ('r1', 'feed', 'east.csv', 43, 'quantity', '12.5', 'not whole',"
            " '2026-11-01 00:00:00')"
        )
    engine.dispose()
    assert upgrade(empty_url) == head_revision()

    with open_ledger(empty_url, migrate=False) as ledger:
        kept = ledger.rejected_for_run(RunId("r1"))
    assert kept == [Rejected(SourceName("feed"), "east.csv", 43, "quantity", "12.5", "not whole")]
    assert kept[0].sku is None
    assert kept[0].warehouse is None
    indexes = inspect(empty_url, lambda c: sa.inspect(c).get_indexes("rejected_rows"))
    assert "ix_rejected_rows_sku_at" in {i["name"] for i in indexes}


def test_change_snapshots_recorded_before_0007_stay_counted_for_every_warehouse(empty_url):
    """Before 0007 a partial snapshot counted once recorded healthy, for all its warehouses;
    the upgrade keeps that, so a change file still in its inbox is not applied again."""
    engine = create_ledger_engine(empty_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0006")
        conn.exec_driver_sql(
            "INSERT INTO runs (run_id, trigger, dry_run, status, started_at, summary)"
            " VALUES ('r1', 'cli', false, 'succeeded', '2026-11-01 00:00:00', '{}')"
        )
        conn.execute(
            sa.text(
                "INSERT INTO snapshots (source, snapshot_id, run_id, taken_at, recorded_at,"
                " completeness, basis, rows, units, nonzero_rows, healthy, origin) VALUES"
                " ('feed', :id, 'r1', '2026-11-01 00:00:00', '2026-11-01 00:00:00',"
                " :completeness, 'on_hand', 1, 1, 1, :healthy, 'x')"
            ),
            [
                {"id": "changes-1", "completeness": "partial", "healthy": True},
                {"id": "held-changes", "completeness": "partial", "healthy": False},
                {"id": "full-1", "completeness": "complete", "healthy": True},
            ],
        )
    engine.dispose()
    assert upgrade(empty_url) == head_revision()

    with open_ledger(empty_url, migrate=False) as ledger:
        for warehouse in ("east", "west"):
            counted = ledger.counted_snapshot_ids(SourceName("feed"), Warehouse(warehouse))
            assert counted == {"changes-1"}
        assert ledger.counted_snapshot_ids(SourceName("other"), Warehouse("east")) == set()
