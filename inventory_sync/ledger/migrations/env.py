"""Alembic environment: migrate the connection that `inventory_sync.ledger.migrate` hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import inventory_sync.ledger.tables  # noqa: F401  (registers the tables on the metadata)

# No fileConfig() here on purpose: logging belongs to inventory_sync.logs, not to Alembic.


def run_migrations_online(connection: Connection) -> None:
    """Run every pending migration inside the caller's transaction."""
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline(url: str) -> None:
    """Print the SQL instead of running it (`alembic upgrade --sql`)."""
    context.configure(url=url, target_metadata=SQLModel.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline(context.config.get_main_option("sqlalchemy.url") or "")
else:
    run_migrations_online(context.config.attributes["connection"])
