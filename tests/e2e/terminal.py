"""Run the command with stderr on a pseudo-terminal, as a person at a shell sees it."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx
from e2e_support import API_KEY, World

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Seen:
    code: int
    stdout: str
    terminal: str  # what was drawn on stderr, escape codes removed, one line per \r or \n


def run_on_terminal(
    world: World, *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> Seen:
    """The command with stderr on a pty (stdout stays a pipe, as in `... --json | jq`)."""
    master, slave = os.openpty()
    env = {
        **os.environ,
        "INVENTORY_SYNC_SHIPSTATION__API_KEY": API_KEY,
        "INVENTORY_SYNC_LEDGER__URL": world.ledger_url,
        "COLUMNS": "120",
        "TERM": "xterm",
        **(env or {}),
    }
    with subprocess.Popen(
        [sys.executable, "-m", "inventory_sync", "--config", str(world.config), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        env=env,
    ) as process:
        os.close(slave)
        drawn = _read_until_closed(master, time.monotonic() + timeout)
        stdout = process.stdout.read().decode() if process.stdout else ""
        code = process.wait(timeout=timeout)
    os.close(master)
    text = _ANSI.sub("", drawn.decode(errors="replace"))
    return Seen(code, stdout, "\n".join(line for line in re.split(r"[\r\n]", text) if line))


def _read_until_closed(fd: int, deadline: float) -> bytes:
    drawn = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed its end: Linux reports EIO
            break
        if not chunk:
            break
        drawn += chunk
    return drawn


def set_faults(world: World, **faults: object) -> None:
    """Through the emulator's admin API, as an operator rehearsing a failure would."""
    response = httpx.post(f"{world.emulator.base_url}/_emulator/faults", json=faults)
    response.raise_for_status()
