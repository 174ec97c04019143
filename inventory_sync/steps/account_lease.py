"""A one-shot run's hold on its account's push lease: taken for the run, renewed, let go.

On a ledger that replicas share, the replica holding ``push:account:<name>`` is the account's
one pusher; a one-shot run that pushes takes the same lease for its duration, so the two never
spend the account's request budget together. Its writes carry the lease's fence, as a
replica's do. Without leases (SQLite: one host, no replicas) there is nothing to take.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import structlog

from inventory_sync.app import App
from inventory_sync.errors import LedgerError
from inventory_sync.ports import Clock, Fence, Lease, Leases, LeaseTimes
from inventory_sync.steps.leases import push_lease_name

log = structlog.get_logger(__name__)
# The summary key of a run refused because another process held its account's lease.
LEASE_HOLDER_KEY = "lease_holder"


@dataclass(frozen=True, slots=True)
class Claim:
    """What asking for the account's lease gave: a fence to push under, or the other holder.

    Neither (no fence, no holder) on a ledger without leases: the run goes on as it always has.
    """

    lease: str
    fence: Fence | None = None
    busy: bool = False
    holder: str | None = None  # who holds it, when busy (None if it was let go meanwhile)


def one_shot_holder() -> str:
    """This process as a lease holder: host and pid first, as a replica's id."""
    return f"{socket.gethostname()}:{os.getpid()}:one-shot-{uuid.uuid4().hex[:6]}"


@contextmanager
def claim_account(app: App) -> Iterator[Claim]:
    """Hold ``app``'s account lease while the block runs, renewing it; let it go at the end."""
    name = push_lease_name(app.account)
    store = app.leases
    if store is None:
        yield Claim(name)
        return
    before = _current(store, name)
    taken_at = time.monotonic()
    lease = store.take_lease(name, one_shot_holder(), app.lease_times.ttl, app.clock.now())
    if lease is None:
        current = _current(store, name)
        holder = current.holder if current is not None else None
        log.warning("account.busy", lease=name, holder=holder)
        yield Claim(name, busy=True, holder=holder)
        return
    log.info(
        "lease.taken",
        lease=name,
        fence=lease.fence,
        holder=lease.holder,
        previous_holder=before.holder if before else None,
        previous_expired_at=before.expires_at.isoformat() if before else None,
    )
    keeper = _Keeper(store, app.clock, app.lease_times, lease, taken_at)
    try:
        yield Claim(name, fence=keeper.fence())
    finally:
        keeper.let_go()


def _current(store: Leases, name: str) -> Lease | None:
    return next((x for x in store.leases() if x.name == name), None)


class _Keeper:
    """Renews one lease on a thread of its own, and knows without I/O whether it is still ours."""

    def __init__(
        self, store: Leases, clock: Clock, times: LeaseTimes, lease: Lease, taken_at: float
    ) -> None:
        self._store, self._clock, self._times = store, clock, times
        self._lease = lease
        self._deadline = taken_at + times.ttl.total_seconds()  # by this process's own clock
        self._lost = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="account-lease", daemon=True)
        self._thread.start()

    def fence(self) -> Fence:
        lease = self._lease
        return Fence(lease.name, lease.holder, lease.fence, self._times.margin, self._alive)

    def _alive(self) -> bool:
        # As a replica: a request checked with less than the margin left might land after
        # someone else took the lease over, so it is not sent.
        with self._lock:
            left = self._deadline - time.monotonic()
            return not self._lost and left > self._times.margin.total_seconds()

    def _renew(self) -> None:
        while not self._stop.wait(self._times.renew_every):
            started = time.monotonic()
            try:
                renewed = self._store.renew_lease(self._lease, self._times.ttl, self._clock.now())
            except LedgerError as exc:  # kept until its deadline; the fence then stops writes
                lease = self._lease
                log.warning(
                    "lease.renew_failed", lease=lease.name, fence=lease.fence, error=str(exc)
                )
                continue
            with self._lock:
                if renewed is None:
                    self._lost = True
                else:
                    self._lease = renewed
                    self._deadline = started + self._times.ttl.total_seconds()
            if renewed is None:
                log.error("lease.lost", lease=self._lease.name, fence=self._lease.fence)
                return

    def let_go(self) -> None:
        """Stop renewing and release the lease now, so a replica can take it at its next tick."""
        self._stop.set()
        self._thread.join()
        lease = self._lease
        try:
            released = not self._lost and self._store.release_lease(lease, self._clock.now())
        except LedgerError as exc:  # it simply runs out
            log.warning("lease.release_failed", lease=lease.name, fence=lease.fence, error=str(exc))
            return
        if released:
            log.info("lease.released", lease=lease.name, fence=lease.fence)
