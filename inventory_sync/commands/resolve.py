"""`resolve` and `release`: a person's word on a change, or on a SKU, the run cannot decide."""

from __future__ import annotations

import click

from inventory_sync import bootstrap, service
from inventory_sync.commands.common import Context, emit_json, handle_errors, pass_context
from inventory_sync.domain.model import Sku
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
    next run plan the change again. Only the ledger is written (nothing is sent to
    ShipStation), so it works while ShipStation is unreachable.
    """
    app = bootstrap.build(ctx.settings(), sources=())
    try:
        entry = service.resolve(app, adjustment_id, applied=applied, note=note)
    finally:
        app.close()
    if as_json:
        emit_json(entry_json(entry) | {"run_id": entry.run_id})
    else:
        click.echo(
            f"{adjustment_id} ({entry.adjustment.warehouse}/{entry.adjustment.sku}): "
            f"{entry.status.value}"
        )


@click.command()
@click.argument("sku")
@click.option("--warehouse", "-w", required=True, metavar="NAME", help="The configured warehouse.")
@pass_context
@handle_errors
def release(ctx: Context, sku: str, *, warehouse: str) -> None:
    """End SKU's quarantine after its cause is fixed.

    A SKU whose last `reconcile.max_attempts` changes all failed is held out of every plan
    (`sku.held`). Once the cause is fixed (say, the product now exists in ShipStation), release
    it and the next run plans it again. The release is recorded in the ledger; nothing is sent
    to ShipStation, so it works while ShipStation is unreachable.
    """
    app = bootstrap.build(ctx.settings(), sources=())
    try:
        entry = service.release(app.for_warehouse(warehouse), warehouse, Sku(sku))
    finally:
        app.close()
    click.echo(
        f"{sku} in {warehouse}: released ({entry.run_id}); nothing sent, the next run plans it"
    )
