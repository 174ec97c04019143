"""Fixtures for the ShipStation suite: a seeded emulator on loopback and clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from shipstation_seeds import KEY, small_seed

from inventory_sync.shipstation.client import ShipStationClient, build_client
from inventory_sync.shipstation.emulator import (
    EmulatorSettings,
    EmulatorState,
    RunningEmulator,
    start_emulator,
)
from inventory_sync.shipstation.keys import ApiKey
from inventory_sync.shipstation.settings import ClientSettings

EmulatorFactory = Callable[..., RunningEmulator]
ClientFactory = Callable[..., ShipStationClient]


@pytest.fixture
def start() -> Iterator[EmulatorFactory]:
    """Start emulators with given settings and seed; all are stopped at teardown."""
    running: list[RunningEmulator] = []

    def _start(seed: dict[str, Any] | None = None, **settings: Any) -> RunningEmulator:
        options = {"api_keys": (KEY,), "rate_limit_per_minute": 0, **settings}
        emulator = start_emulator(
            EmulatorSettings(**options), EmulatorState.from_seed(seed or small_seed())
        )
        running.append(emulator)
        return emulator

    yield _start
    for emulator in running:
        emulator.stop()


@pytest.fixture
def emulator(start: EmulatorFactory) -> RunningEmulator:
    return start()


@pytest.fixture
def connect() -> Iterator[ClientFactory]:
    """Build clients for an emulator (fast pace, short backoff); all are closed at teardown."""
    clients: list[ShipStationClient] = []

    def _connect(
        emulator: RunningEmulator, *, clock: Any = None, transport: Any = None, **overrides: Any
    ) -> ShipStationClient:
        settings = ClientSettings(
            base_url=emulator.base_url,
            keys=(ApiKey(KEY),),
            requests_per_minute=60_000,
            retry_base_seconds=0.01,
            timeout_seconds=5.0,
        )
        client = build_client(replace(settings, **overrides), clock=clock, transport=transport)
        clients.append(client)
        return client

    yield _connect
    for client in clients:
        client.close()


@pytest.fixture
def client(emulator: RunningEmulator, connect: ClientFactory) -> ShipStationClient:
    return connect(emulator)
