"""This process as one replica of several on a shared ledger: heartbeat, leases, fences."""

from __future__ import annotations

import math
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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

    A replica holding more than its share (a replica joined since it took them) gives the extra
    leases up, one account at a time between runs: see ``_rebalance``.

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
        self._running: dict[str, int] = {}  # lease -> runs under it now (see ``pushing``)
        self._leaving: set[str] = set()  # held, but no new run starts: given up once idle
        self._over_since: float | None = None  # monotonic time this replica went over its share
        self._excess: list[str] = []  # the leases it was then over by
        # Reentrant: ``pushing`` asks ``fence`` and counts the run under one hold of it, so a
        # rebalance cannot release the lease in between.
        self._lock = threading.RLock()
        self._monotonic: Callable[[], float] = time.monotonic

    def tick(self, store: Leases, wanted: Sequence[str]) -> list[Lease]:
        """One heartbeat: renew what is held, take free leases up to a fair share.

        Returns the leases newly taken (their work should start now)."""
        self._renew(store)  # first: what is held matters more than being seen alive
        try:
            store.beat(replace(self.me, heartbeat_at=self.clock.now()))
            log.debug("replica.heartbeat", replica=self.me.replica_id, held=sorted(self._held))
            live = self._live(store)
            share = math.ceil(len(wanted) / max(1, len(live)))
            floor = len(wanted) // max(1, len(live))
            others = self._others(store, live)
            self._rebalance(store, share, floor, others, len(live))
            # While a replica holds less than the floor, the others take no more than it: the
            # free leases are for the one below (2, 1, 0 over 4 accounts becomes 2, 1, 1).
            below = any(n < floor for n in self._others(store, live))
            return self._take(store, wanted, floor if below else share)
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
                    self._leaving.discard(name)
                else:
                    self._held[name] = _Held(renewed, started + self.times.ttl.total_seconds())
            if renewed is None:
                log.error("lease.lost", lease=name, fence=held.lease.fence)

    def _take(self, store: Leases, wanted: Sequence[str], share: int) -> list[Lease]:
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

    def _live(self, store: Leases) -> set[str]:
        """The replicas beating now: a heartbeat newer than one lease (this one included)."""
        now = self.clock.now()
        live = {r.replica_id for r in store.replicas() if now - r.heartbeat_at < self.times.ttl}
        return live | {self.me.replica_id}

    def _rebalance(
        self, store: Leases, share: int, floor: int, others: list[int], live: int
    ) -> None:
        """Give up leases, between runs, until no replica holds two more than another.

        ``share`` is ceil(accounts / live replicas), ``floor`` the quotient rounded down. Above
        the share, the leases beyond it go while
        another live replica holds less than it; at it, one goes while another holds less than
        the floor (4 accounts, 3 replicas: 2, 2, 0 becomes 2, 1, 1). Nothing goes when nobody
        could take it (the account would sit idle). Hysteresis: only once the excess has
        lasted from one tick to the next. Which leases go is decided by name (the last ones),
        so every tick and every replica agrees; the first account's lease, and with it the
        daily tasks, stays put."""
        if self._release_idle(store, share, live):
            self._over_since = None  # judged again once the other replica has taken it
            return
        with self._lock:
            held = sorted(self._held)
        if len(held) > share and any(n < share for n in others):
            excess = held[share:]
        elif len(held) > max(floor, 1) and any(n < floor for n in others):
            excess = held[-1:]
        else:
            excess = []
        if not excess:
            self._over_since = None
            with self._lock:
                self._leaving.clear()  # nobody to take them: keep working for them
            return
        if self._over_since is None or excess != self._excess:
            self._over_since, self._excess = self._monotonic(), excess
        elif self._monotonic() - self._over_since >= self.times.renew_every / 2:
            # Seen again at a later tick: ticks come a renewal period apart, and the half
            # absorbs the scheduler's jitter (a tick a few ms early would cost a whole period).
            with self._lock:
                self._leaving.update(excess)  # no run starts under them from now on
            self._release_idle(store, share, live)

    def _others(self, store: Leases, live: set[str]) -> list[int]:
        """How many leases each other live replica holds now."""
        now = self.clock.now()
        counts = dict.fromkeys(live - {self.me.replica_id}, 0)
        for lease in store.leases():
            if lease.held_at(now) and lease.holder in counts:
                counts[lease.holder] += 1
        return list(counts.values())

    def _release_idle(self, store: Leases, share: int, live: int) -> bool:
        """Release each leaving lease no run is using; the next acquire gets a new fence.

        True when one was released."""
        with self._lock:
            idle = [n for n in sorted(self._leaving) if not self._running.get(n)]
            gone = [self._held.pop(n) for n in idle if n in self._held]
            self._leaving.difference_update(idle)
        for held in gone:
            released = store.release_lease(held.lease, self.clock.now())
            log.info(
                "lease.rebalanced",
                lease=held.lease.name,
                fence=held.lease.fence,
                released=released,
                share=share,
                live_replicas=live,
            )
        return bool(gone)

    def holds(self, name: str) -> bool:
        return self.fence(name) is not None

    @contextmanager
    def pushing(self, name: str) -> Iterator[Fence | None]:
        """A run under ``name``: its fence (None: not ours), and no rebalancing until it ends."""
        with self._lock:
            fence = self.fence(name)
            if fence is not None:
                self._running[name] = self._running.get(name, 0) + 1
        try:
            yield fence
        finally:
            if fence is not None:
                with self._lock:
                    self._running[name] -= 1

    def fence(self, name: str) -> Fence | None:
        """The fence work under ``name`` must carry, or None when this replica lacks it (or is
        giving it up: a run already under way keeps its own fence to the end)."""
        with self._lock:
            held = self._held.get(name)
            leaving = name in self._leaving
        if held is None or leaving or not self._alive(name, held.lease.fence):
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
            self._leaving.clear()
        for h in held:
            store.release_lease(h.lease, self.clock.now())
            log.info("lease.released", lease=h.lease.name, fence=h.lease.fence)
        store.forget_replica(self.me.replica_id)
