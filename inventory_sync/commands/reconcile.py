"""`inventory-sync reconcile`: one run, now, then exit with a code scripts can use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from inventory_sync import bootstrap, exits, service
from inventory_sync.commands.common import Context, emit_json, handle_errors, pass_context
from inventory_sync.commands.render import push_progress, show_report
from inventory_sync.errors import InventorySyncError, UsageError
from inventory_sync.report import RunReport
from inventory_sync.steps.plan_file import read_plan, write_plan


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
    plan_out: Path | None,
    apply_file: Path | None,
) -> None:
    """Reconcile once: pull the sources, compare with ShipStation, push the differences.

    Prints a table of what changed (or, with --json, one JSON object with run_id, status,
    the counts planned/applied/failed/held/unchanged and every adjustment). Logs go to stderr.
    """
    if apply_file is not None and (dry_run or plan_out or warehouses or skus or force):
        raise UsageError(
            "--apply takes the plan as it is: no --dry-run, --plan-out, -w, --sku or --force"
        )
    options = service.RunOptions(
        dry_run=dry_run or plan_out is not None,
        force=force,
        warehouses=frozenset(warehouses),
        skus=frozenset(skus),
    )
    try:
        report = _run(ctx, options, as_json=as_json, apply_file=apply_file)
        if plan_out is not None:
            adjustments = [e.adjustment for e in report.entries]
            write_plan(plan_out, report.run_id, datetime.now(UTC), adjustments)
    except InventorySyncError as exc:
        if as_json:
            emit_json(
                {
                    "status": "error",
                    "error": str(exc),
                    "error_type": type(exc).__name__,
                    "exit_code": exits.for_error(exc),
                }
            )
        raise
    show_report(report, as_json=as_json)


def _run(
    ctx: Context, options: service.RunOptions, *, as_json: bool, apply_file: Path | None
) -> RunReport:
    settings = ctx.settings()
    known = {w.name for w in settings.warehouses}
    if unknown := options.warehouses - known:
        raise UsageError(f"unknown warehouse(s) {sorted(unknown)}; configured: {sorted(known)}")
    app = bootstrap.build(settings)
    try:
        console = Console(stderr=True, quiet=as_json)
        with push_progress(console, settings.shipstation.requests_per_minute) as progress:
            if apply_file is not None:
                _plan_run, adjustments = read_plan(apply_file)
                return service.apply_plan(app, adjustments, progress=progress)
            return service.reconcile(app, options, progress=progress)
    finally:
        app.close()
