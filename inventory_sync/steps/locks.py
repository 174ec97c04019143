"""One pusher per warehouse: locks held in the ledger, refreshed while a push runs."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

import structlog

from inventory_sync.app import App, WarehouseTarget
from inventory_sync.domain.model import Hold

log = structlog.get_logger(__name__)
# Long enough to outlive a pause in refreshing, short enough that a crashed holder's lock
# frees itself before an operator would start wondering.
LOCK_TTL = timedelta(minutes=5)
_REFRESH_EVERY = 60.0  # seconds


def lock_name(target: WarehouseTarget) -> str:
    return f"push:{target.name}"


def holder_id(run_id: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{run_id}"


class WarehouseLocks:
    """The locks this run holds; ``refresh`` is cheap to call often."""

    def __init__(self, app: App, holder: str, targets: Sequence[WarehouseTarget]) -> None:
        self.app = app
        self.holder = holder
        self.targets = list(targets)
        self._refreshed = time.monotonic()

    def refresh(self) -> None:
        if time.monotonic() - self._refreshed < _REFRESH_EVERY:
            return
        self._refreshed = time.monotonic()
        for target in self.targets:
            if not self.app.ledger.refresh_lock(
                lock_name(target), self.holder, LOCK_TTL, self.app.clock.now()
            ):
                log.error("lock.lost", warehouse=target.name, holder=self.holder)


@contextmanager
def hold_warehouses(
    app: App, holder: str, targets: Sequence[WarehouseTarget]
) -> Iterator[tuple[WarehouseLocks, list[Hold]]]:
    """Lock each target; yield the locks taken and a Hold for each warehouse another process has."""
    taken: list[WarehouseTarget] = []
    holds: list[Hold] = []
    try:
        for target in targets:
            if app.ledger.acquire_lock(lock_name(target), holder, LOCK_TTL, app.clock.now()):
                taken.append(target)
                continue
            other = app.ledger.lock_holder(lock_name(target), app.clock.now())
            log.warning("warehouse.busy", warehouse=target.name, holder=other)
            holds.append(
                Hold(
                    f"warehouse:{target.name}",
                    "another process is pushing to it",
                    {"holder": other},
                )
            )
        yield WarehouseLocks(app, holder, taken), holds
    finally:
        for target in taken:
            app.ledger.release_lock(lock_name(target), holder)
