"""`inventory-sync support-bundle`: the record ShipStation support asks for, ready to email."""

from __future__ import annotations

import json

import click

from inventory_sync import bootstrap
from inventory_sync.commands.common import Context, handle_errors, pass_context
from inventory_sync.domain.model import AdjustmentId, AdjustmentStatus, JournalEntry, RunId
from inventory_sync.errors import SupportRecord, UsageError
from inventory_sync.ports import Ledger
from inventory_sync.shipstation.support import format_support_record

SUPPORT_ADDRESS = "shippingapisupport@shipstation.com"  # V2 API support, per ShipStation


@click.command("support-bundle")
@click.argument("ident", metavar="RUN_ID|ADJUSTMENT_ID")
@pass_context
@handle_errors
def support_bundle(ctx: Context, ident: str) -> None:
    """Print, ready to email to ShipStation's API support, the record of every failed call in
    a run (or of one adjustment): the action, the full endpoint, the JSON body, the status and
    the full response, with the request id. API keys are never included."""
    ledger = bootstrap.ledger_only(ctx.settings())
    try:
        entries = _entries(ledger, ident)
        blocks = [_block(ledger, e) for e in entries]
    finally:
        ledger.close()
    blocks = [b for b in blocks if b]
    if not blocks:
        raise UsageError(f"no failed ShipStation call is recorded for {ident!r}")
    click.echo(f"To: {SUPPORT_ADDRESS}\nSubject: ShipStation V2 inventory API errors ({ident})\n")
    click.echo("\n".join(blocks), nl=False)


def _entries(ledger: Ledger, ident: str) -> list[JournalEntry]:
    if ident.startswith("run-"):
        entries = ledger.journal(run_id=RunId(ident))
        if not entries and ledger.get_run(RunId(ident)) is None:
            raise UsageError(f"no run {ident!r} in the ledger (see `inventory-sync history`)")
        return [e for e in entries if e.status is not AdjustmentStatus.APPLIED]
    found = [e for e in ledger.journal() if e.adjustment.adjustment_id == ident]
    if not found:
        raise UsageError(f"no adjustment {ident!r} in the ledger (see `inventory-sync history`)")
    return found


def _block(ledger: Ledger, entry: JournalEntry) -> str:
    raw = ledger.support_record(AdjustmentId(entry.adjustment.adjustment_id))
    if raw is None:
        return ""
    record = SupportRecord(**json.loads(raw))
    a = entry.adjustment
    header = (
        f"=== adjustment {a.adjustment_id} ({a.warehouse} / {a.sku}, run {entry.run_id}): "
        f"{entry.status.value}"
    )
    return f"{header}\n{format_support_record(record)}\n"
