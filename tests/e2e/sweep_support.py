"""The bad-input sweep's world: a ledger with history, commands in-process, the ledger checked."""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner
from e2e_support import API_KEY, Result, World, make_world

from inventory_sync.cli import cli
from inventory_sync.ledger.repository import open_ledger

# File modes mean nothing to root: the unreadable cases run without the capabilities that
# override them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a mode of 000 is refused as usual.
WITHOUT_OVERRIDE = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


@dataclass
class SweepWorld:
    """A world with one reconcile already recorded, and what each case set up to undo."""

    world: World
    tmp: Path
    env: dict[str, str] = field(default_factory=dict)
    undo: list[Callable[[], None]] = field(default_factory=list)
    unprivileged: bool = False

    @property
    def ledger_url(self) -> str:
        return self.env.get("INVENTORY_SYNC_LEDGER__URL", self.world.ledger_url)

    def base_env(self) -> dict[str, str]:
        return {
            "INVENTORY_SYNC_SHIPSTATION__API_KEY": API_KEY,
            "INVENTORY_SYNC_LEDGER__URL": self.world.ledger_url,
            **self.env,
        }

    def run(self, *args: str) -> Result:
        full = ["--config", str(self.world.config), *args]
        if self.unprivileged and os.geteuid() == 0:
            return self._run_without_override(full)
        done = CliRunner().invoke(cli, full, env=self.base_env())
        if done.exception is not None and not isinstance(done.exception, SystemExit):
            return Result(70, done.stdout, done.stderr + f"\nTraceback: {done.exception!r}")
        return Result(done.exit_code, done.stdout, done.stderr)

    def _run_without_override(self, args: list[str]) -> Result:
        env = {k: v for k, v in os.environ.items() if not k.startswith("INVENTORY_SYNC_")}
        done = subprocess.run(
            [*WITHOUT_OVERRIDE, sys.executable, "-m", "inventory_sync", *args],
            capture_output=True,
            text=True,
            env={**env, **self.base_env()},
            timeout=120,
            check=False,
        )
        return Result(done.returncode, done.stdout, done.stderr)


def ledger_rows(url: str) -> dict[str, tuple[str, str]]:
    """Every journal row (id -> status, run) and every run (id -> status) the ledger holds."""
    with open_ledger(url, migrate=False) as ledger:
        rows = {e.adjustment.adjustment_id: (e.status.value, e.run_id) for e in ledger.journal()}
        runs = {r.run_id: (r.status.value, r.trigger) for r in ledger.list_runs(limit=1000)}
    return rows | runs


def sqlite_intact(url: str) -> bool:
    path = url.removeprefix("sqlite:///")
    with contextlib.closing(sqlite3.connect(path)) as db:
        return db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@contextlib.contextmanager
def sweep_world(tmp: Path) -> Iterator[SweepWorld]:
    world = make_world(tmp, f"sqlite:///{tmp / 'state' / 'ledger.db'}")
    sweep = SweepWorld(world, tmp)
    try:
        first = sweep.run("reconcile", "--json")
        assert first.code == 0, first.stderr
        yield sweep
    finally:
        for undo in reversed(sweep.undo):
            undo()
        world.emulator.stop()


def mount_tmpfs(where: Path, size: str) -> Callable[[], None]:
    """A small tmpfs of its own (root only); returns how to unmount it."""
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    return lambda: subprocess.run(["umount", "-l", str(where)], check=False)


@functools.cache
def can_mount() -> bool:
    if os.geteuid() != 0:
        return False
    probe = Path(tempfile.mkdtemp(prefix="inventory-sync-mount-probe-"))
    try:
        mount_tmpfs(probe, "64k")()
    except (subprocess.CalledProcessError, OSError):
        return False
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()
    return True
