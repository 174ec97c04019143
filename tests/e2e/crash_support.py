"""Crash and fault harness: a larger emulated account, a run that can be killed, the checks."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from config_template import config_toml
from e2e_support import API_KEY, Result, World

from inventory_sync.domain.model import AdjustmentStatus, JournalEntry, Warehouse
from inventory_sync.ledger.repository import open_ledger
from inventory_sync.shipstation.emulator.running import RunningEmulator, start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings, FaultSettings
from inventory_sync.shipstation.emulator.state import EmulatorState

WAREHOUSE = "main"
LOCATION = "se-11"
DELTA_TYPES = frozenset({"increment", "decrement"})
RUN_TIMEOUT = 60.0  # seconds: no run here needs more than a few; a hung one fails the test
QUIET = 0.25  # seconds without a new write before the emulator counts as idle after a kill
# Where the ledger may leave an adjustment once the runs have converged.
ACCOUNTED_FOR = frozenset(
    {
        AdjustmentStatus.APPLIED,
        AdjustmentStatus.FAILED,
        AdjustmentStatus.NEEDS_REVIEW,
        AdjustmentStatus.SKIPPED,
    }
)


@dataclass(frozen=True, slots=True)
class Scenario:
    """What one crash or fault world is made of; every random choice derives from ``seed``."""

    mode: str  # "mirror" or "delta"
    seed: int
    skus: int = 40
    latency_ms: int = 30
    concurrency: int = 4
    faults: FaultSettings | None = None  # None: only latency
    kills: int = 7  # crash test: SIGKILLs that must land in this world
    check_mapping: bool = True  # False: a run's first request is its read-back of leftovers

    def describe(self) -> str:
        return f"mode={self.mode} seed={self.seed} skus={self.skus}"

    @property
    def name(self) -> str:
        return f"{self.mode}-seed{self.seed}"


@dataclass(frozen=True, slots=True)
class Kill:
    """One attempt to kill a run: armed after ``after_writes`` writes, fired ``delay_ms`` later."""

    after_writes: int
    delay_ms: int
    killed: bool  # False: the run had already exited when the signal was due
    code: int  # the exit status (-9 when killed)
    writes_seen: int  # writes the emulator applied during the run, up to the kill

    def describe(self) -> str:
        what = "killed" if self.killed else f"exited {self.code} first"
        return f"{what} at write {self.after_writes}+{self.delay_ms}ms (saw {self.writes_seen})"


def sku_names(count: int) -> list[str]:
    return [f"SKU-{n:03d}" for n in range(count)]


def seed_account(skus: list[str], rng: random.Random) -> dict:
    """One warehouse, one location, and every SKU stocked with a seeded on-hand."""
    return {
        "products": skus,
        "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
        "locations": [
            {"inventory_location_id": LOCATION, "name": "A-1", "inventory_warehouse_id": "se-1"}
        ],
        "levels": [
            {"sku": sku, "inventory_location_id": LOCATION, "on_hand": rng.randint(5, 30)}
            for sku in skus
        ],
    }


def changed_feed(current: dict[str, int], rng: random.Random, share: float = 0.8) -> dict[str, int]:
    """A new feed in which about ``share`` of the SKUs moved by a few units (never below 0)."""
    new = dict(current)
    for sku, value in current.items():
        if rng.random() < share:
            step = rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5])
            new[sku] = value + step if value + step >= 0 else value + abs(step)
    return new


def feed_text(values: dict[str, int]) -> str:
    return "sku,quantity\n" + "".join(f"{sku},{q}\n" for sku, q in sorted(values.items()))


def write_config(tmp: Path, base_url: str, feed: Path, scenario: Scenario) -> Path:
    config = tmp / "inventory-sync.toml"
    text = config_toml(
        tmp / "state",
        base_url,
        feed,
        warehouse=WAREHOUSE,
        location=LOCATION,
        shipstation=f"concurrency = {scenario.concurrency}\n"
        "# The emulator's latency paces the push, not the client's request budget.\n"
        "requests_per_minute = 60000",
        reconcile=f'mode = "{scenario.mode}"\n'
        "# Guards off: these runs move most of the account on purpose.\n"
        "max_changed_share = 1.0\nmax_units_share = 100\nmax_zeroed = 1000\n"
        f"check_mapping = {str(scenario.check_mapping).lower()}",
    )
    config.write_text(text, encoding="utf-8")
    return config


@contextmanager
def crash_world(tmp: Path, scenario: Scenario) -> Iterator[tuple[World, dict[str, int]]]:
    """A running emulator seeded from the scenario, a config and feed on disk; stopped after.

    Yields the world and the first feed (values that differ from the account for most SKUs).
    """
    rng = random.Random(scenario.seed)
    skus = sku_names(scenario.skus)
    account = seed_account(skus, rng)
    faults = scenario.faults or FaultSettings(latency_ms=scenario.latency_ms, seed=scenario.seed)
    settings = EmulatorSettings(api_keys=(API_KEY,), rate_limit_per_minute=0, faults=faults)
    emulator = start_emulator(settings, EmulatorState.from_seed(account))
    try:
        feed = tmp / "feed.csv"
        first = changed_feed({row["sku"]: row["on_hand"] for row in account["levels"]}, rng)
        feed.write_text(feed_text(first), encoding="utf-8")
        config = write_config(tmp, emulator.base_url, feed, scenario)
        ledger_url = f"sqlite:///{tmp / 'state' / 'ledger.db'}"
        yield World(tmp, emulator, config, feed, ledger_url), first
    finally:
        emulator.stop()


# -- the emulator's own record -------------------------------------------------------------------


def applied_writes(emulator: RunningEmulator) -> int:
    """Inventory writes the emulator has applied so far, replays included."""
    return sum(e.count for e in emulator.applied() if e.path == "/v2/inventory")


def applied_by_id(emulator: RunningEmulator) -> dict[str, tuple[str, int]]:
    """Adjustment id (from notes) -> (transaction type, times the emulator applied that body)."""
    found: dict[str, tuple[str, int]] = {}
    for entry in emulator.applied():
        if entry.path != "/v2/inventory":
            continue
        notes = str(entry.body.get("notes") or "")
        if notes.startswith("inventory-sync "):
            found[notes.rsplit(maxsplit=1)[-1]] = (entry.body["transaction_type"], entry.count)
    return found


def applied_of_kind(emulator: RunningEmulator, kind: str) -> list[str]:
    """The adjustment ids of every body of this transaction type the emulator applied."""
    return [i for i, (applied_kind, _) in applied_by_id(emulator).items() if applied_kind == kind]


def deltas_applied_twice(emulator: RunningEmulator) -> dict[str, int]:
    """Every increment or decrement body the emulator applied more than once."""
    return {
        adjustment_id: count
        for adjustment_id, (kind, count) in applied_by_id(emulator).items()
        if kind in DELTA_TYPES and count > 1
    }


def wait_until_idle(emulator: RunningEmulator, *, limit: float = 5.0) -> None:
    """Let requests a killed run left in flight land (they do: the server already has them)."""
    deadline = time.monotonic() + limit
    last, since = applied_writes(emulator), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.02)
        now = applied_writes(emulator)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= QUIET:
            return


# -- runs ----------------------------------------------------------------------------------------


def command_env(world: World) -> dict[str, str]:
    return {
        **os.environ,
        "INVENTORY_SYNC_SHIPSTATION__API_KEY": API_KEY,
        "INVENTORY_SYNC_LEDGER__URL": world.ledger_url,
    }


def command(world: World) -> list[str]:
    return [sys.executable, "-m", "inventory_sync", "--config", str(world.config)]


def run_and_kill(world: World, rng: random.Random, *, pending: int, log: Path) -> Kill:
    """Start `reconcile`, wait for a seeded number of its writes to land, sleep a seeded few
    milliseconds, then SIGKILL it. ``pending`` is how many writes the run is expected to make."""
    after = rng.randint(1, max(1, pending))
    delay_ms = rng.randint(0, 60)
    start = applied_writes(world.emulator)
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [*command(world), "reconcile", "--json"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=command_env(world),
        )
        try:
            wait_for_writes(world, proc, start + after)
            time.sleep(delay_ms / 1000)
            killed = proc.poll() is None
            if killed:
                proc.send_signal(signal.SIGKILL)
            code = proc.wait(timeout=RUN_TIMEOUT)
        finally:
            if proc.poll() is None:  # the test failed while the run was alive
                proc.kill()
                proc.wait(timeout=RUN_TIMEOUT)
    seen = applied_writes(world.emulator) - start
    return Kill(after, delay_ms, killed=killed, code=code, writes_seen=seen)


def wait_for_writes(world: World, proc: subprocess.Popen, total: int) -> None:
    """Until the emulator has applied ``total`` writes in all, or the run has exited."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while proc.poll() is None and applied_writes(world.emulator) < total:
        assert time.monotonic() < deadline, f"the run never reached write {total}"
        time.sleep(0.005)


def run_failing_reads_until(world: World, event: str, *, log: Path) -> tuple[int, bool]:
    """Run `reconcile` while every request is answered 503, until the run logs ``event``;
    then ShipStation recovers. Returns the exit code and whether the event was logged."""
    world.emulator.faults.update(error_rate=1.0)
    logged = threading.Event()
    proc = subprocess.Popen(
        [*command(world), "reconcile", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=command_env(world),
    )

    def watch() -> None:
        with log.open("w", encoding="utf-8") as out:
            for line in proc.stderr or ():
                out.write(line)
                if f'"event": "{event}"' in line and not logged.is_set():
                    world.emulator.faults.update(error_rate=0.0)
                    logged.set()

    watcher = threading.Thread(target=watch, name="stderr-watcher")
    watcher.start()
    with proc:  # closes the pipe on leaving
        try:
            code = proc.wait(timeout=RUN_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=RUN_TIMEOUT)
            world.emulator.faults.update(error_rate=0.0)
            watcher.join(timeout=RUN_TIMEOUT)
    return code, logged.is_set()


def summary(result: Result) -> dict:
    try:
        return result.json()
    except ValueError:
        return {}


def run_until_quiet(world: World, *, max_runs: int) -> list[Result]:
    """Run `reconcile --json` until a run finds nothing to do and leaves nothing unsettled."""
    results: list[Result] = []
    for _ in range(max_runs):
        result = world.run("reconcile", "--json")
        results.append(result)
        if result.code == 0 and summary(result).get("planned") == 0 and not unsettled(world):
            break
    return results


def quiet(results: list[Result]) -> bool:
    return bool(results) and results[-1].code == 0 and summary(results[-1]).get("planned") == 0


def history(results: list[Result]) -> str:
    """One line per run: exit code and counts, for assertion messages."""
    lines = []
    for result in results:
        s = summary(result)
        counts = {k: s.get(k) for k in ("planned", "applied", "failed", "uncertain")}
        lines.append(
            f"exit {result.code} {s.get('status')} {counts} settled={len(s.get('settled', []))}"
        )
    return "\n".join(lines)


# -- the ledger ----------------------------------------------------------------------------------


def journal(world: World) -> list[JournalEntry]:
    with open_ledger(world.ledger_url, migrate=False) as ledger:
        return ledger.journal()


def unsettled(world: World) -> list[JournalEntry]:
    with open_ledger(world.ledger_url, migrate=False) as ledger:
        return ledger.unsettled()


def agreed(world: World) -> dict[str, int]:
    with open_ledger(world.ledger_url, migrate=False) as ledger:
        return dict(ledger.agreed_levels(Warehouse(WAREHOUSE)))


@contextmanager
def agreed_levels_refused(world: World) -> Iterator[None]:
    """Make every write of an agreed level fail inside the real ledger file, so a run dies at
    exactly that step (the process exits 70); dropped again on leaving."""
    path = world.ledger_url.removeprefix("sqlite:///")
    names = ("refuse_agreed_insert", "refuse_agreed_update")
    with closing(sqlite3.connect(path)) as db, db:
        for name, event in zip(names, ("INSERT", "UPDATE"), strict=True):
            db.execute(
                f"CREATE TRIGGER {name} BEFORE {event} ON agreed_levels "
                "BEGIN SELECT RAISE(ABORT, 'simulated crash while agreeing'); END"
            )
    try:
        yield
    finally:
        with closing(sqlite3.connect(path)) as db, db:
            for name in names:
                db.execute(f"DROP TRIGGER IF EXISTS {name}")


def observed_movements(world: World) -> dict[str, list[tuple[int | None, int | None]]]:
    """SKU -> the moves the ledger recorded as made in ShipStation by someone else."""
    with open_ledger(world.ledger_url, migrate=False) as ledger:
        found = {
            sku: [(m.before, m.after) for m in ledger.movements_for(Warehouse(WAREHOUSE), sku)]
            for sku in world.on_hand()
        }
    return {sku: moves for sku, moves in found.items() if moves}


def agree_on_the_first_feed(world: World) -> None:
    """One run of adjusts (delta's first sight): afterwards every SKU has an agreed level."""
    first_sight = world.run("reconcile", "--json")
    assert (first_sight.code, summary(first_sight).get("failed")) == (0, 0), first_sight.stderr


def raise_one_sku_while_agreeing_fails(world: World, first: dict[str, int]) -> dict[str, int]:
    """Raise one SKU by 2 in the feed and run with every agreed-level write refused: the run
    dies right after the increment lands. Returns the new feed."""
    target = {**first, "SKU-003": first["SKU-003"] + 2}
    world.write_feed(feed_text(target))
    with agreed_levels_refused(world):
        died = world.run("reconcile", "--json")
    assert (died.code, summary(died).get("status")) == (1, "error"), died.stderr[-2000:]
    assert "simulated crash while agreeing" in died.stderr, died.stderr[-2000:]
    return target


def unaccounted(entries: list[JournalEntry]) -> list[str]:
    """Entries not applied, failed with a reason, needs_review, or skipped with a reason."""
    bad = []
    for entry in entries:
        reason_needed = entry.status in {AdjustmentStatus.FAILED, AdjustmentStatus.SKIPPED}
        if entry.status not in ACCOUNTED_FOR or (reason_needed and not entry.error):
            bad.append(f"{entry.adjustment.adjustment_id} {entry.adjustment.sku} {entry.status}")
    return bad


def ledger_disagrees(
    entries: list[JournalEntry], emulator: RunningEmulator, *, kinds: frozenset[str] | None = None
) -> list[str]:
    """Adjustments (of ``kinds``, default all) whose ledger status contradicts the emulator's
    record: applied in the ledger but not by the emulator, or failed/skipped but applied there."""
    landed = applied_by_id(emulator)
    bad = []
    for entry in entries:
        if kinds is not None and entry.adjustment.transaction_type.value not in kinds:
            continue
        adjustment_id = entry.adjustment.adjustment_id
        if entry.status is AdjustmentStatus.APPLIED and adjustment_id not in landed:
            bad.append(f"{adjustment_id} {entry.adjustment.sku}: ledger applied, emulator did not")
        if entry.status in {AdjustmentStatus.FAILED, AdjustmentStatus.SKIPPED} and (
            adjustment_id in landed
        ):
            bad.append(
                f"{adjustment_id} {entry.adjustment.sku}: ledger {entry.status}, emulator applied"
            )
    return bad


def differences(world: World, target: dict[str, int]) -> dict[str, tuple[int | None, int]]:
    """SKU -> (ShipStation's on-hand, the feed's value) wherever they differ."""
    on_hand = world.on_hand()
    return {
        sku: (on_hand.get(sku), value)
        for sku, value in sorted(target.items())
        if on_hand.get(sku, 0) != value
    }
