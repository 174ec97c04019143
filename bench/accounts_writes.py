"""Bench: three ShipStation accounts pushed at once, each as a share of its own limit.

Starts one emulator per account (each limited to its --rpm, --latency-ms per answer), writes a
configuration of three accounts with one warehouse each and one 3PL feed that changes every SKU,
then runs one reconcile of all three (as `inventory-sync reconcile` does) and prints, per
account, its writes per minute while it pushed as a fraction of its limit (target >= 0.95), its
429s (target 0), and the aggregate rate. --seconds sets how long each account pushes (about).

    python bench/accounts_writes.py                 # 75 s at 200, 300 and 120 a minute
    python bench/accounts_writes.py --seconds 30    # a quick look
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from inventory_sync import bootstrap, logs, service
from inventory_sync.config import load_settings
from inventory_sync.service.accounts import reconcile_accounts
from inventory_sync.shipstation.emulator import (
    EmulatorSettings,
    EmulatorState,
    FaultSettings,
    start_emulator,
)

NAMES = ("acme", "bolt", "cask")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=75.0, help="push time per account")
    parser.add_argument(
        "--rpm", default="200,300,120", help="each account's limit, comma-separated"
    )
    parser.add_argument("--latency-ms", type=int, default=200, help="added to every answer")
    return parser.parse_args()


def seed(account: str, skus: int) -> dict:
    names = [f"{account.upper()}-{n:05d}" for n in range(skus)]
    return {
        "products": names,
        "warehouses": [{"inventory_warehouse_id": f"se-{account}", "name": account}],
        "locations": [
            {
                "inventory_location_id": f"se-{account}-1",
                "name": "A",
                "inventory_warehouse_id": f"se-{account}",
            }
        ],
        "levels": [
            {"sku": sku, "inventory_location_id": f"se-{account}-1", "on_hand": 0} for sku in names
        ],
    }


def write_config(tmp: Path, emulators: dict, skus: dict[str, int], rpm: dict[str, int]) -> Path:
    feed = tmp / "3pl.csv"
    rows = [
        f"{name},{name.upper()}-{n:05d},{1 + n % 50}" for name in NAMES for n in range(skus[name])
    ]
    feed.write_text("site,sku,quantity\n" + "\n".join(rows) + "\n", encoding="utf-8")
    text = f'state_dir = "{tmp / "state"}"\n'
    for name in NAMES:
        text += (
            f'\n[[accounts]]\nname = "{name}"\napi_key = "{name}-bench-key"\n'
            f'base_url = "{emulators[name].base_url}"\nrequests_per_minute = {rpm[name]}\n'
            f'[[accounts.warehouses]]\nname = "{name}"\n'
            f'inventory_warehouse_id = "se-{name}"\ninventory_location_id = "se-{name}-1"\n'
        )
    text += (
        f'\n[[sources]]\nname = "3pl"\ntype = "csv"\nwarehouses = {list(NAMES)!r}\n'
        f'[sources.options]\npath = "{feed}"\nstable_seconds = 0\nwarehouse_column = "site"\n'
        "\n[reconcile]\nmax_changed_share = 1.0\nmax_units_share = 1000.0\nmax_zeroed = 100000\n"
    ).replace("'", '"')
    config = tmp / "inventory-sync.toml"
    config.write_text(text, encoding="utf-8")
    return config


def main() -> None:
    args = parse_args()
    rpm = dict(zip(NAMES, (int(r) for r in args.rpm.split(",")), strict=True))
    skus = {name: max(10, int(rpm[name] * args.seconds / 60)) for name in NAMES}
    faults = FaultSettings(latency_ms=args.latency_ms)
    emulators = {
        name: start_emulator(
            EmulatorSettings(
                api_keys=(f"{name}-bench-key",), rate_limit_per_minute=rpm[name], faults=faults
            ),
            EmulatorState.from_seed(seed(name, skus[name])),
        )
        for name in NAMES
    }
    logs.configure(level="warning")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = bootstrap.build(load_settings(write_config(Path(tmp), emulators, skus, rpm)))
            started = time.monotonic()
            try:
                summary = reconcile_accounts(app, service.RunOptions(trigger="bench", force=True))
            finally:
                app.close()
            finished = time.monotonic()
        report(rpm, emulators, summary, finished - started)
    finally:
        for emulator in emulators.values():
            emulator.stop()


def report(rpm: dict[str, int], emulators: dict, summary, wall: float) -> None:
    print(f"one reconcile of {len(NAMES)} accounts: {wall:.1f} s, status {summary.status.value}")
    total = 0
    for name in NAMES:
        seen = emulators[name].requests
        writes = sorted(r.at for r in seen if r.method == "POST" and r.status in (200, 204))
        span = writes[-1] - writes[0] if len(writes) > 1 else float("nan")
        per_minute = (len(writes) - 1) / span * 60
        late_429 = sum(1 for r in seen if r.status == 429)
        total += len(writes)
        print(
            f"{name:5} limit {rpm[name]:4}/min  writes {len(writes):4} in {span:5.1f} s  "
            f"{per_minute:6.1f}/min  share {per_minute / rpm[name]:.3f} (target >= 0.95)  "
            f"429s {late_429}"
        )
    print(
        f"aggregate           {total} writes, {total / wall * 60:.1f}/min over the whole run "
        f"(limits sum to {sum(rpm.values())}/min; reads and set-up included in the wall time)"
    )


if __name__ == "__main__":
    main()
