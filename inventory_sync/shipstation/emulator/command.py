"""`inventory-sync emulator`: run the ShipStation emulator in the foreground until a signal."""

from __future__ import annotations

import signal
import threading
from importlib import resources
from pathlib import Path
from types import FrameType

import click

from inventory_sync.shipstation.emulator.running import start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings, FaultSettings
from inventory_sync.shipstation.emulator.state import EmulatorState

DEMO_SEED = "demo-emulator.json"


def _load_state(seed: Path | None) -> EmulatorState:
    if seed is not None:
        try:
            return EmulatorState.load(seed)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # json.JSONDecodeError is a ValueError; the others come from a record missing a
            # field or of the wrong shape. All say the file is not a seed.
            raise click.BadParameter(
                f"{seed} is not a seed (JSON as written by --dump): "
                f"{type(exc).__name__}: {str(exc)[:200]}",
                param_hint="--seed",
            ) from exc
    packaged = resources.files("inventory_sync").joinpath("data", DEMO_SEED)
    with resources.as_file(packaged) as path:
        return EmulatorState.load(path)


def _wait_for_signal() -> None:
    """Block until SIGINT or SIGTERM; restore the previous handlers afterwards."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8089, show_default=True, type=int, help="Port (0: any free port).")
@click.option(
    "--seed",
    "seed",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Seed state (JSON). Default: the packaged demo seed (12 SKUs, 2 warehouses).",
)
@click.option(
    "--dump",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the final state to this JSON file on exit (same format as --seed).",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    default=("demo-key",),
    show_default=True,
    help="A key the emulator accepts (repeatable). Any other key gets 401.",
)
@click.option(
    "--plan-refused-key",
    "plan_refused_keys",
    multiple=True,
    help="A key answered 402 account_status, as for a plan without the Inventory add-on.",
)
@click.option(
    "--rate-limit",
    default=200,
    show_default=True,
    type=int,
    help="Requests per minute before 429 with Retry-After (0: unlimited).",
)
@click.option(
    "--page-size-max",
    default=500,
    show_default=True,
    type=int,
    help="Largest page_size/limit accepted; larger asks get 400.",
)
@click.option(
    "--delete-with-stock-status",
    default=409,
    show_default=True,
    type=int,
    help="Status for deleting a stocked warehouse/location without remove_inventory.",
)
@click.option("--omit-zero-stock", is_flag=True, help="Leave rows with on_hand 0 out of listings.")
@click.option("--latency-ms", default=0, show_default=True, type=int, help="Added to every answer.")
@click.option(
    "--error-rate",
    default=0.0,
    show_default=True,
    type=float,
    help="Share of requests answered 503 (half of those on writes after committing).",
)
@click.option(
    "--lost-ack-rate",
    default=0.0,
    show_default=True,
    type=float,
    help="Share of writes committed, then the connection dropped without an answer.",
)
@click.option(
    "--drop-before-rate",
    default=0.0,
    show_default=True,
    type=float,
    help="Share of requests whose connection is dropped before anything happens.",
)
@click.option(
    "--burst-429",
    nargs=2,
    type=(float, int),
    default=(0.0, 5),
    show_default=True,
    metavar="RATE LENGTH",
    help="Chance a request starts a burst of LENGTH 429 answers.",
)
@click.option(
    "--burst-retry-after",
    default=1,
    show_default=True,
    type=int,
    help="Retry-After seconds sent during a 429 burst.",
)
@click.option(
    "--echo-api-key",
    is_flag=True,
    help="Quote the request's API-Key in every error message (to rehearse the log scrubber).",
)
@click.option(
    "--fault-seed",
    default=0,
    show_default=True,
    type=int,
    help="Seed for the fault dice, so a faulty run can be replayed exactly.",
)
def emulator_command(
    *,
    host: str,
    port: int,
    seed: Path | None,
    dump: Path | None,
    api_keys: tuple[str, ...],
    plan_refused_keys: tuple[str, ...],
    rate_limit: int,
    page_size_max: int,
    delete_with_stock_status: int,
    omit_zero_stock: bool,
    latency_ms: int,
    error_rate: float,
    lost_ack_rate: float,
    drop_before_rate: float,
    burst_429: tuple[float, int],
    burst_retry_after: int,
    echo_api_key: bool,
    fault_seed: int,
) -> None:
    """Run a local ShipStation V2 inventory API (all 12 operations) for demos and tests.

    It speaks real HTTP with ShipStation's paging, error bodies, API-Key auth, 402 for
    refused plans and 429 rate limiting. Faults are seeded and can be changed while it
    runs: POST /_emulator/faults with a JSON object of fault settings. GET /_emulator/state
    dumps the state; GET /_emulator/applied lists every applied change and its count.
    Stop it with Ctrl-C or SIGTERM.
    """
    faults = FaultSettings(
        latency_ms=latency_ms,
        error_rate=error_rate,
        lost_ack_rate=lost_ack_rate,
        drop_before_rate=drop_before_rate,
        burst_429_rate=burst_429[0],
        burst_429_length=burst_429[1],
        burst_retry_after=burst_retry_after,
        echo_api_key=echo_api_key,
        seed=fault_seed,
    )
    settings = EmulatorSettings(
        host=host,
        port=port,
        api_keys=api_keys,
        plan_refused_keys=plan_refused_keys,
        page_size_max=page_size_max,
        delete_with_stock_status=delete_with_stock_status,
        omit_zero_stock=omit_zero_stock,
        rate_limit_per_minute=rate_limit,
        faults=faults,
    )
    state = _load_state(seed)
    with start_emulator(settings, state) as emulator:
        click.echo(f"ShipStation emulator listening on {emulator.base_url}")
        click.echo("Press Ctrl-C to stop.", err=True)
        _wait_for_signal()
    if dump is not None:
        state.dump(dump)
        click.echo(f"State written to {dump}")
