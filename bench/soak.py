"""Soak: the daemon for --minutes at one-second intervals; memory and open files must stay flat.

Starts the emulator in-process, writes a configuration whose source is pulled every second and
whose warehouse is reconciled every two seconds (drift scan, key check and retention every
30 s), starts `inventory-sync run` as a subprocess, and rewrites the feed every few seconds
so that pushes keep happening. Samples the daemon's RSS (VmRSS in /proc/PID/status) and open
file descriptors (/proc/PID/fd) after a warm-up, every minute, and at the end, then prints
whether they stayed flat. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from inventory_sync.shipstation.emulator import EmulatorSettings, EmulatorState, start_emulator

KEY = "soak-key-7c1e44b2"
SKUS = [f"SKU-{n:03d}" for n in range(40)]
WARM_UP_SECONDS = 30.0  # imports, the first pull and push, SQLite's page cache: not a leak
RSS_SLACK_KIB = 8 * 1024  # allocator noise and caches that settle; a leak outgrows this
FD_SLACK = 2  # a keep-alive connection opened or closed at the moment of a sample


@dataclass(frozen=True)
class Sample:
    seconds: float
    rss_kib: int
    fds: int


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0, help="how long (default 10)")
    parser.add_argument(
        "--feed-every", type=float, default=5.0, help="seconds between feed changes"
    )
    return parser.parse_args()


def seed() -> dict[str, object]:
    return {
        "products": SKUS,
        "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
        "locations": [
            {"inventory_location_id": "se-11", "name": "A", "inventory_warehouse_id": "se-1"}
        ],
        "levels": [
            {"sku": sku, "inventory_location_id": "se-11", "on_hand": 10, "allocated": 0}
            for sku in SKUS
        ],
    }


def write_feed(feed: Path, rng: random.Random) -> None:
    # A few SKUs move each time, well inside the guards (a real feed moves a little at a time).
    rows = [f"{sku},{10 + (rng.randint(0, 3) if rng.random() < 0.2 else 0)}" for sku in SKUS]
    tmp = feed.with_suffix(".tmp")
    tmp.write_text("sku,quantity\n" + "\n".join(rows) + "\n", encoding="utf-8")
    tmp.replace(feed)  # atomic: the daemon never reads half a file


def write_config(tmp: Path, base_url: str, feed: Path) -> Path:
    config = tmp / "soak.toml"
    config.write_text(
        f"""
state_dir = "{tmp / "state"}"

[shipstation]
base_url = "{base_url}"
requests_per_minute = 6000

[[warehouses]]
name = "main"
inventory_warehouse_id = "se-1"
inventory_location_id = "se-11"

[[sources]]
name = "feed"
type = "csv"
warehouses = ["main"]
interval = "1s"
[sources.options]
path = "{feed}"
stable_seconds = 0

[daemon]
reconcile_interval = "2s"
debounce_seconds = 0.5
drift_scan = "30s"
key_check = "30s"
retention = "30s"
""",
        encoding="utf-8",
    )
    return config


def sample(pid: int, started: float) -> Sample:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    fds = len(os.listdir(f"/proc/{pid}/fd"))  # noqa: PTH208 - a count, no Path objects needed
    return Sample(time.monotonic() - started, rss, fds)


def keep_changing(feed: Path, every: float, stop: threading.Event) -> None:
    rng = random.Random(7)
    while not stop.wait(every):
        write_feed(feed, rng)


def count_events(log_path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    non_json = 0
    for line in log_path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)["event"]
        except (ValueError, KeyError):
            non_json += 1
            continue
        counts[event] = counts.get(event, 0) + 1
    if non_json:
        counts["(not JSON)"] = non_json
    return counts


def report(samples: list[Sample], events: dict[str, int], code: int | None) -> bool:
    for s in samples:
        print(f"t={s.seconds:7.1f}s  rss={s.rss_kib / 1024:7.1f} MiB  fds={s.fds}")
    first, middle, last = samples[0], samples[len(samples) // 2], samples[-1]
    # A leak grows steadily, so it shows in the second half as much as in the first; pools
    # that open connections on demand (SQLite's, httpx's) fill early and then stay.
    flat = (
        last.rss_kib - middle.rss_kib <= RSS_SLACK_KIB / 2
        and last.rss_kib - first.rss_kib <= RSS_SLACK_KIB
        and last.fds - middle.fds <= FD_SLACK
    )
    for label, base in (("start", first), ("middle", middle)):
        print(
            f"{label} -> end: rss {base.rss_kib / 1024:.1f} -> {last.rss_kib / 1024:.1f} MiB "
            f"({(last.rss_kib - base.rss_kib) / 1024:+.1f}), fds {base.fds} -> {last.fds} "
            f"({last.fds - base.fds:+d})"
        )
    print("events: " + ", ".join(f"{name}={n}" for name, n in sorted(events.items())))
    print(f"exit code after SIGTERM: {code}")
    print("FLAT" if flat else "NOT FLAT")
    # Flat figures from a daemon whose jobs all failed would prove nothing.
    worked = events.get("push.progress", 0) > 0 and not events.get("scheduler.job_failed")
    print("jobs worked (pushes, no job failed)" if worked else "JOBS DID NOT WORK")
    return flat and worked and code == 0


def main() -> int:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="inventory-sync-soak-"))
    emulator = start_emulator(
        EmulatorSettings(api_keys=(KEY,), rate_limit_per_minute=0), EmulatorState.from_seed(seed())
    )
    feed = tmp / "feed.csv"
    write_feed(feed, random.Random(1))
    config = write_config(tmp, emulator.base_url, feed)
    env = {**os.environ, "INVENTORY_SYNC_SHIPSTATION__API_KEY": KEY}
    log_path = tmp / "daemon.log"
    stop = threading.Event()
    changer = threading.Thread(target=keep_changing, args=(feed, args.feed_every, stop))
    with log_path.open("w", encoding="utf-8") as log_file:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "inventory_sync", "--config", str(config), "run"],
            env=env,
            stderr=log_file,
        )
        try:
            started = time.monotonic()
            changer.start()
            samples = run_samples(daemon.pid, started, args.minutes * 60)
            daemon.send_signal(signal.SIGTERM)
            code = daemon.wait(timeout=60)
        finally:
            stop.set()
            if daemon.poll() is None:
                daemon.kill()
            emulator.stop()
    print(f"log: {log_path}")
    return 0 if report(samples, count_events(log_path), code) else 1


def run_samples(pid: int, started: float, seconds: float) -> list[Sample]:
    time.sleep(WARM_UP_SECONDS)
    samples = [sample(pid, started)]
    print(f"baseline after warm-up: {samples[0]}", flush=True)
    end = started + WARM_UP_SECONDS + seconds
    while (now := time.monotonic()) < end:
        time.sleep(min(60.0, end - now))
        samples.append(sample(pid, started))
        print(samples[-1], flush=True)
    return samples


if __name__ == "__main__":
    raise SystemExit(main())
