"""`inventory-sync resolve`: a person's verdict on a change no read-back could decide."""

from __future__ import annotations

import click

from inventory_sync import actions, bootstrap
from inventory_sync.commands.common import Context, emit_json, handle_errors, pass_context
from inventory_sync.report import entry_json


@click.command()
@click.argument("adjustment_id")
@click.option(
    "--applied/--not-applied", required=True, help="Whether ShipStation shows it applied."
)
@click.option("--note", metavar="TEXT", help="What you checked; kept in the ledger.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@pass_context
@handle_errors
def resolve(
    ctx: Context, adjustment_id: str, *, applied: bool, note: str | None, as_json: bool
) -> None:
    """Settle a change left `needs_review` (or stuck unsettled) after checking ShipStation.

    Until it is resolved its SKU is held out of every plan, so a delta that may already have
    landed is never pushed twice. --applied moves the agreed level on; --not-applied lets the
    next run plan the change again.
    """
    app = bootstrap.build(ctx.settings(), sources=())
    try:
        entry = actions.resolve(app, adjustment_id, applied=applied, note=note)
    finally:
        app.close()
    if as_json:
        emit_json(entry_json(entry) | {"run_id": entry.run_id})
    else:
        click.echo(
            f"{adjustment_id} ({entry.adjustment.warehouse}/{entry.adjustment.sku}): "
            f"{entry.status.value}"
        )
