"""`inventory-sync db ...`: the ledger's schema."""

from __future__ import annotations

import click

from inventory_sync.commands.common import Context, handle_errors, pass_context
from inventory_sync.errors import UsageError
from inventory_sync.ledger.migrate import upgrade
from inventory_sync.ledger.urls import ledger_url_problem


@click.group()
def db() -> None:
    """Manage the ledger database (SQLite by default, PostgreSQL when configured)."""


@db.command("upgrade")
@click.option(
    "--url",
    help="Ledger URL: sqlite:///PATH, postgresql+psycopg://USER@HOST/DB, or a file path "
    "(default: ledger.url from the configuration).",
)
@pass_context
@handle_errors
def upgrade_command(ctx: Context, url: str | None) -> None:
    """Apply the ledger's migrations up to the newest (also done at every start)."""
    if url and (problem := ledger_url_problem(url)):
        raise UsageError(f"--url: {problem}")
    target = url or ctx.settings(require_file=False).ledger_url
    revision = upgrade(target)
    click.echo(f"ledger at revision {revision}")
