"""`inventory-sync warehouses`: ShipStation's warehouses beside the configured mapping, checked."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from inventory_sync import bootstrap, exits, logs
from inventory_sync.commands.common import Context, emit_json, handle_errors, pass_context
from inventory_sync.config import Settings
from inventory_sync.errors import MappingError, ShipStationError, UsageError
from inventory_sync.shipstation.mapping import MappingReport, check_mapping, create_missing
from inventory_sync.shipstation.models import InventoryLocation, InventoryWarehouse


@click.command()
@click.option(
    "--create",
    is_flag=True,
    help="Create the configured warehouses (by shipstation_name) and locations that are missing, "
    "and print the ids to put in the configuration.",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    metavar="NAME",
    help="Only this ShipStation account (repeatable; default: every account).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@pass_context
@handle_errors
def warehouses(ctx: Context, *, create: bool, accounts: tuple[str, ...], as_json: bool) -> None:
    """List ShipStation's inventory warehouses and locations beside the configured mapping,
    and check it: unknown ids, a name matching several warehouses, a warehouse with several
    locations where the configuration names none, locations that vanished. With several
    accounts, each account's ShipStation is listed beside its own warehouses.

    Exits 0 when the mapping is sound, 4 when reconcile would refuse to push.
    """
    settings = ctx.settings()
    names = [a.name for a in settings.all_accounts()]
    if unknown := sorted(set(accounts) - set(names)):
        raise UsageError(f"unknown account(s) {unknown}; configured: {', '.join(names)}")
    chosen = [n for n in names if not accounts or n in accounts]
    console = Console()
    found: list[tuple[str, _Checked]] = []
    refused: dict[str, ShipStationError] = {}
    for name in chosen:
        try:
            found.append(
                _one_account(settings, name, create=create, console=console, as_json=as_json)
            )
        except ShipStationError as exc:
            if len(chosen) == 1:
                raise  # one account: its error is the command's, as ever
            refused[name] = exc  # this account's ShipStation refused; the others are listed
    errors = [f"{name}: {e}" if len(names) > 1 else str(e) for name, r in found for e in r.errors]
    if as_json:
        emit_json(_accounts_json(found, refused))
    _end(errors, refused)


def _end(errors: list[str], refused: dict[str, ShipStationError]) -> None:
    """Exit with the most serious account's code: a refusal's, or 4 for a mapping problem."""
    for name, exc in refused.items():
        click.echo(f"inventory-sync: account {name}: {logs.scrubber.scrub(str(exc))}", err=True)
    if errors and not refused:
        raise MappingError(f"{len(errors)} warehouse mapping problem(s)", findings=errors)
    for finding in errors:
        click.echo(f"  - {finding}", err=True)
    if refused:
        codes = [exits.for_error(exc) for exc in refused.values()]
        raise SystemExit(exits.most_serious([*codes, exits.SHIPSTATION if errors else exits.OK]))


def _one_account(
    settings: Settings, account: str, *, create: bool, console: Console, as_json: bool
) -> tuple[str, _Checked]:
    mappings = bootstrap.mappings_from(settings, account)
    with bootstrap.client_only(settings, account=account) as client:
        created = create_missing(client, mappings) if create else []
        found_warehouses, found_locations = client.list_warehouses(), client.list_locations()
    report = check_mapping(mappings, found_warehouses, found_locations)
    if not as_json:
        if len(settings.all_accounts()) > 1:
            console.rule(f"account {account}", align="left")
        _print(console, report, found_warehouses, found_locations, created)
    return account, _Checked(report, found_warehouses, found_locations, created)


@dataclass(frozen=True, slots=True)
class _Checked:
    report: MappingReport
    warehouses: list[InventoryWarehouse]
    locations: list[InventoryLocation]
    created: list[InventoryWarehouse | InventoryLocation]

    @property
    def errors(self) -> list[object]:
        return list(self.report.errors)


def _accounts_json(
    found: list[tuple[str, _Checked]], refused: dict[str, ShipStationError]
) -> dict[str, Any]:
    """Today's object when one account is shown (with its name); else one per account."""
    shown = [
        {"account": name, **_as_json(c.report, c.warehouses, c.locations, c.created)}
        for name, c in found
    ]
    if len(shown) == 1 and not refused:
        return shown[0]
    shown += [
        {
            "account": name,
            "ok": False,
            "error": logs.scrubber.scrub(str(exc)),
            "error_type": type(exc).__name__,
            "status_code": exc.status_code,
        }
        for name, exc in refused.items()
    ]
    return {"ok": all(one["ok"] for one in shown), "accounts": shown}


def _as_json(
    report: MappingReport,
    found_warehouses: list[InventoryWarehouse],
    found_locations: list[InventoryLocation],
    created: list[InventoryWarehouse | InventoryLocation],
) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "warehouses": [vars_of(w) for w in found_warehouses],
        "locations": [vars_of(loc) for loc in found_locations],
        "mapping": {
            name: (vars_of(r) if r is not None else None) for name, r in report.resolved.items()
        },
        "findings": [vars_of(f) for f in report.findings],
        "created": [vars_of(c) for c in created],
    }


def vars_of(value: Any) -> dict[str, Any]:  # noqa: ANN401 - any of the client's dataclasses
    return asdict(value)


def _print(
    console: Console,
    report: MappingReport,
    found_warehouses: list[InventoryWarehouse],
    found_locations: list[InventoryLocation],
    created: list[InventoryWarehouse | InventoryLocation],
) -> None:
    used = {r.inventory_location_id: n for n, r in report.resolved.items() if r is not None}
    table = Table(title="ShipStation inventory warehouses and locations", title_justify="left")
    for column in ("warehouse id", "warehouse", "location id", "location", "configured as"):
        table.add_column(column)
    names = {w.inventory_warehouse_id: w.name for w in found_warehouses}
    for loc in sorted(found_locations, key=lambda x: (x.inventory_warehouse_id, x.name)):
        table.add_row(
            loc.inventory_warehouse_id, names.get(loc.inventory_warehouse_id, "?"),
            loc.inventory_location_id, loc.name, used.get(loc.inventory_location_id, ""),
        )  # fmt: skip
    for w in found_warehouses:
        if not any(
            loc.inventory_warehouse_id == w.inventory_warehouse_id for loc in found_locations
        ):
            table.add_row(w.inventory_warehouse_id, w.name, "—", "(no locations)", "")
    console.print(table)
    for thing in created:
        console.print(f"[green]created[/] {type(thing).__name__}: {vars_of(thing)}")
    for finding in report.findings:
        console.print(f"[{'red' if finding in report.errors else 'yellow'}]{finding}[/]")
    if report.ok:
        console.print("[green]The mapping is sound.[/] Put these ids in the configuration:")
        for name, r in report.resolved.items():
            if r is not None:
                console.print(
                    f'  [[warehouses]] name = "{name}"  '
                    f'inventory_warehouse_id = "{r.inventory_warehouse_id}"  '
                    f'inventory_location_id = "{r.inventory_location_id}"',
                    markup=False,
                )
