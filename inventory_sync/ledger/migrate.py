"""Schema migrations in code: `upgrade(url)` for `inventory-sync db upgrade` and start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from inventory_sync.errors import LedgerError
from inventory_sync.ledger.engine import (
    READ_ONLY,
    create_ledger_engine,
    describe_failure,
    sqlite_file,
)

SCRIPT_LOCATION = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 0x1ED6E5  # an arbitrary, fixed advisory-lock key for ledger migrations


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config built in code; the package directory holds env.py and versions/."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this package knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise LedgerError("the packaged migrations have no head revision")
    return head


def upgrade(url: str) -> str:
    """Bring the ledger at `url` to the newest schema; return that head revision."""
    engine = create_ledger_engine(url)
    try:
        upgrade_engine(engine)
    finally:
        engine.dispose()
    return head_revision()


def upgrade_engine(engine: Engine) -> None:
    """Upgrade through an existing engine, in one transaction (IMMEDIATE on SQLite)."""
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Two services starting at once must not both create the tables; SQLite gets
                # the same from BEGIN IMMEDIATE. Released with the transaction.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            command.upgrade(alembic_config(connection), "head")
    except SQLAlchemyError as exc:
        raise LedgerError(f"could not migrate the ledger {describe_failure(exc, engine)}") from exc
    except CommandError as exc:
        # E.g. the database is at a revision this (older) package does not know.
        raise LedgerError(
            f"could not migrate the ledger: {exc} (was it written by a newer release of "
            "inventory-sync? run that release, or a later one, against it)"
        ) from exc


def current_revision(url: str) -> str | None:
    """The revision the ledger at `url` is at, or None when it was never migrated."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        return None  # asking must not create an empty database file
    engine = create_ledger_engine(url)
    try:
        with engine.execution_options(**READ_ONLY).connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise LedgerError(f"could not read the ledger's revision: {exc}") from exc
    finally:
        engine.dispose()
