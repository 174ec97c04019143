"""One pusher per warehouse: locks held in the ledger, refreshed while a push runs.

A replica's run names its lease and fence in the holder; a lock left by an older fence of the
same lease belongs to a replica that lost the lease (and can send nothing more), so the new
holder takes it over at once instead of waiting out LOCK_TTL."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

import structlog

from inventory_sync.domain.model import Hold, WarehouseTarget
from inventory_sync.ports import Clock, Fence, LockStore

log = structlog.get_logger(__name__)
# Long enough to outlive a pause in refreshing, short enough that a crashed holder's lock
# frees itself before an operator would start wondering.
LOCK_TTL = timedelta(minutes=5)
_REFRESH_EVERY = 60.0  # seconds


def _acquire(
    store: LockStore, clock: Clock, name: str, holder: str, fence: Fence | None = None
) -> bool:
    """Take the lock; a lease left by a dead process on this machine is taken over at once,
    and so is one left by a replica whose fence ``fence`` has superseded."""
    if store.acquire_lock(name, holder, LOCK_TTL, clock.now()):
        return True
    other = store.lock_holder(name, clock.now())
    if other is None or not (_died_here(other) or _fenced_out(other, fence)):
        return False
    # Releasing names the dead holder, so of two processes racing here only one can take it.
    store.release_lock(name, other)
    log.warning("lock.taken_over", lock=name, dead_holder=other)
    return store.acquire_lock(name, holder, LOCK_TTL, clock.now())


def _died_here(holder: str) -> bool:
    """True when ``holder`` names a process on this host that no longer exists."""
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False  # another machine's process: only its lease expiry can tell
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, owned by another user
    return False


def lock_name(target: WarehouseTarget) -> str:
    return f"push:{target.name}"


def _fenced_out(holder: str, fence: Fence | None) -> bool:
    """True when ``holder`` ran under an older number of the lease ``fence`` now holds."""
    _, at, lease = holder.rpartition("@")
    name, _, number = lease.rpartition("#")
    if fence is None or not at or name != fence.lease or not number.isdigit():
        return False
    return int(number) < fence.number


def holder_id(run_id: str, fence: Fence | None = None) -> str:
    under = "" if fence is None else f"@{fence.lease}#{fence.number}"
    return f"{socket.gethostname()}:{os.getpid()}:{run_id}{under}"


class WarehouseLocks:
    """The locks this run holds; ``refresh`` is cheap to call often."""

    def __init__(
        self, store: LockStore, clock: Clock, holder: str, targets: Sequence[WarehouseTarget]
    ) -> None:
        self.store = store
        self.clock = clock
        self.holder = holder
        self.targets = list(targets)
        self._refreshed = time.monotonic()

    def refresh(self) -> None:
        if time.monotonic() - self._refreshed < _REFRESH_EVERY:
            return
        self._refreshed = time.monotonic()
        for target in self.targets:
            if not self.store.refresh_lock(
                lock_name(target), self.holder, LOCK_TTL, self.clock.now()
            ):
                log.error("lock.lost", warehouse=target.name, holder=self.holder)


@contextmanager
def hold_warehouses(
    store: LockStore,
    clock: Clock,
    holder: str,
    targets: Sequence[WarehouseTarget],
    fence: Fence | None = None,
) -> Iterator[tuple[WarehouseLocks, list[Hold]]]:
    """Lock each target; yield the locks taken and a Hold for each warehouse another process has."""
    taken: list[WarehouseTarget] = []
    holds: list[Hold] = []
    try:
        for target in targets:
            if _acquire(store, clock, lock_name(target), holder, fence):
                taken.append(target)
                continue
            other = store.lock_holder(lock_name(target), clock.now())
            log.warning("warehouse.busy", warehouse=target.name, holder=other)
            holds.append(
                Hold(
                    f"warehouse:{target.name}",
                    "another process is pushing to it",
                    {"holder": other},
                )
            )
        yield WarehouseLocks(store, clock, holder, taken), holds
    finally:
        for target in taken:
            store.release_lock(lock_name(target), holder)
