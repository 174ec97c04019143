"""The command line: the `inventory-sync` group and its subcommands."""

from __future__ import annotations

from pathlib import Path

import click

from inventory_sync import __version__, exits
from inventory_sync.commands import (
    adjust,
    db,
    demo,
    explain,
    history,
    reconcile,
    resolve,
    run,
    status,
    support,
    warehouses,
)
from inventory_sync.commands.common import Context
from inventory_sync.shipstation.emulator.command import emulator_command


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=exits.HELP,
)
@click.option(
    "--config",
    "-c",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Configuration file. Default: $INVENTORY_SYNC_CONFIG, ./inventory-sync.toml, "
    "then /etc/inventory-sync/config.toml.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    help="Log level (default: the config's logging.level, else info).",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "console"]),
    help="Log format on stderr. auto: JSON lines unless stderr is a terminal.",
)
@click.version_option(__version__, prog_name="inventory-sync")
@click.pass_context
def cli(
    ctx: click.Context, config: Path | None, log_level: str | None, log_format: str | None
) -> None:
    """Keep ShipStation's per-warehouse stock levels true to the systems that hold the truth.

    Reads stock from your feeds, databases and APIs, compares it with ShipStation's V2
    inventory per warehouse and SKU, and pushes the differences, recording every step in a
    local ledger. Start with `inventory-sync demo` (no configuration needed).
    """
    ctx.obj = Context(config, log_level, log_format)


cli.add_command(reconcile.reconcile)
cli.add_command(demo.demo)
cli.add_command(db.db)
cli.add_command(history.history)
cli.add_command(adjust.adjust)
cli.add_command(resolve.resolve)
cli.add_command(resolve.release)
cli.add_command(explain.explain)
cli.add_command(run.run)
cli.add_command(status.status)
cli.add_command(warehouses.warehouses)
cli.add_command(support.support_bundle)
cli.add_command(emulator_command, name="emulator")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="inventory-sync")
