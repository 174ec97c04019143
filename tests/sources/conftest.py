"""Fixtures for source tests: a context with a fixed clock and a secrets fake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from loopback import LoopbackServer
from source_helpers import EPOCH, Secrets

from inventory_sync.clock import FixedClock
from inventory_sync.sources.base import SourceContext


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(EPOCH + timedelta(hours=1))


@pytest.fixture
def secrets() -> Secrets:
    return Secrets()


@pytest.fixture
def context(clock: FixedClock, secrets: Secrets, tmp_path: Path) -> SourceContext:
    return SourceContext(clock=clock, read_secret=secrets, state_dir=tmp_path / "state")


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running
