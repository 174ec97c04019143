"""`inventory-sync reconcile`: one run, now, then exit with a code scripts can use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from inventory_sync import bootstrap, exits, logs, service
from inventory_sync.app import App
from inventory_sync.commands.common import Context, emit_json, handle_errors, pass_context
from inventory_sync.commands.display import run_display
from inventory_sync.commands.render import show_accounts
from inventory_sync.domain.model import RunId
from inventory_sync.errors import InventorySyncError, UsageError
from inventory_sync.report_accounts import AccountsReport
from inventory_sync.service.accounts import apply_by_account, reconcile_accounts
from inventory_sync.steps.plan_file import read_plan, write_plan
from inventory_sync.steps.runs import Progress


@click.command()
@click.option(
    "--dry-run", is_flag=True, help="Plan and show the changes; send nothing to ShipStation."
)
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
@click.option("--force", is_flag=True, help="Push even when a guard would hold the run.")
@click.option(
    "--warehouse",
    "-w",
    "warehouses",
    multiple=True,
    metavar="NAME",
    help="Only this configured warehouse (repeatable).",
)
@click.option("--sku", "skus", multiple=True, metavar="SKU", help="Only this SKU (repeatable).")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="NAME",
    help="Only the warehouses of this ShipStation account (repeatable).",
)
@click.option(
    "--plan-out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the plan to FILE (readable JSON) for review; send nothing. Implies --dry-run.",
)
@click.option(
    "--apply",
    "apply_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Apply exactly the plan in FILE (an approved plan passes the guards); rows whose "
    "ShipStation level moved since the plan was made are skipped, on record.",
)
@pass_context
@handle_errors
def reconcile(
    ctx: Context,
    *,
    dry_run: bool,
    as_json: bool,
    force: bool,
    warehouses: tuple[str, ...],
    skus: tuple[str, ...],
    accounts: tuple[str, ...],
    plan_out: Path | None,
    apply_file: Path | None,
) -> None:
    """Reconcile once: pull the sources, compare with ShipStation, push the differences.

    Prints a table of what changed (or, with --json, one JSON object with run_id, status,
    the counts planned/applied/failed/held/unchanged and every adjustment, and per account
    its status, exit code and error). With several accounts, one that ShipStation refuses or
    throttles stops only its own work; the exit code is the most serious account's.
    Logs go to stderr.
    """
    if apply_file is not None and (dry_run or plan_out or warehouses or skus or force or accounts):
        raise UsageError(
            "--apply takes the plan as it is: no --dry-run, --plan-out, -w, --sku, --account "
            "or --force"
        )
    options = service.RunOptions(
        dry_run=dry_run or plan_out is not None,
        force=force,
        warehouses=frozenset(warehouses),
        skus=frozenset(skus),
    )
    try:
        summary = _run(ctx, options, frozenset(accounts), apply_file=apply_file)
        if plan_out is not None:
            adjustments = [e.adjustment for r in summary.reports for e in r.entries]
            uses = [u for r in summary.reports for u in r.uses]
            run_id = summary.reports[0].run_id if summary.reports else RunId("none")
            write_plan(plan_out, run_id, datetime.now(UTC), adjustments, uses)
    except InventorySyncError as exc:
        if as_json:
            emit_json(
                {
                    "status": "error",
                    "run_id": exc.run_id,  # None when it stopped before a run began
                    "error": logs.scrubber.scrub(str(exc)),
                    "error_type": type(exc).__name__,
                    "exit_code": exits.for_error(exc),
                }
            )
        raise
    show_accounts(summary, as_json=as_json)


def _run(
    ctx: Context,
    options: service.RunOptions,
    accounts: frozenset[str],
    *,
    apply_file: Path | None,
) -> AccountsReport:
    settings = ctx.settings()
    known = {w.name for w in settings.all_warehouses()}
    if unknown := options.warehouses - known:
        raise UsageError(f"unknown warehouse(s) {sorted(unknown)}; configured: {sorted(known)}")
    names = [a.name for a in settings.all_accounts()]
    if strays := sorted(accounts - set(names)):
        raise UsageError(f"unknown account(s) {strays}; configured: {', '.join(names)}")
    rates = {a.name: a.requests_per_minute for a in settings.all_accounts()}
    several = len(rates) > 1
    owners = {w.name: a.name for a in settings.all_accounts() for w in a.warehouses}
    # The display is on stderr, so it shows with --json too: stdout keeps the one object.
    with run_display(Console(stderr=True), owners if several else None) as display:
        app = bootstrap.build(settings, on_pause=display.paused)

        def progress_for(account: App) -> Progress:
            return display.bar(f"{account.account}: " if several else "", rates[account.account])

        try:
            if apply_file is not None:
                plan = read_plan(apply_file)
                summary = apply_by_account(
                    app, plan.adjustments, plan.uses, progress_for=progress_for, watch=display
                )
            else:
                summary = reconcile_accounts(
                    app, options, accounts=accounts, progress_for=progress_for, watch=display
                )
        finally:
            app.close()
    if len(summary.outcomes) == 1 and summary.outcomes[0].error is not None:
        raise summary.outcomes[0].error  # one account: its error is the command's, as ever
    return summary
