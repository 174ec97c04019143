"""`inventory-sync status`: the service's health from the ledger; exit 1 when unhealthy."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.table import Table

from inventory_sync import bootstrap, exits
from inventory_sync.clock import SystemClock
from inventory_sync.commands.common import Context, emit_json, handle_errors, pass_context
from inventory_sync.commands.render import print_whole, whole_table
from inventory_sync.daemon.overview import Overview, overview
from inventory_sync.errors import UsageError


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option(
    "--account", metavar="NAME", help="Only this ShipStation account's warehouses and keys."
)
@pass_context
@handle_errors
def status(ctx: Context, *, as_json: bool, account: str | None) -> None:
    """Show the service's health from the ledger; exit 1 when unhealthy (a health check).

    Shows the last run per warehouse, the last good data per source, unsettled and failed
    adjustments, and key expiry; with replicas on PostgreSQL, each replica (host, pid,
    started, last heartbeat) and which replica holds each account's lease.

    Unhealthy: a last run failed (ShipStation refused it, or a ledger error) or held (a guard,
    or a source's sanity gate), a source stale, adjustments unsettled for longer than [daemon]
    unsettled_after or waiting for review, or an API key expiring within 7 days. Reads only
    the configuration and the ledger; needs no API key and sends no request.
    """
    settings = ctx.settings()
    names = [a.name for a in settings.all_accounts()]
    if account is not None and account not in names:
        raise UsageError(f"unknown account {account!r}; configured: {', '.join(names)}")
    ledger = bootstrap.ledger_only(settings)
    try:
        found = overview(
            settings,
            ledger,
            SystemClock().now(),
            leases=bootstrap.leases_of(ledger),
            account=account,
        )
    finally:
        ledger.close()
    if as_json:
        emit_json(found.to_json())
    else:
        _print(found, Console())
    if code := exits.for_health(healthy=found.healthy):
        raise SystemExit(code)


def _print(found: Overview, console: Console) -> None:
    print_whole(_warehouses(found.warehouses), console)
    console.print(_sources(found.sources))
    adjustments = found.adjustments
    console.print(
        "adjustments: "
        + ", ".join(f"{key} {value}" for key, value in adjustments.items() if value is not None)
    )
    if found.replicas:
        console.print(_replicas(found.replicas))
    if found.leases:
        console.print(_leases(found.leases))
    for key in found.keys:
        console.print(
            f"API key {key['key']} of {key['account']}: "
            f"expires {key['expires_on']} ({key['days_left']} days)"
        )
    if found.healthy:
        console.print("[green]healthy[/green]")
    for problem in found.problems:
        console.print(f"[red]unhealthy:[/red] {problem.text}")


def _warehouses(rows: list[dict[str, Any]]) -> Table:
    cells: list[tuple[str, ...]] = []
    for row in rows:
        run = row["last_run"] or {}
        cells.append(
            (
                row["warehouse"],
                row["account"],
                run.get("run_id", "never"),
                run.get("status", ""),
                run.get("finished_at") or "",
                str(run.get("applied", "")),
                str(run.get("failed", "")),
            )
        )
    headers = ("warehouse", "account", "last run", "status", "finished", "applied", "failed")
    return whole_table(headers, cells)


def _sources(rows: list[dict[str, Any]]) -> Table:
    table = Table("source", "last good data", "age (s)", "stale")
    for row in rows:
        good = row["last_good"] or {}
        table.add_row(
            row["source"],
            good.get("taken_at", "never"),
            str(good.get("age_seconds", "")),
            "yes" if row["stale"] else "no",
        )
    return table


def _replicas(rows: list[dict[str, Any]]) -> Table:
    table = Table("replica", "host", "pid", "started", "last heartbeat", "age (s)", "alive")
    for row in rows:
        table.add_row(
            row["replica"],
            row["host"],
            str(row["pid"]),
            row["started_at"],
            row["heartbeat_at"],
            str(row["heartbeat_age_seconds"]),
            "no" if row["stale"] else "yes",
        )
    return table


def _leases(rows: list[dict[str, Any]]) -> Table:
    table = Table("lease", "holder", "fence", "held", "expires")
    for row in rows:
        table.add_row(
            row["lease"],
            row["holder"],
            str(row["fence"]),
            "yes" if row["held"] else "no (free)",
            row["expires_at"],
        )
    return table
