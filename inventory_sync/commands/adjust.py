"""`inventory-sync adjust`: an operator's change, audited and pushed like every other."""

from __future__ import annotations

import click

from inventory_sync import bootstrap, service
from inventory_sync.commands.common import Context, handle_errors, pass_context
from inventory_sync.commands.render import show_report
from inventory_sync.domain.model import Sku, TransactionType
from inventory_sync.errors import UsageError
from inventory_sync.steps.manual import REASONS, ManualChange
from inventory_sync.steps.plan_file import MAX_QUANTITY


@click.command()
@click.argument("sku")
@click.option("--warehouse", "-w", required=True, metavar="NAME", help="The configured warehouse.")
@click.option(
    "--set", "set_to", type=click.IntRange(0, MAX_QUANTITY), metavar="N", help="Set on-hand to N."
)
@click.option("--add", type=click.IntRange(1, MAX_QUANTITY), metavar="N", help="Add N units.")
@click.option("--remove", type=click.IntRange(1, MAX_QUANTITY), metavar="N", help="Remove N units.")
@click.option("--reason", required=True, type=click.Choice(REASONS), help="Why the stock changed.")
@click.option("--note", metavar="TEXT", help="Free text kept in the ledger beside the change.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@pass_context
@handle_errors
def adjust(
    ctx: Context,
    sku: str,
    *,
    warehouse: str,
    set_to: int | None,
    add: int | None,
    remove: int | None,
    reason: str,
    note: str | None,
    as_json: bool,
) -> None:
    """Change SKU's stock in ShipStation by hand (a return, a damage, a count), recorded in the
    ledger and pushed through the same journal as a reconcile, so `explain` shows it.

    Exactly one of --set, --add or --remove. Example:

        inventory-sync adjust WIDGET-RED -w east --remove 2 --reason damage --note "forklift"
    """
    change = _change(Sku(sku), set_to=set_to, add=add, remove=remove, reason=reason, note=note)
    app = bootstrap.build(ctx.settings(), sources=())
    try:
        report = service.manual_adjust(app.for_warehouse(warehouse), warehouse, change)
    finally:
        app.close()
    show_report(report, as_json=as_json)


def _change(
    sku: Sku,
    *,
    set_to: int | None,
    add: int | None,
    remove: int | None,
    reason: str,
    note: str | None,
) -> ManualChange:
    given = [(k, v) for k, v in (
        (TransactionType.ADJUST, set_to), (TransactionType.INCREMENT, add),
        (TransactionType.DECREMENT, remove),
    ) if v is not None]  # fmt: skip
    if len(given) != 1:
        raise UsageError("give exactly one of --set, --add or --remove")
    ((kind, quantity),) = given
    return ManualChange(sku, kind, quantity, reason, note)
