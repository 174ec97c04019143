"""One replica's part among several: heartbeat, fair share, takeover after expiry, fences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from inventory_sync.clock import FixedClock
from inventory_sync.daemon.replicas import LeaseTimes, ReplicaLeases
from inventory_sync.errors import LedgerError
from inventory_sync.ledger.memory import MemoryLedger

T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
TIMES = LeaseTimes(timedelta(seconds=20), renew_every=5.0)
ONE = ["push:account:default"]


class Seconds:
    """A monotonic clock moved by hand, together with the wall clock."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds
        self.clock.advance(timedelta(seconds=seconds))


class UnreachableLedger(MemoryLedger):
    """The in-memory ledger, unreachable once ``down`` is set (a partition, a restart)."""

    down = False

    def renew_lease(self, lease, ttl, now):
        self._refuse()
        return super().renew_lease(lease, ttl, now)

    def beat(self, replica):
        self._refuse()
        super().beat(replica)

    def _refuse(self) -> None:
        if self.down:
            raise LedgerError("could not connect to server")


def replica(clock: FixedClock, seconds: Seconds) -> ReplicaLeases:
    made = ReplicaLeases(clock, TIMES)
    made._monotonic = seconds
    return made


def world():
    clock = FixedClock(T0)
    seconds = Seconds(clock)
    return MemoryLedger(), clock, seconds


class TestReplicaLeases:
    def test_one_replica_holds_an_account_and_the_other_waits(self):
        store, clock, seconds = world()
        a, b = replica(clock, seconds), replica(clock, seconds)
        assert [x.fence for x in a.tick(store, ONE)] == [1]
        assert b.tick(store, ONE) == []
        assert a.fence(ONE[0]).number == 1
        assert b.fence(ONE[0]) is None
        assert {r.replica_id for r in store.replicas()} == {a.me.replica_id, b.me.replica_id}

    def test_a_renewing_holder_keeps_its_lease_and_fence(self):
        store, clock, seconds = world()
        a, b = replica(clock, seconds), replica(clock, seconds)
        a.tick(store, ONE)
        for _ in range(10):
            seconds.advance(5)
            a.tick(store, ONE)
            assert b.tick(store, ONE) == []
        assert a.fence(ONE[0]).number == 1

    def test_a_silent_holder_is_replaced_after_its_lease_and_its_fence_goes_stale(self):
        store, clock, seconds = world()
        a, b = replica(clock, seconds), replica(clock, seconds)
        a.tick(store, ONE)
        held = a.fence(ONE[0])
        seconds.advance(9)
        assert held.still_held()  # more than half the lease left
        seconds.advance(2)
        assert not held.still_held()  # less than the margin: no request leaves any more
        assert b.tick(store, ONE) == []  # not yet expired
        seconds.advance(10)
        assert [x.fence for x in b.tick(store, ONE)] == [2]
        a.tick(store, ONE)  # the paused holder comes back: its renewal finds the lease gone
        assert a.fence(ONE[0]) is None
        assert b.fence(ONE[0]).number == 2

    def test_leases_are_shared_out_evenly_between_live_replicas(self):
        store, clock, seconds = world()
        names = ["push:account:a", "push:account:b"]
        a, b = replica(clock, seconds), replica(clock, seconds)
        b.tick(store, [])  # b is alive before a looks for work
        assert [x.name for x in a.tick(store, names)] == ["push:account:a"]
        assert [x.name for x in b.tick(store, names)] == ["push:account:b"]

    def test_a_clean_stop_frees_the_lease_at_once(self):
        store, clock, seconds = world()
        a, b = replica(clock, seconds), replica(clock, seconds)
        a.tick(store, ONE)
        a.release_all(store)
        assert [x.fence for x in b.tick(store, ONE)] == [2]
        assert [r.replica_id for r in store.replicas()] == [b.me.replica_id]

    def test_a_holder_cut_off_from_the_ledger_stops_writing_by_its_own_clock(self):
        clock = FixedClock(T0)
        seconds = Seconds(clock)
        store = UnreachableLedger()
        a = replica(clock, seconds)
        a.tick(store, ONE)
        fence = a.fence(ONE[0])
        store.down = True
        with capture_logs() as logs:
            seconds.advance(5)
            assert a.tick(store, ONE) == []  # no exception: the job ticks again later
        assert [e["event"] for e in logs] == ["lease.renew_failed", "replica.heartbeat_failed"]
        assert fence.still_held()
        seconds.advance(6)  # 11 s without renewal: less than half the lease is left
        assert not fence.still_held()
        assert a.fence(ONE[0]) is None
