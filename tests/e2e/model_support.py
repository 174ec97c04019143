"""The model-based test's world: one account, a feed the rules rewrite, commands run in-process."""

from __future__ import annotations

import json
import os
import random
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner
from config_template import config_toml
from crash_support import LOCATION, WAREHOUSE, applied_by_id, run_and_kill, wait_until_idle
from e2e_support import API_KEY, Result, World

from inventory_sync.cli import cli
from inventory_sync.domain.model import AdjustmentStatus, JournalEntry, Warehouse
from inventory_sync.ledger.repository import open_ledger
from inventory_sync.shipstation.emulator.running import RunningEmulator, start_emulator
from inventory_sync.shipstation.emulator.settings import EmulatorSettings, FaultSettings
from inventory_sync.shipstation.emulator.state import EmulatorState, LevelFilter

SKUS = [f"SKU-{n:03d}" for n in range(8)]
GHOST = "GHOST-001"  # listed by the feed, unknown to ShipStation until a rule creates it
ZERO_ABSENT_AFTER = 2
MAX_ZEROED = 2  # the one guard that applies to a warehouse this small
FINAL = frozenset(
    {
        AdjustmentStatus.APPLIED,
        AdjustmentStatus.FAILED,
        AdjustmentStatus.NEEDS_REVIEW,
        AdjustmentStatus.SKIPPED,
    }
)
# Exit codes a run may end with in this world; anything else (70 above all) is a finding.
RUN_CODES = frozenset({0, 1, 3, 4, 5})


def seed_account(rng: random.Random) -> dict:
    return {
        "products": SKUS,
        "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
        "locations": [
            {"inventory_location_id": LOCATION, "name": "A-1", "inventory_warehouse_id": "se-1"}
        ],
        "levels": [
            {"sku": sku, "inventory_location_id": LOCATION, "on_hand": rng.randint(0, 20)}
            for sku in SKUS
        ],
    }


def config_text(tmp: Path, base_url: str, feed: Path, mode: str) -> str:
    return config_toml(
        tmp / "state",
        base_url,
        feed,
        shipstation="concurrency = 3\nrequests_per_minute = 60000\ntimeout_seconds = 5",
        reconcile=(
            f'mode = "{mode}"\nzero_absent_after = {ZERO_ABSENT_AFTER}\n'
            # Only max_zeroed applies to a warehouse this small; the share limits are off.
            f"max_changed_share = 1.0\nmax_units_share = 100\nmax_zeroed = {MAX_ZEROED}\n"
            "max_attempts = 3"
        ),
    )


def feed_text(values: dict[str, int]) -> str:
    return "sku,quantity\n" + "".join(f"{sku},{q}\n" for sku, q in sorted(values.items()))


def listed_in(text: str, sku: str) -> bool:
    """Whether any line of the file speaks of ``sku`` at all (a bad row still speaks of it)."""
    return any(line.startswith(sku) for line in text.splitlines()[1:])


class Ledger:
    """A scratch ledger: a SQLite file, or a database of its own on the PostgreSQL server."""

    def __init__(self, tmp: Path, postgres_url: str | None) -> None:
        self._admin_url = postgres_url
        if postgres_url is None:
            self.name = None
            self.url = f"sqlite:///{tmp / 'state' / 'ledger.db'}"
            return
        self.name = f"inventory_sync_m_{uuid.uuid4().hex[:10]}"
        self._admin(f'CREATE DATABASE "{self.name}"')
        self.url = sa.make_url(postgres_url).set(database=self.name).render_as_string(False)

    def _admin(self, statement: str) -> None:
        engine = sa.create_engine(self._admin_url or "", isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(statement))
        finally:
            engine.dispose()

    def drop(self) -> None:
        if self.name is not None:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


@dataclass
class Step:
    """What one step did, as the emulator recorded it: bodies our runs sent and got applied."""

    code: int
    report: dict
    bodies: list[dict] = field(default_factory=list)


class ModelWorld:
    """The emulator, the files on disk, and the commands as users run them."""

    def __init__(self, tmp: Path, mode: str, seed: int, postgres_url: str | None) -> None:
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "state").mkdir(parents=True)
        self.tmp, self.mode, self.rng = tmp, mode, random.Random(seed)
        self.account = seed_account(self.rng)
        settings = EmulatorSettings(
            api_keys=(API_KEY,), rate_limit_per_minute=0, faults=FaultSettings(seed=seed)
        )
        self.emulator: RunningEmulator = start_emulator(
            settings, EmulatorState.from_seed(self.account)
        )
        self.ledger = Ledger(tmp, postgres_url)
        self.feed = tmp / "feed.csv"
        self.config = tmp / "inventory-sync.toml"
        self.config.write_text(config_text(tmp, self.emulator.base_url, self.feed, mode))
        self.runner = CliRunner()

    def close(self) -> None:
        self.emulator.stop()
        self.ledger.drop()

    @property
    def env(self) -> dict[str, str]:
        return {
            "INVENTORY_SYNC_SHIPSTATION__API_KEY": API_KEY,
            "INVENTORY_SYNC_LEDGER__URL": self.ledger.url,
        }

    def world(self) -> World:
        return World(self.tmp, self.emulator, self.config, self.feed, self.ledger.url)

    # -- commands ---------------------------------------------------------------------------

    def run(self, *args: str) -> Result:
        """One command in this process, through the same click group as the console script."""
        done = self.runner.invoke(cli, ["--config", str(self.config), *args], env=self.env)
        if done.exception is not None and not isinstance(done.exception, SystemExit):
            raise done.exception
        return Result(done.exit_code, done.stdout, done.stderr)

    def step(self, *args: str) -> tuple[Result, Step]:
        """Run a command and collect the bodies of ours the emulator applied meanwhile."""
        before = _counts(self.emulator)
        result = self.run(*args)
        wait_until_idle(self.emulator, limit=1.0)
        return result, Step(result.code, _report(result), new_bodies(self.emulator, before))

    def killed_run(self, seed: int) -> tuple[str, Step]:
        """`reconcile` as a subprocess, SIGKILLed after a seeded number of writes."""
        before = _counts(self.emulator)
        log = self.tmp / "killed.log"
        pending = len(SKUS) + 1
        kill = run_and_kill(self.world(), random.Random(seed), pending=pending, log=log)
        wait_until_idle(self.emulator)
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        return kill.describe() + "\n" + tail, Step(kill.code, {}, new_bodies(self.emulator, before))

    # -- ShipStation and the ledger ---------------------------------------------------------

    def on_hand(self) -> dict[str, int]:
        rows = self.emulator.state.levels(LevelFilter(inventory_location_id=LOCATION))
        return {row.sku: row.on_hand for row in rows}

    def journal(self) -> list[JournalEntry]:
        with open_ledger(self.ledger.url, migrate=False) as ledger:
            return ledger.journal()

    def agreed(self) -> dict[str, int]:
        with open_ledger(self.ledger.url, migrate=False) as ledger:
            return dict(ledger.agreed_levels(Warehouse(WAREHOUSE)))

    def landed(self) -> set[str]:
        return set(applied_by_id(self.emulator))


def _counts(emulator: RunningEmulator) -> dict[str, int]:
    return {json.dumps(e.body, sort_keys=True): e.count for e in emulator.applied()}


def new_bodies(emulator: RunningEmulator, before: dict[str, int]) -> list[dict]:
    """Every body of ours applied since ``before`` (a replay of one body counts again)."""
    bodies = []
    for entry in emulator.applied():
        if entry.path != "/v2/inventory":
            continue
        fresh = entry.count - before.get(json.dumps(entry.body, sort_keys=True), 0)
        bodies.extend([entry.body] * fresh)
    return bodies


def _report(result: Result) -> dict:
    try:
        parsed = json.loads(result.stdout)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def postgres_url() -> str | None:
    return os.environ.get("INVENTORY_SYNC_TEST_POSTGRES_URL") or None
