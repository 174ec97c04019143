"""`inventory-sync explain SKU`: the chain behind one number, from the feed to ShipStation."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from inventory_sync import bootstrap, logs
from inventory_sync.commands.common import Context, emit_json, handle_errors, pass_context
from inventory_sync.config import Settings
from inventory_sync.domain.model import Sku, Warehouse
from inventory_sync.errors import ConfigError, ShipStationError, UsageError
from inventory_sync.ports import Ledger
from inventory_sync.report import entry_json, rejected_json
from inventory_sync.steps.levels import current_level


@click.command()
@click.argument("sku")
@click.option("--warehouse", "-w", metavar="NAME", help="Only this warehouse (default: all).")
@click.option(
    "--limit",
    default=5,
    show_default=True,
    type=click.IntRange(min=1),
    help="Observations, movements, adjustments and rejected rows shown.",
)
@click.option("--offline", is_flag=True, help="Do not ask ShipStation for the current level.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@pass_context
@handle_errors
def explain(
    ctx: Context, sku: str, *, warehouse: str | None, limit: int, offline: bool, as_json: bool
) -> None:
    """Show why SKU holds the number it does: what each source said, what was planned and by
    which rule, each request and response, the agreed level, and ShipStation's level now."""
    settings = ctx.settings()
    names = [w.name for w in settings.all_warehouses()]
    if warehouse is not None and warehouse not in names:
        raise UsageError(f"unknown warehouse {warehouse!r}; configured: {names}")
    chosen = [warehouse] if warehouse else names
    ledger = bootstrap.ledger_only(settings)
    try:
        chains = [
            _chain(ledger, Warehouse(w), Sku(sku), limit)
            | {
                "account": settings.account_of(w),
                "rejected": _rejected(ledger, settings, w, sku, limit),
            }
            for w in chosen
        ]
    finally:
        ledger.close()
    if not offline:
        _add_current_levels(settings, chains, sku)
    if as_json:
        emit_json({"sku": sku, "warehouses": chains})
    else:
        _print(Console(), sku, chains)


def _chain(ledger: Ledger, warehouse: Warehouse, sku: Sku, limit: int) -> dict[str, Any]:
    observations = ledger.observations_for(warehouse, sku, limit)
    entries = [e for e in ledger.journal(sku=sku) if e.adjustment.warehouse == warehouse]
    return {
        "warehouse": warehouse,
        "observations": [
            {
                "source": o.source,
                "quantity": o.quantity,
                "observed_at": o.observed_at.isoformat(),
                "snapshot_id": o.snapshot_id,
                "run_id": o.run_id,
            }
            for o in observations
        ],
        "adjustments": [
            entry_json(e)
            | {
                "run_id": e.run_id,
                "basis": dict(e.adjustment.basis),
                "planned_at": e.planned_at.isoformat(),
                "request": e.request,
                "response": e.response,
            }
            for e in entries[-limit:]
        ],
        "movements": [
            {
                "observed_at": m.observed_at.isoformat(),
                "before": m.before,
                "after": m.after,
                "run_id": m.run_id,
            }
            for m in ledger.movements_for(warehouse, sku, limit)
        ],
        "agreed": ledger.agreed_levels(warehouse).get(sku),
        "current": None,
        "current_asked": False,  # whether ShipStation was asked (not with --offline)
    }


def _rejected(
    ledger: Ledger, settings: Settings, warehouse: str, sku: str, limit: int
) -> list[Any]:
    """The SKU's newest rejected rows in this warehouse; a row whose warehouse was not valid
    counts here when its source feeds this warehouse."""
    feeding = {s.name for s in settings.sources if warehouse in s.warehouses}
    return [
        rejected_json(r.rejected) | {"run_id": r.run_id, "at": r.at.isoformat()}
        for r in ledger.rejected_for(Warehouse(warehouse), Sku(sku), limit)
        if r.rejected.warehouse is not None or r.rejected.source in feeding
    ]


def _add_current_levels(settings: Settings, chains: list[dict[str, Any]], sku: str) -> None:
    locations = {w.name: w.inventory_location_id for w in settings.all_warehouses()}
    for account in {settings.account_of(chain["warehouse"]) for chain in chains}:
        try:
            client = bootstrap.client_only(settings, account=account)
        except ConfigError as exc:  # no key configured: explain what the ledger knows
            for chain in chains:
                if settings.account_of(chain["warehouse"]) == account:
                    chain["current_error"] = str(exc)
            continue
        with client:
            for chain in chains:
                if settings.account_of(chain["warehouse"]) != account:
                    continue
                location = locations[chain["warehouse"]]
                chain["current_asked"] = True
                try:
                    chain["current"] = current_level(client, location or "", sku)
                except ShipStationError as exc:
                    chain["current_error"] = logs.scrubber.scrub(str(exc))


def _print(console: Console, sku: str, chains: list[dict[str, Any]]) -> None:
    for chain in chains:
        console.rule(f"{sku} in {chain['warehouse']}")
        console.print(
            f"ShipStation now: [bold]{escape(_current_text(chain))}[/]"
            f"    agreed level: {chain['agreed']}"
        )
        console.print("[bold]What the sources said[/] (newest first)")
        for o in chain["observations"] or [{"source": "none recorded"}]:
            console.print(f"  {o.get('observed_at', '')}  {o['source']}: {o.get('quantity', '')}")
        console.print("[bold]Changes in ShipStation that inventory-sync did not make[/]")
        for m in chain["movements"] or [{"observed_at": "", "before": "none seen", "after": None}]:
            arrow = "" if m["after"] is None and not m["observed_at"] else f" -> {m['after']}"
            console.print(f"  {m['observed_at']}  {m['before']}{arrow}")
        console.print("[bold]Rows the sources rejected[/] (newest first)")
        for r in chain["rejected"] or [None]:
            console.print(f"  {escape(_rejected_line(r))}")  # a value like "[red]" is not markup
        console.print("[bold]What inventory-sync did[/]")
        for a in chain["adjustments"] or [{"rule": "no adjustments recorded"}]:
            _print_adjustment(console, a)


def _current_text(chain: dict[str, Any]) -> str:
    """ShipStation's level now, or why it is not known: not asked, or the answer failed."""
    if "current_error" in chain:
        asked = "unknown" if chain["current_asked"] else "not asked"
        return f"{asked} ({chain['current_error']})"
    if not chain["current_asked"]:
        return "not asked (--offline)"
    return "no row" if chain["current"] is None else str(chain["current"])


def _rejected_line(r: dict[str, Any] | None) -> str:
    if r is None:
        return "none recorded"
    where = r["origin"] if r["line"] is None else f"{r['origin']}:{r['line']}"
    field = f" field {r['field']!r}" if r["field"] else ""
    value = f" value {r['value']!r}" if r["value"] is not None else ""
    unplaced = " (its warehouse was not known)" if r["warehouse"] is None else ""
    return (
        f"{r['at']}  {r['source']}: rejected in {where}{field}{value}{unplaced}: {r['reason']}"
        f"  run {r['run_id']}"
    )


def _print_adjustment(console: Console, a: dict[str, Any]) -> None:
    if "status" not in a:
        console.print(f"  {a['rule']}")
        return
    console.print(
        f"  {a['planned_at']}  {a['transaction_type']} {a['quantity']} "
        f"({a['before']} -> {a['after']}) by rule {a['rule']}: [bold]{a['status']}[/]"
        f"  run {a['run_id']}"
    )
    if a["basis"]:
        console.print(f"    basis: {a['basis']}")
    if a["request"]:
        console.print(f"    request: {a['request']}")
    if a["response"] or a["request_id"]:
        console.print(f"    response: {a['response']} request_id={a['request_id']}")
    if a["error"]:
        console.print(f"    [red]{a['error']}[/]")
