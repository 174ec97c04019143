"""Three ShipStation accounts in one configuration: one throttled hard, one without the add-on.

Three emulators on loopback (one per account), five warehouses across them fed by one 3PL file,
and `inventory-sync reconcile` run as a subprocess. Budget: about 40 s (fifteen command runs).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from inventory_sync.cli import cli
from inventory_sync.logs import REDACTED
from inventory_sync.shipstation.emulator.running import RunningEmulator, start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings, FaultSettings
from inventory_sync.shipstation.emulator.state import EmulatorState, LevelFilter

SKUS = ("RED", "BLUE", "GREEN")
# account -> {warehouse: (inventory_warehouse_id, inventory_location_id)}
LAYOUT = {
    "acme": {"acme-east": ("se-101", "se-1101"), "acme-west": ("se-102", "se-1102")},
    "bolt-eu": {"bolt-1": ("se-201", "se-2101"), "bolt-2": ("se-202", "se-2102")},
    "cask": {"cask": ("se-301", "se-3101")},
}
TARGET = {"RED": 7, "BLUE": 3, "GREEN": 0}
START = 5
KEYS = {f"{name}__API_KEY": f"{name}-key-0c1f2e3d4b" for name in LAYOUT}


def seed(warehouses: dict[str, tuple[str, str]]) -> dict:
    return {
        "products": list(SKUS),
        "warehouses": [
            {"inventory_warehouse_id": w, "name": n} for n, (w, _l) in warehouses.items()
        ],
        "locations": [
            {"inventory_location_id": loc, "name": "A", "inventory_warehouse_id": w}
            for w, loc in warehouses.values()
        ],
        "levels": [
            {"sku": sku, "inventory_location_id": loc, "on_hand": START}
            for _w, loc in warehouses.values()
            for sku in SKUS
        ],
    }


def emulator_for(account: str) -> RunningEmulator:
    key = KEYS[f"{account}__API_KEY"]
    settings = EmulatorSettings(api_keys=(key,), rate_limit_per_minute=200)
    if account == "cask":  # the key is good, the plan lacks the Inventory API add-on
        settings = EmulatorSettings(plan_refused_keys=(key,), api_keys=())
    if account == "bolt-eu":  # throttled hard: every request 429, come back in ten minutes
        faults = FaultSettings(burst_429_rate=1.0, burst_429_length=10_000, burst_retry_after=600)
        settings = EmulatorSettings(api_keys=(key,), faults=faults)
    return start_emulator(settings, EmulatorState.from_seed(seed(LAYOUT[account])))


def config_text(tmp: Path, emulators: dict[str, RunningEmulator], feed: Path) -> str:
    text = f'state_dir = "{tmp / "state"}"\n'
    for account, warehouses in LAYOUT.items():
        text += f'\n[[accounts]]\nname = "{account}"\nbase_url = "{emulators[account].base_url}"\n'
        for name, (warehouse_id, location_id) in warehouses.items():
            text += (
                f'[[accounts.warehouses]]\nname = "{name}"\n'
                f'inventory_warehouse_id = "{warehouse_id}"\n'
                f'inventory_location_id = "{location_id}"\n'
            )
    names = [w for ws in LAYOUT.values() for w in ws]
    return text + (
        f'\n[[sources]]\nname = "3pl"\ntype = "csv"\nwarehouses = {json.dumps(names)}\n'
        f'[sources.options]\npath = "{feed}"\nstable_seconds = 0\nwarehouse_column = "site"\n'
        "\n[reconcile]\nmax_changed_share = 1.0\nmax_units_share = 10.0\n"
    )


class Accounts:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.emulators = {account: emulator_for(account) for account in LAYOUT}
        feed = tmp / "3pl.csv"
        rows = [f"{w},{sku},{q}" for ws in LAYOUT.values() for w in ws for sku, q in TARGET.items()]
        feed.write_text("site,sku,quantity\n" + "\n".join(rows) + "\n", encoding="utf-8")
        self.config = tmp / "inventory-sync.toml"
        self.config.write_text(config_text(tmp, self.emulators, feed), encoding="utf-8")

    def run(
        self, *args: str, keys: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "INVENTORY_SYNC_LOGGING__FORMAT": "json"}
        for account, key in (keys or KEYS).items():  # the documented scheme, one per account
            env[f"INVENTORY_SYNC_ACCOUNTS__{account.upper().replace('-', '_')}"] = key
        return subprocess.run(
            [sys.executable, "-m", "inventory_sync", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    def on_hand(self, account: str, warehouse: str) -> dict[str, int]:
        location = LAYOUT[account][warehouse][1]
        rows = self.emulators[account].state.levels(LevelFilter(inventory_location_id=location))
        return {r.sku: r.on_hand for r in rows}

    def counts(self, account: str) -> dict:
        """The emulator's own count of what it answered, from its admin API."""
        return httpx.get(self.emulators[account].base_url + "/_emulator/requests").json()

    def stop(self) -> None:
        for emulator in self.emulators.values():
            emulator.stop()


@pytest.fixture
def accounts(tmp_path: Path):
    world = Accounts(tmp_path)
    try:
        yield world
    finally:
        world.stop()


def events(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


class TestThreeAccounts:
    def test_a_throttled_and_a_refused_account_stop_only_their_own_work(self, accounts):
        done = accounts.run("reconcile", "--json")
        assert done.returncode == 4, done.stderr  # the most serious account's code: 402
        summary = json.loads(done.stdout)
        by_name = {a["account"]: a for a in summary["accounts"]}
        assert summary["failed_accounts"] == ["bolt-eu", "cask"]
        assert (by_name["acme"]["status"], by_name["acme"]["applied"]) == ("succeeded", 6)
        assert by_name["bolt-eu"]["error_type"] == "RateLimited"
        assert (by_name["cask"]["error_type"], by_name["cask"]["status_code"]) == ("PlanError", 402)
        assert [by_name[a]["exit_code"] for a in LAYOUT] == [0, 4, 4]  # throttled is refused too

        # Levels: the good account reached the feed; the other two were left as they were.
        for warehouse in LAYOUT["acme"]:
            assert accounts.on_hand("acme", warehouse) == TARGET
        for account in ("bolt-eu", "cask"):
            for warehouse in LAYOUT[account]:
                assert accounts.on_hand(account, warehouse) == dict.fromkeys(SKUS, START)

        # Budgets, as each emulator counted them: at most one 429 each, none for the healthy.
        counts = {account: accounts.counts(account) for account in LAYOUT}
        assert [counts[a]["rate_limited"] for a in LAYOUT] == [0, 1, 0]
        assert counts["bolt-eu"]["total"] == 1  # nothing more was sent once throttled
        assert counts["cask"] == {"total": 1, "by_status": {"402": 1}, "rate_limited": 0}
        assert all(int(status) < 400 for status in counts["acme"]["by_status"])

        failed = [e for e in events(done.stderr) if e["event"] == "account.failed"]
        assert sorted((e["account"], e["error_type"]) for e in failed) == [
            ("bolt-eu", "RateLimited"),
            ("cask", "PlanError"),
        ]
        finished = [e for e in events(done.stderr) if e["event"] == "run.finished"]
        assert sorted((e["account"], e["status"]) for e in finished) == [
            ("acme", "succeeded"),
            ("bolt-eu", "failed"),
            ("cask", "failed"),
        ]

    def test_an_account_run_reaches_only_that_account_and_recovers_it(self, accounts):
        accounts.emulators["bolt-eu"].faults.update(burst_429_rate=0.0, burst_429_length=0)
        done = accounts.run("reconcile", "--account", "bolt-eu", "--json")
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert (summary["account"], summary["applied"], summary["failed_accounts"]) == (
            "bolt-eu",
            6,
            [],
        )
        for warehouse in LAYOUT["bolt-eu"]:
            assert accounts.on_hand("bolt-eu", warehouse) == TARGET
        assert accounts.counts("acme")["total"] == 0
        assert accounts.counts("cask")["total"] == 0

    def test_an_account_whose_keys_are_refused_after_failover_stops_alone(self, accounts):
        refused = {"acme__API_KEY": "revoked-key-1", "acme__SECONDARY_API_KEY": "revoked-key-2"}
        keys = {**KEYS, **refused}
        done = accounts.run(
            "reconcile", "--json", "--account", "acme", "--account", "cask", keys=keys
        )
        assert done.returncode == 4, done.stderr
        by_name = {a["account"]: a for a in json.loads(done.stdout)["accounts"]}
        assert (by_name["acme"]["error_type"], by_name["acme"]["status_code"]) == ("AuthError", 401)
        failed_over = [
            e for e in events(done.stderr) if e["event"] == "shipstation.key_failed_over"
        ]
        assert [e["account"] for e in failed_over] == ["acme"]
        assert all(r.status == 401 for r in accounts.emulators["acme"].requests)
        assert "revoked-key" not in done.stderr + done.stdout  # keys never reach the logs

    def test_the_console_summary_names_the_failed_accounts(self, accounts):
        done = accounts.run("reconcile", "--dry-run")
        assert done.returncode == 4, done.stderr
        assert "bolt-eu: failed (exit 4)" in done.stdout
        assert "cask: failed (exit 4)" in done.stdout
        assert "PlanError" in done.stdout
        assert "acme: succeeded (exit 0)" in done.stdout
        assert "accounts failed: bolt-eu, cask" in done.stdout


class TestCommandsWithAccounts:
    def test_commands_that_name_a_warehouse_or_an_account_reach_the_right_one(self, accounts):
        assert accounts.run("reconcile", "--account", "acme").returncode == 0

        adjusted = accounts.run(
            "adjust", "RED", "-w", "acme-west", "--set", "8", "--reason", "count"
        )
        assert adjusted.returncode == 0, adjusted.stderr
        assert accounts.on_hand("acme", "acme-west")["RED"] == 8

        explained = accounts.run("explain", "RED", "-w", "acme-west", "--json")
        (chain,) = json.loads(explained.stdout)["warehouses"]
        assert (chain["account"], chain["current"]) == ("acme", 8)

        listed = accounts.run("warehouses", "--account", "acme", "--json")
        assert listed.returncode == 0, listed.stderr
        found = json.loads(listed.stdout)
        assert (found["account"], found["ok"]) == ("acme", True)
        assert {w["name"] for w in found["warehouses"]} == {"acme-east", "acme-west"}
        assert accounts.counts("cask")["total"] == 0  # nothing but acme was asked

        every = accounts.run("warehouses", "--json")
        assert every.returncode == 4, every.stderr  # cask's 402 is the most serious
        by_name = {a["account"]: a for a in json.loads(every.stdout)["accounts"]}
        assert by_name["acme"]["ok"] is True
        assert (by_name["bolt-eu"]["error_type"], by_name["cask"]["error_type"]) == (
            "RateLimited",
            "PlanError",
        )
        assert "account cask:" in every.stderr

        health = json.loads(accounts.run("status", "--json", "--account", "acme").stdout)
        assert [(w["warehouse"], w["account"]) for w in health["warehouses"]] == [
            ("acme-east", "acme"),
            ("acme-west", "acme"),
        ]
        assert all(w["last_run"]["status"] == "succeeded" for w in health["warehouses"])
        everyone = json.loads(accounts.run("status", "--json").stdout)
        assert {w["account"] for w in everyone["warehouses"]} == set(LAYOUT)
        # acme's runs count for acme's warehouses only, even the manual one that changed one.
        never = [w["warehouse"] for w in everyone["warehouses"] if w["last_run"] is None]
        assert never == ["bolt-1", "bolt-2", "cask"]

        runs = json.loads(accounts.run("history", "--account", "acme", "--json").stdout)["runs"]
        assert len(runs) == 2  # the reconcile and the manual change
        assert json.loads(accounts.run("history", "--account", "cask", "--json").stdout) == {
            "runs": []
        }
        changes = json.loads(
            accounts.run("history", "--account", "acme", "--sku", "RED", "--json").stdout
        )["adjustments"]
        assert {(a["warehouse"], a["account"]) for a in changes} == {
            ("acme-east", "acme"),
            ("acme-west", "acme"),
        }

    def test_an_unknown_account_is_a_usage_error(self, accounts, monkeypatch):
        for name, key in KEYS.items():
            monkeypatch.setenv(f"INVENTORY_SYNC_ACCOUNTS__{name.upper().replace('-', '_')}", key)
        runner = CliRunner()
        for command in ("reconcile", "status", "history", "warehouses"):
            args = ["--config", str(accounts.config), command, "--account", "nobody"]
            done = runner.invoke(cli, args)
            assert done.exit_code == 2, (command, done.output)
            assert "configured: acme, bolt-eu, cask" in done.output

    def test_an_account_error_quoting_its_key_shows_the_key_redacted(self, accounts):
        bolt = accounts.emulators["bolt-eu"]
        bolt.faults.update(burst_429_rate=0.0, error_rate=1.0, echo_api_key=True)
        done = accounts.run("reconcile", "--json", "--account", "acme", "--account", "bolt-eu")
        assert done.returncode == 4, done.stderr
        by_name = {a["account"]: a for a in json.loads(done.stdout)["accounts"]}
        assert by_name["bolt-eu"]["error"].endswith(f"(API-Key: {REDACTED})")
        assert KEYS["bolt-eu__API_KEY"] not in done.stdout + done.stderr
