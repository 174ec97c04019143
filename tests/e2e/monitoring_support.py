"""Scenario logs for the alert rules: real runs against the emulator, each one alert's cause.

Each scenario is a world of its own (emulator, feed, ledger) whose command or service is run at
debug level; its log is the stderr lines as journald would keep them (text lines included).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from config_template import config_toml
from crash_support import (
    Scenario,
    agree_on_the_first_feed,
    command,
    command_env,
    crash_world,
    raise_one_sku_while_agreeing_fails,
    run_failing_reads_until,
    run_until_quiet,
)
from e2e_support import API_KEY, FEED, SEED, World, make_world

from inventory_sync.shipstation.models import InventoryUpdate

REPO = Path(__file__).parents[2]
ALERTS = REPO / "monitoring" / "loki" / "alerts.yaml"
CHECK_LOGS = REPO / "monitoring" / "check-logs"
WRONG_KEY = "revoked-primary-key-77c1e0"
REFUSED_KEY = "no-inventory-addon-key-4a8d2"
DEBUG = ("--log-level", "debug")


@dataclass
class ScenarioLog:
    """What one scenario wrote, what `status --json` said after it, and the keys it used."""

    name: str
    lines: list[str]
    status: dict[str, Any]
    secrets: tuple[str, ...] = (API_KEY,)
    at_debug: bool = True  # the crash harness runs its commands at the default level
    echoed_key: bool = False  # ShipStation's error messages quoted the key (see `failing`)
    # Offsets from the last line at which to judge, and what must hold there.
    expected: dict[timedelta, set[str]] = field(default_factory=dict)
    not_expected: dict[timedelta, set[str]] = field(default_factory=dict)

    def events(self) -> list[dict[str, Any]]:
        found = []
        for line in self.lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                found.append(event)
        return found

    @property
    def last_at(self) -> datetime:
        return max(parse_timestamp(e["timestamp"]) for e in self.events())


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def lines_of(*stderrs: str) -> list[str]:
    return [line for text in stderrs for line in text.splitlines() if line.strip()]


def status_of(world: World) -> dict[str, Any]:
    done = world.run("status", "--json")
    assert done.code in {0, 1}, done.stderr[-2000:]
    return json.loads(done.stdout)


def check_logs(lines: list[str], now: datetime) -> tuple[int, list[dict[str, Any]]]:
    """Run monitoring/check-logs on the lines as of ``now``: its exit code and its alerts."""
    done = subprocess.run(
        [str(CHECK_LOGS), "--now", now.strftime("%Y-%m-%dT%H:%M:%SZ")],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode in {0, 1}, done.stderr
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


# -- the scenarios --------------------------------------------------------------------------------

SECOND = timedelta(seconds=1)


def one_shot(tmp: Path) -> list[ScenarioLog]:
    """One account through one-shot runs, each scenario a segment of its log: healthy runs,
    503s beyond the retries, a 402, a refused primary key, a guard, a gate."""
    world = make_world(tmp, ledger_url(tmp), plan_refused_keys=(REFUSED_KEY,))
    try:
        return [
            healthy(world),
            failing(world),
            plan_refused(world),
            keys(world),
            guard_held(world),
            gate_held(world),
        ]
    finally:
        world.emulator.stop()


def healthy(world: World) -> ScenarioLog:
    """A first push, then a run with nothing to do: no alert may fire."""
    first, second = world.run(*DEBUG, "reconcile"), world.run(*DEBUG, "reconcile")
    assert (first.code, second.code) == (0, 0), first.stderr + second.stderr
    return ScenarioLog("healthy", lines_of(first.stderr, second.stderr), status_of(world))


def failing(world: World) -> ScenarioLog:
    """Every request is answered 503, beyond the client's retries, with a message quoting the
    API key (as an API might echo a key back): the error the run stops on carries the key."""
    world.emulator.faults.update(error_rate=1.0, echo_api_key=True)
    done = world.run(*DEBUG, "reconcile")
    world.emulator.faults.update(error_rate=0.0, echo_api_key=False)
    assert done.code == 4, done.stderr[-2000:]
    log = ScenarioLog("failing", lines_of(done.stderr), status_of(world), echoed_key=True)
    log.expected[SECOND] = {"run_failed", "account_failed"}
    return log


def plan_refused(world: World) -> ScenarioLog:
    """The key's account lacks the Inventory API add-on: 402."""
    done = world.run(*DEBUG, "reconcile", env={KEY_ENV: REFUSED_KEY})
    assert done.code == 4, done.stderr[-2000:]
    log = ScenarioLog("plan", lines_of(done.stderr), status_of(world), (REFUSED_KEY,))
    log.expected[SECOND] = {"plan_refused", "account_failed"}
    return log


def keys(world: World) -> ScenarioLog:
    """The primary key is refused (401): failover to the secondary, which expires in 5 days."""
    soon = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    env = {
        KEY_ENV: WRONG_KEY,
        "INVENTORY_SYNC_SHIPSTATION__SECONDARY_API_KEY": API_KEY,
        "INVENTORY_SYNC_SHIPSTATION__SECONDARY_API_KEY_EXPIRES": soon,
    }
    done = world.run(*DEBUG, "reconcile", env=env)
    assert done.code == 0, done.stderr[-2000:]
    after = world.run("status", "--json", env=env)
    log = ScenarioLog("keys", lines_of(done.stderr), json.loads(after.stdout))
    log.secrets = (WRONG_KEY, API_KEY)
    log.expected[SECOND] = {"key_failed_over", "key_expiring"}
    return log


def guard_held(world: World) -> ScenarioLog:
    """Every SKU changes at once: the guard holds the run."""
    world.write_feed(FEED.replace(",10\n", ",3\n"))
    held = world.run(*DEBUG, "reconcile")
    assert held.code == 3, held.stderr[-2000:]
    log = ScenarioLog("guard", lines_of(held.stderr), status_of(world))
    log.expected[SECOND] = {"run_held"}
    return log


def gate_held(world: World) -> ScenarioLog:
    """The feed arrives all zero: the source is held by its sanity gate."""
    world.write_feed("sku,quantity\n" + "".join(f"{sku},0\n" for sku in SEED["products"]))
    held = world.run(*DEBUG, "reconcile")
    log = ScenarioLog("gate", lines_of(held.stderr), status_of(world))
    log.expected[SECOND] = {"source_held"}
    return log


def unsettled_then_review(tmp: Path) -> tuple[ScenarioLog, ScenarioLog]:
    """A delta lands as its run dies; reading it back fails (unsettled); then a sale lands
    before the read-back that succeeds, so nobody can tell (needs review)."""
    scenario = Scenario("delta", seed=51, skus=10, latency_ms=0, check_mapping=False)
    with crash_world(tmp, scenario) as (world, first):
        agree_on_the_first_feed(world)
        raise_one_sku_while_agreeing_fails(world, first)  # leaves the increment `sent`
        restart = tmp / "restart.log"
        _, deferred = run_failing_reads_until(world, "adjustment.settle_deferred", log=restart)
        assert deferred, restart.read_text(encoding="utf-8")[-2000:]
        unsettled = ScenarioLog("unsettled", lines_of(restart.read_text("utf-8")), {})
        unsettled.at_debug = False
        unsettled.status = status_of(world)
        unsettled.not_expected[SECOND] = {"adjustments_unsettled"}
        unsettled.expected[timedelta(minutes=61)] = {"adjustments_unsettled", "no_runs"}
        sale = InventoryUpdate("decrement", "SKU-003", 1, "se-11", notes="a sale")
        world.emulator.state.apply_update(sale)
        results = run_until_quiet(world, max_runs=3)
        review = ScenarioLog("review", lines_of(*(r.stderr for r in results)), {})
        review.at_debug = False
        review.status = status_of(world)
        review.expected[SECOND] = {"adjustments_need_review"}
        return unsettled, review


def service_stopped(tmp: Path) -> ScenarioLog:
    """The service pushes, its feed disappears (unavailable, then stale), then it is stopped."""
    world = make_world(tmp, ledger_url(tmp))
    world.config.write_text(daemon_config(world), encoding="utf-8")
    log_path = tmp / "daemon.log"
    try:
        with log_path.open("wb") as err:
            proc = subprocess.Popen(
                [*command(world), *DEBUG, "run"],
                stderr=err,
                stdout=subprocess.DEVNULL,
                env={**command_env(world), KEY_ENV: API_KEY},
            )
        try:
            wait_for(lambda: '"event": "run.finished"' in log_path.read_text("utf-8"), 60)
            world.feed.unlink()  # the 3PL's file goes away, and with it fresh data
            for event in ("source.unavailable", "source.stale"):
                wait_for(lambda e=event: f'"event": "{e}"' in log_path.read_text("utf-8"), 60)
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, log_path.read_text("utf-8")[-2000:]
        log = ScenarioLog("stopped", lines_of(log_path.read_text("utf-8")), status_of(world))
        log.expected[SECOND] = {"source_stale", "source_unavailable"}
        log.not_expected[SECOND] = {"no_runs"}
        log.expected[timedelta(minutes=41)] = {"no_runs"}
        return log
    finally:
        world.emulator.stop()


KEY_ENV = "INVENTORY_SYNC_SHIPSTATION__API_KEY"
SCENARIOS: list[Callable[[Path], list[ScenarioLog]]] = [
    one_shot,
    lambda tmp: [service_stopped(tmp)],
    lambda tmp: list(unsettled_then_review(tmp)),
]


def ledger_url(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'state' / 'ledger.db'}"


def daemon_config(world: World) -> str:
    """The one-shot configuration, with a source pulled every second and a quick service."""
    return config_toml(
        world.tmp / "state",
        world.emulator.base_url,
        world.feed,
        source='interval = "1s"',
        tail=DAEMON,
    )


DAEMON = """
[daemon]
reconcile_interval = "2s"
debounce_seconds = 0.2
stale_after_intervals = 3
stop_timeout = "10s"
"""


def wait_for(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        time.sleep(0.1)
