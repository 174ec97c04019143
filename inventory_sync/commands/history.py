"""`inventory-sync history`: runs and adjustments from the ledger, with filters."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape

from inventory_sync import bootstrap
from inventory_sync.commands.common import Context, emit_json, handle_errors, pass_context
from inventory_sync.commands.render import print_whole, whole_table
from inventory_sync.config import Settings
from inventory_sync.domain.model import (
    AdjustmentStatus,
    JournalEntry,
    Rejected,
    RunId,
    RunRecord,
    Sku,
    held_reasons,
    shown_summary,
)
from inventory_sync.errors import UsageError
from inventory_sync.ports import Ledger
from inventory_sync.report import entry_json, rejected_json

STATUSES = [s.value for s in AdjustmentStatus]
RUNS_PER_ACCOUNT = 10  # runs read per run shown when narrowing to an account


@click.command()
@click.option(
    "--run", "run_id", metavar="RUN_ID", help="Show this run's adjustments and rejected rows."
)
@click.option("--sku", metavar="SKU", help="Only adjustments of this SKU.")
@click.option("--warehouse", "-w", metavar="NAME", help="Only adjustments in this warehouse.")
@click.option("--status", type=click.Choice(STATUSES), help="Only adjustments in this status.")
@click.option("--account", metavar="NAME", help="Only runs and adjustments of this account.")
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many runs or adjustments.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@pass_context
@handle_errors
def history(
    ctx: Context,
    *,
    run_id: str | None,
    sku: str | None,
    warehouse: str | None,
    status: str | None,
    account: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List recent runs, or adjustments when a run, SKU, warehouse or status is given.

    --account keeps the runs and adjustments of that account's warehouses."""
    settings = ctx.settings()
    mine = _account_warehouses(settings, account)
    ledger = bootstrap.ledger_only(settings)
    try:
        if not (run_id or sku or warehouse or status):
            runs = ledger.list_runs(limit if mine is None else limit * RUNS_PER_ACCOUNT)
            if mine is not None:
                runs = [r for r in runs if _belongs(ledger, r, str(account), mine)][:limit]
            _show_runs(runs, as_json=as_json)
            return
        entries = ledger.journal(
            run_id=RunId(run_id) if run_id else None, sku=Sku(sku) if sku else None
        )
        if run_id and not entries and ledger.get_run(RunId(run_id)) is None:
            raise UsageError(f"no run {run_id!r} in the ledger (see `inventory-sync history`)")
        rejected = ledger.rejected_for_run(RunId(run_id)) if run_id else None
    finally:
        ledger.close()
    entries = [
        e
        for e in entries
        if (warehouse is None or e.adjustment.warehouse == warehouse)
        and (status is None or e.status.value == status)
        and (mine is None or e.adjustment.warehouse in mine)
    ][-limit:]
    if rejected is not None:  # a run's rows its sources rejected, narrowed as its adjustments
        rejected = [
            r
            for r in rejected
            if (sku is None or r.sku == sku)
            and (warehouse is None or r.warehouse in {None, warehouse})
            and (mine is None or r.warehouse is None or r.warehouse in mine)
        ]
    _show_entries(entries, settings, as_json=as_json, rejected=rejected, limit=limit)


def _account_warehouses(settings: Settings, account: str | None) -> set[str] | None:
    if account is None:
        return None
    accounts = {a.name: a for a in settings.all_accounts()}
    if account not in accounts:
        raise UsageError(f"unknown account {account!r}; configured: {', '.join(accounts)}")
    return {w.name for w in accounts[account].warehouses}


def _belongs(ledger: Ledger, run: RunRecord, account: str, warehouses: set[str]) -> bool:
    """A run is the account's when its trigger names the account or one of its warehouses,
    or when it changed one of its warehouses."""
    trigger = run.trigger
    if trigger.endswith(f"@{account}") or trigger.partition(":")[2] in warehouses:
        return True
    return any(e.adjustment.warehouse in warehouses for e in ledger.journal(run_id=run.run_id))


def run_json(run: RunRecord) -> dict[str, object]:
    return {
        "run_id": run.run_id,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "trigger": run.trigger,
        "dry_run": run.dry_run,
        "status": run.status.value,
        **shown_summary(run.summary),
    }


def _show_runs(runs: list[RunRecord], *, as_json: bool) -> None:
    if as_json:
        emit_json({"runs": [run_json(r) for r in runs]})
        return
    rows = [
        (
            run.run_id,
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            run.trigger + (" (dry run)" if run.dry_run else ""),
            run.status.value,
            *(str(dict(run.summary).get(k, "")) for k in ("planned", "applied", "failed")),
        )
        for run in runs
    ]
    headers = ("run", "started (UTC)", "trigger", "status", "planned", "applied", "failed")
    table = whole_table(headers, rows, title="Runs, newest first")
    console = Console()
    print_whole(table, console)
    for run in runs:  # why a run failed or held: a sentence, below the table
        if error := run.summary.get("error"):
            console.print(f"{run.run_id} {run.status.value}: {error}")
        for name, why in held_reasons(run.summary).items():
            console.print(f"{run.run_id} held {name}: {escape(why)}", soft_wrap=True)


def _show_entries(
    entries: list[JournalEntry],
    settings: Settings,
    *,
    as_json: bool,
    rejected: list[Rejected] | None,
    limit: int,
) -> None:
    """Adjustments, then (for one run) the rows its sources rejected: the first --limit."""
    shown = None if rejected is None else rejected[:limit]
    if as_json:
        found: dict[str, object] = {
            "adjustments": [
                entry_json(e)
                | {"run_id": e.run_id, "account": settings.account_of(e.adjustment.warehouse)}
                for e in entries
            ]
        }
        if rejected is not None and shown is not None:
            found |= {
                "rejected": [rejected_json(r) for r in shown],
                "rejected_total": len(rejected),
            }
        emit_json(found)
        return
    rows = [_entry_row(e) for e in entries]
    headers = ("run", "warehouse", "sku", "type", "qty", "before", "after", "status", "rule")
    table = whole_table(headers, rows, title="Adjustments")
    console = Console()
    print_whole(table, console)
    # Errors are sentences: below the table they wrap as text instead of a sliver of a column.
    for e in entries:
        if e.error:
            console.print(f"{e.adjustment.sku} in {e.adjustment.warehouse} ({e.run_id}): {e.error}")
    if rejected is not None and shown is not None:
        _print_rejected(console, rejected, shown)


def _print_rejected(console: Console, rejected: list[Rejected], shown: list[Rejected]) -> None:
    console.print(f"[bold]Rows the sources rejected[/]: {len(rejected)}")
    for r in shown:
        console.print(f"  {escape(str(r))}", soft_wrap=True)  # a value like "[red]" is no markup
    if len(rejected) > len(shown):
        console.print(f"  ... and {len(rejected) - len(shown)} more (--limit)")


def _entry_row(e: JournalEntry) -> tuple[str, ...]:
    a = e.adjustment
    before = "—" if a.before is None else str(a.before)
    kind = a.transaction_type.value
    return (e.run_id, a.warehouse, a.sku, kind, str(a.quantity), before, str(a.after),
            e.status.value, a.rule)  # fmt: skip
