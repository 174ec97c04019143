"""This process as one replica of several on a shared ledger: heartbeat, leases, fences."""

from __future__ import annotations

import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import structlog

from inventory_sync.errors import LedgerError
from inventory_sync.ports import Clock, Fence, Lease, Leases, LeaseTimes, Replica

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Held:
    lease: Lease
    deadline: float  # monotonic time the lease runs out, by this process's own clock


class ReplicaLeases:
    """The leases this replica holds; ``tick`` beats, renews and takes its share of the rest.

    Thread-safe: the replica job ticks while the other jobs ask ``fence`` and ``holds``.
    """

    def __init__(self, clock: Clock, times: LeaseTimes) -> None:
        self.clock = clock
        self.times = times
        host, pid = socket.gethostname(), os.getpid()
        started = clock.now()
        # The random part tells a restarted process with a reused pid from the old one.
        replica_id = f"{host}:{pid}:{uuid.uuid4().hex[:6]}"
        self.me = Replica(replica_id, host, pid, started, started)
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._monotonic: Callable[[], float] = time.monotonic

    def tick(self, store: Leases, wanted: Sequence[str]) -> list[Lease]:
        """One heartbeat: renew what is held, take free leases up to a fair share.

        Returns the leases newly taken (their work should start now)."""
        self._renew(store)  # first: what is held matters more than being seen alive
        try:
            store.beat(replace(self.me, heartbeat_at=self.clock.now()))
            log.debug("replica.heartbeat", replica=self.me.replica_id, held=sorted(self._held))
            return self._take(store, wanted)
        except LedgerError as exc:
            log.warning("replica.heartbeat_failed", replica=self.me.replica_id, error=str(exc))
            return []

    def _renew(self, store: Leases) -> None:
        for name, held in list(self._held.items()):
            started = self._monotonic()
            try:
                renewed = store.renew_lease(held.lease, self.times.ttl, self.clock.now())
            except LedgerError as exc:
                # Kept until its deadline: the fence then stops every write by itself.
                log.warning(
                    "lease.renew_failed", lease=name, fence=held.lease.fence, error=str(exc)
                )
                continue
            with self._lock:
                if renewed is None:
                    del self._held[name]
                else:
                    self._held[name] = _Held(renewed, started + self.times.ttl.total_seconds())
            if renewed is None:
                log.error("lease.lost", lease=name, fence=held.lease.fence)

    def _take(self, store: Leases, wanted: Sequence[str]) -> list[Lease]:
        share = self._fair_share(store, len(wanted))
        taken: list[Lease] = []
        before = {lease.name: lease for lease in store.leases()}
        for name in wanted:
            if len(self._held) >= share:
                break
            if name in self._held:
                continue
            started = self._monotonic()
            lease = store.take_lease(name, self.me.replica_id, self.times.ttl, self.clock.now())
            if lease is None:
                continue
            with self._lock:
                self._held[name] = _Held(lease, started + self.times.ttl.total_seconds())
            previous = before.get(name)
            log.info(
                "lease.taken",
                lease=name,
                fence=lease.fence,
                previous_holder=previous.holder if previous else None,
                previous_expired_at=previous.expires_at.isoformat() if previous else None,
            )
            taken.append(lease)
        return taken

    def _fair_share(self, store: Leases, total: int) -> int:
        """Leases this replica may hold: an even split over the replicas beating now."""
        now = self.clock.now()
        live = [r for r in store.replicas() if now - r.heartbeat_at < self.times.ttl]
        return math.ceil(total / max(1, len(live)))

    def holds(self, name: str) -> bool:
        return self.fence(name) is not None

    def fence(self, name: str) -> Fence | None:
        """The fence work under ``name`` must carry, or None when this replica lacks it."""
        with self._lock:
            held = self._held.get(name)
        if held is None or not self._alive(name, held.lease.fence):
            return None
        lease = held.lease
        return Fence(
            lease.name,
            lease.holder,
            lease.fence,
            self.times.margin,
            still_held=lambda: self._alive(name, lease.fence),
        )

    def _alive(self, name: str, fence: int) -> bool:
        """This process's own view, without I/O: the lease is ours with its margin left."""
        with self._lock:
            held = self._held.get(name)
        if held is None or held.lease.fence != fence:
            return False
        return self._monotonic() < held.deadline - self.times.margin.total_seconds()

    def held(self) -> list[Lease]:
        with self._lock:
            return [h.lease for h in self._held.values()]

    def release_all(self, store: Leases) -> None:
        """On a clean stop: let the leases go now, so another replica need not wait them out."""
        with self._lock:
            held, self._held = list(self._held.values()), {}
        for h in held:
            store.release_lease(h.lease, self.clock.now())
            log.info("lease.released", lease=h.lease.name, fence=h.lease.fence)
        store.forget_replica(self.me.replica_id)
