"""A Grafana Loki on loopback for the alert rules: found, started, pushed to and queried."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from monitoring_support import REPO, ScenarioLog, parse_timestamp

LOKI_ENV = "INVENTORY_SYNC_TEST_LOKI"
CONFIG = REPO / "monitoring" / "loki" / "test-config.yaml"
LABELS = {"unit": "inventory-sync.service", "host": "test"}  # what promtail.yaml sets
READY_BOUND = 90.0  # seconds: Loki's first start builds its ring and index on a busy box


def find_loki() -> tuple[str | None, str]:
    """The Grafana Loki binary (INVENTORY_SYNC_TEST_LOKI, else `loki` on PATH), or why not."""
    candidate = os.environ.get(LOKI_ENV) or shutil.which("loki")
    if candidate is None:
        return None, f"no `loki` on PATH and {LOKI_ENV} is unset"
    try:
        done = subprocess.run(
            [candidate, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        return None, f"{candidate} cannot be run: {exc}"
    # Grafana Loki prints "loki, version 2.9.x (branch: ...)"; Debian's `loki` package is an
    # unrelated genetics program (MCMC linkage analysis) that answers otherwise.
    if "loki, version" not in done.stdout + done.stderr:
        return None, f"{candidate} is not Grafana Loki (it does not answer -version as Loki does)"
    return candidate, ""


@dataclass
class Loki:
    """A running Loki; each scenario's lines go to a tenant of their own."""

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def push(self, tenant: str, log: ScenarioLog) -> None:
        values = []
        at = log.last_at
        for line in log.lines:
            # A text line (the command's message) keeps the time of the line before.
            with contextlib.suppress(ValueError, KeyError, TypeError):
                at = parse_timestamp(json.loads(line)["timestamp"])
            values.append([str(_nanoseconds(at)), line])
        body = {"streams": [{"stream": LABELS, "values": values}]}
        answer = httpx.post(
            f"{self.base_url}/loki/api/v1/push", json=body, headers=_tenant(tenant), timeout=30
        )
        assert answer.status_code == 204, answer.text

    def instant(self, tenant: str, expr: str, at: datetime) -> list[dict[str, Any]]:
        params = {"query": expr, "time": str(_nanoseconds(at))}
        return self._get(tenant, "/loki/api/v1/query", params)

    def over(self, tenant: str, expr: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        params = {
            "query": expr,
            "start": str(_nanoseconds(start)),
            "end": str(_nanoseconds(end)),
            "step": "60",
        }
        return self._get(tenant, "/loki/api/v1/query_range", params)

    def _get(self, tenant: str, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
        answer = httpx.get(
            f"{self.base_url}{path}", params=params, headers=_tenant(tenant), timeout=60
        )
        assert answer.status_code == 200, f"{params['query']}\n{answer.text}"
        return answer.json()["data"]["result"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_loki(binary: str, tmp: Path) -> Loki:
    port, grpc_port = _free_port(), _free_port()
    config = tmp / "loki.yaml"
    text = CONFIG.read_text(encoding="utf-8")
    for key, value in {"@PORT@": port, "@GRPC_PORT@": grpc_port, "@DIR@": tmp / "data"}.items():
        text = text.replace(key, str(value))
    config.write_text(text, encoding="utf-8")
    log_path = tmp / "loki.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [binary, f"-config.file={config}"], stdout=out, stderr=subprocess.STDOUT
        )
    loki = Loki(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + READY_BOUND
    while not _ready(loki):
        if process.poll() is not None or time.monotonic() > deadline:
            loki.stop()
            raise AssertionError(f"Loki did not start:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.5)
    return loki


def _ready(loki: Loki) -> bool:
    try:
        return httpx.get(f"{loki.base_url}/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _tenant(name: str) -> dict[str, str]:
    return {"X-Scope-OrgID": name}


def _nanoseconds(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000) * 1000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def positive(result: list[dict[str, Any]]) -> bool:
    """Whether an instant query's vector holds a sample above zero (an alert condition)."""
    return any(float(sample["value"][1]) > 0 for sample in result)


def held_throughout(result: list[dict[str, Any]], start: datetime, end: datetime) -> bool:
    """Whether a range query's series hold a sample above zero at every step (``for``)."""
    steps = int((end - start) / timedelta(seconds=60)) + 1
    seen = {float(ts) for series in result for ts, value in series["values"] if float(value) > 0}
    return len(seen) >= steps
