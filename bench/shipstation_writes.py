"""Bench: sustained writes per minute through update_many against a slow, rate-limited emulator.

Starts the emulator in-process with a rate limit of --rpm and --latency-ms per answer, pushes
adjusts for --seconds, then prints writes/minute after the first minute as a fraction of the
limit (target >= 0.95) and the number of 429s after the first minute (target 0).
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

from inventory_sync.shipstation.client import build_client
from inventory_sync.shipstation.emulator import (
    EmulatorSettings,
    EmulatorState,
    FaultSettings,
    start_emulator,
)
from inventory_sync.shipstation.keys import ApiKey
from inventory_sync.shipstation.models import InventoryUpdate, UpdateReceipt
from inventory_sync.shipstation.settings import ClientSettings

KEY = "bench-key"
SKUS = 500
WARM_UP_SECONDS = 60.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--seconds", type=float, default=150.0, help="how long to push (default 150)"
    )
    parser.add_argument(
        "--rpm", type=int, default=600, help="the emulator's limit and the client's budget"
    )
    parser.add_argument("--latency-ms", type=int, default=500, help="added to every answer")
    parser.add_argument("--concurrency", type=int, default=8, help="update_many workers")
    return parser.parse_args()


def seed() -> dict:
    skus = [f"BENCH-{n:04d}" for n in range(SKUS)]
    return {
        "products": skus,
        "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Bench"}],
        "locations": [
            {
                "inventory_location_id": "se-2",
                "name": "A - 1 - 1 - 1",
                "inventory_warehouse_id": "se-1",
            }
        ],
        "levels": [],
    }


def updates(until: float) -> Iterator[InventoryUpdate]:
    for n in itertools.count():
        if time.monotonic() >= until:
            return
        yield InventoryUpdate("adjust", f"BENCH-{n % SKUS:04d}", n % 97, "se-2")


def main() -> None:
    args = parse_args()
    settings = EmulatorSettings(
        api_keys=(KEY,),
        rate_limit_per_minute=args.rpm,
        faults=FaultSettings(latency_ms=args.latency_ms),
    )
    client_settings = ClientSettings(
        base_url="", keys=(ApiKey(KEY),), requests_per_minute=args.rpm, concurrency=args.concurrency
    )
    done: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def on_result(_update: InventoryUpdate, outcome: object) -> None:
        with lock:
            if isinstance(outcome, UpdateReceipt):
                done.append(time.monotonic())
            else:
                failures.append(type(outcome).__name__)

    with start_emulator(settings, EmulatorState.from_seed(seed())) as emulator:
        with build_client(replace(client_settings, base_url=emulator.base_url)) as client:
            started = time.monotonic()
            client.update_many(updates(started + args.seconds), on_result=on_result)
            finished = time.monotonic()
        seen = emulator.requests
    report(args, Run(started, finished, done, failures, seen))


@dataclass
class Run:
    started: float
    finished: float
    done: list[float]
    failures: list[str]
    seen: list


def report(args, run: Run) -> None:
    started, finished, done, failures, seen = (
        run.started,
        run.finished,
        run.done,
        run.failures,
        run.seen,
    )
    warm_up = WARM_UP_SECONDS if args.seconds > WARM_UP_SECONDS + 20 else 0.0
    window = finished - started - warm_up
    counted = sum(1 for at in done if at - started >= warm_up)
    per_minute = counted / window * 60
    late_429 = sum(1 for r in seen if r.status == 429 and r.at - started >= warm_up)
    print(f"duration            {finished - started:.1f} s  (measured after {warm_up:.0f} s)")
    print(f"writes applied      {len(done)}  (failed: {len(failures)} {sorted(set(failures))})")
    print(f"sustained writes    {per_minute:.1f}/min of {args.rpm}/min limit")
    print(f"fraction of limit   {per_minute / args.rpm:.3f}  (target >= 0.95)")
    all_429 = sum(1 for r in seen if r.status == 429)
    print(f"429s after warm-up  {late_429}  (target 0; all 429s: {all_429})")
    print(f"latency / workers   {args.latency_ms} ms / {args.concurrency}")


if __name__ == "__main__":
    main()
