"""`inventory-sync demo`: a real reconcile against the built-in emulator, no configuration."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from inventory_sync import bootstrap, exits, logs, service
from inventory_sync.commands.common import Context, handle_errors, pass_context
from inventory_sync.commands.render import print_report
from inventory_sync.config import Settings, load_settings
from inventory_sync.errors import UsageError
from inventory_sync.report import RunReport
from inventory_sync.shipstation.emulator.running import RunningEmulator, start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings
from inventory_sync.shipstation.emulator.state import EmulatorState, LevelFilter

DEMO_KEY = "demo-key"
WAREHOUSES = (("east", "se-1001", "se-2001"), ("west", "se-1002", "se-2002"))
FEEDS = {"east": "demo-feed-east.csv", "west": "demo-feed-west.tsv"}


def data_file(name: str) -> Path:
    """A file shipped in inventory_sync/data."""
    return Path(str(resources.files("inventory_sync") / "data" / name))


@click.command()
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Keep the demo's ledger and feeds here (default: a temporary directory, removed after).",
)
@pass_context
@handle_errors
def demo(ctx: Context, state_dir: Path | None) -> None:
    """Watch a real reconcile: sample feeds -> the built-in ShipStation emulator -> a ledger.

    Starts the emulator on a free loopback port with two warehouses of sample stock, reads the
    sample feeds shipped with the package (one has a bad row, which is quarantined), shows the
    plan, applies it over real HTTP, shows the result, and runs once more to show that nothing
    is left to do. Every step is recorded in a SQLite ledger.
    """
    # The tables tell the story; --log-level info shows the events beside them.
    logs.configure(level=ctx.log_level or "error", fmt=ctx.log_format or "auto")
    console = Console()
    with _state(state_dir) as state, _emulator() as emulator:
        settings = demo_settings(emulator.base_url, state, _copy_feeds(state))
        console.print(f"ShipStation emulator at [bold]{emulator.base_url}[/]")
        console.print(f"Ledger at [bold]{settings.ledger_url.removeprefix('sqlite:///')}[/]\n")
        console.print(levels_table(emulator, "ShipStation before"))
        reports = [
            _step(settings, console, "1. Plan (dry run: nothing is sent)", dry_run=True),
            _step(settings, console, "2. Apply", dry_run=False),
        ]
        console.print(levels_table(emulator, "ShipStation after"))
        reports.append(_step(settings, console, "3. Run again", dry_run=False))
    if reports[-1].entries or reports[1].exit_code:
        raise SystemExit(exits.FAILED)


def _step(settings: Settings, console: Console, title: str, *, dry_run: bool) -> RunReport:
    console.rule(title)
    app = bootstrap.build(settings)
    try:
        report = service.reconcile(app, service.RunOptions(dry_run=dry_run, trigger="demo"))
    finally:
        app.close()
    print_report(report, console)
    console.print()
    return report


def demo_settings(base_url: str, state: Path, feeds: dict[str, Path]) -> Settings:
    """The demo's whole configuration, as a file would give it."""
    data: dict[str, Any] = {
        "state_dir": str(state),
        "shipstation": {"base_url": base_url, "api_key": DEMO_KEY, "requests_per_minute": 600},
        "warehouses": [
            {"name": name, "inventory_warehouse_id": wid, "inventory_location_id": lid}
            for name, wid, lid in WAREHOUSES
        ],
        "sources": [
            _feed_source("east-3pl", "east", feeds["east"], {}),
            _feed_source(
                "west-wms-export",
                "west",
                feeds["west"],
                {"format": "tsv", "sku_column": "item", "quantity_column": "on_hand"},
            ),
        ],
    }
    return load_settings(None, require_file=False, overrides=data)


def _feed_source(name: str, warehouse: str, path: Path, extra: dict[str, str]) -> dict[str, Any]:
    # The demo copies its feeds a moment before reading them, so they need no settling time.
    options = {"path": str(path), "stable_seconds": 0, **extra}
    return {"name": name, "type": "csv", "warehouses": [warehouse], "options": options}


def _copy_feeds(state: Path) -> dict[str, Path]:
    feeds = state / "feeds"
    feeds.mkdir(parents=True, exist_ok=True)
    copied = {}
    for warehouse, name in FEEDS.items():
        copied[warehouse] = Path(shutil.copyfile(data_file(name), feeds / name))
    return copied


@contextmanager
def _state(state_dir: Path | None) -> Iterator[Path]:
    if state_dir is not None:
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--state-dir {state_dir}: cannot create it ({exc.strerror})") from exc
        yield state_dir
        return
    with tempfile.TemporaryDirectory(prefix="inventory-sync-demo-") as tmp:
        yield Path(tmp)


@contextmanager
def _emulator() -> Iterator[RunningEmulator]:
    state = EmulatorState.load(data_file("demo-emulator.json"))
    with start_emulator(
        EmulatorSettings(api_keys=(DEMO_KEY,), rate_limit_per_minute=0), state
    ) as emulator:
        yield emulator


def levels_table(emulator: RunningEmulator, title: str) -> Table:
    """ShipStation's on-hand per SKU, one column per warehouse, read from the emulator's state."""
    table = Table(title=title, title_justify="left")
    table.add_column("sku")
    on_hand: dict[str, dict[str, int]] = {}
    for name, _wid, location in WAREHOUSES:
        table.add_column(name, justify="right")
        for row in emulator.state.levels(LevelFilter(inventory_location_id=location)):
            on_hand.setdefault(row.sku, {})[name] = (
                on_hand.get(row.sku, {}).get(name, 0) + row.on_hand
            )
    for sku in sorted(on_hand):
        table.add_row(sku, *(str(on_hand[sku].get(name, "—")) for name, _w, _l in WAREHOUSES))
    return table
