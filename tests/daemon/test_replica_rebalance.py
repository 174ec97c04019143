"""A replica that joins late gets its share: the first one gives leases up between runs.

Run against the in-memory leases and against PostgreSQL's, with the same rules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from inventory_sync.clock import FixedClock
from inventory_sync.daemon.replicas import LeaseTimes, ReplicaLeases
from inventory_sync.ledger.memory import MemoryLedger
from inventory_sync.ledger.repository import open_ledger

T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
TIMES = LeaseTimes(timedelta(seconds=20), renew_every=5.0)
NAMES = ["push:account:acme", "push:account:bolt", "push:account:cask"]
# Within this many renewal periods of B's first heartbeat each replica holds its share: one
# to see the excess, one for it to last (the hysteresis), one for B to take what was let go.
BOUND_TICKS = 4


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


@pytest.fixture(params=["memory", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request):
    if request.param == "memory":
        yield MemoryLedger()
        return
    ledger = open_ledger(request.getfixturevalue("scratch_postgres_url"))
    try:
        yield ledger
    finally:
        ledger.close()


class World:
    """Replicas ticking every renewal period on one store; every step checked for two holders."""

    def __init__(self, store, names=NAMES) -> None:
        self.store, self.names = store, names
        self.clock = FixedClock(T0)
        self.seconds = Seconds(self.clock)
        self.replicas: list[ReplicaLeases] = []

    def join(self) -> ReplicaLeases:
        made = ReplicaLeases(self.clock, TIMES)
        made._monotonic = self.seconds
        self.replicas.append(made)
        return made

    def period(self) -> None:
        """One renewal period: every replica ticks, then time moves on."""
        for replica in self.replicas:
            replica.tick(self.store, self.names)
            self.check_one_holder()
        self.seconds.advance(TIMES.renew_every)
        self.check_one_holder()

    def check_one_holder(self) -> None:
        now = self.clock.now()
        held = {x.name: x.holder for x in self.store.leases() if x.held_at(now)}
        for name in self.names:
            mine = [r.me.replica_id for r in self.replicas if r.fence(name) is not None]
            assert len(mine) <= 1, f"{name} held by {mine}"
            assert not mine or held.get(name) == mine[0], f"{name}: the ledger says {held}"

    def counts(self) -> dict[str, int]:
        return {r.me.replica_id: len(r.held()) for r in self.replicas}


def world_where_a_took_everything(store) -> tuple[World, ReplicaLeases]:
    world = World(store)
    a = world.join()
    world.period()
    assert sorted(x.name for x in a.held()) == NAMES
    return world, a


class TestRebalancing:
    def test_a_replica_that_joins_gets_its_share_within_a_few_renewal_periods(self, store):
        world, a = world_where_a_took_everything(store)
        b = world.join()
        with capture_logs() as logs:
            for _ in range(BOUND_TICKS):
                world.period()
        assert world.counts() == {a.me.replica_id: 2, b.me.replica_id: 1}
        # The last account by name moved, once, under a new fence; the others never changed.
        assert [x.name for x in b.held()] == ["push:account:cask"]
        moved = store.lease_history("push:account:cask")
        assert [(h.holder, h.fence) for h in moved] == [(a.me.replica_id, 1), (b.me.replica_id, 2)]
        for name in NAMES[:2]:
            assert [h.holder for h in store.lease_history(name)] == [a.me.replica_id]
        (rebalanced,) = [e for e in logs if e["event"] == "lease.rebalanced"]
        assert rebalanced["lease"] == "push:account:cask"
        assert (rebalanced["share"], rebalanced["live_replicas"]) == (2, 2)

    def test_four_accounts_over_three_replicas_end_two_one_one_not_two_two_none(self, store):
        world = World(store, [*NAMES, "push:account:dune"])
        a = world.join()
        world.period()
        b = world.join()
        for _ in range(BOUND_TICKS):
            world.period()
        c = world.join()
        for _ in range(2 * BOUND_TICKS):
            world.period()
        counts = world.counts()
        assert sorted(counts.values()) == [1, 1, 2], counts
        assert counts[c.me.replica_id] >= 1  # the last to join pushes too
        with capture_logs() as logs:
            for _ in range(10):
                world.period()
        assert not [e for e in logs if e["event"].startswith("lease.")]  # and it stays so
        assert sum(len(r.held()) for r in (a, b, c)) == 4

    def test_the_shares_stay_put_once_balanced(self, store):
        world, a = world_where_a_took_everything(store)
        b = world.join()
        for _ in range(BOUND_TICKS):
            world.period()
        with capture_logs() as logs:
            for _ in range(10):
                world.period()
        assert not [e for e in logs if e["event"].startswith("lease.")]
        assert [len(store.lease_history(n)) for n in NAMES] == [1, 1, 2]
        assert world.counts() == {a.me.replica_id: 2, b.me.replica_id: 1}

    def test_a_lease_is_given_up_only_between_runs_of_its_account(self, store):
        world, a = world_where_a_took_everything(store)
        run = a.pushing("push:account:cask")
        fence = run.__enter__()  # a push for cask is under way
        b = world.join()
        for _ in range(BOUND_TICKS + 3):
            world.period()
            assert fence.still_held()  # the run keeps its fence to its end
            assert [h.fence for h in store.lease_history("push:account:cask")] == [1]
        # No new run starts under a lease that is being given up, and pulls stop for it.
        with a.pushing("push:account:cask") as second:
            assert second is None
        assert not a.holds("push:account:cask")
        run.__exit__(None, None, None)
        world.period()  # a lets it go at its next tick; b takes it with a new fence
        assert not fence.still_held()
        assert [x.name for x in b.held()] == ["push:account:cask"]
        assert [h.fence for h in store.lease_history("push:account:cask")] == [1, 2]

    def test_a_lease_is_kept_when_no_live_replica_is_below_its_share(self, store):
        world, a = world_where_a_took_everything(store)
        b = world.join()
        for _ in range(BOUND_TICKS):
            world.period()
        world.replicas.remove(b)  # b dies: it stops beating; a takes its account after a lease
        with capture_logs() as logs:
            for _ in range(6):
                world.period()
        assert sorted(x.name for x in a.held()) == NAMES
        assert not [e for e in logs if e["event"] == "lease.rebalanced"]
        assert [h.fence for h in store.lease_history("push:account:cask")] == [1, 2, 3]

    def test_an_excess_is_acted_on_at_the_next_tick_not_at_once(self, store):
        world, a = world_where_a_took_everything(store)
        b = world.join()
        b.tick(store, NAMES)  # b beats; nothing is free for it
        a.tick(store, NAMES)  # a sees the excess for the first time
        a.tick(store, NAMES)  # and again, at once: not yet a renewal period
        assert len(a.held()) == 3
        world.seconds.advance(TIMES.renew_every - 0.01)  # the next tick, a little early
        a.tick(store, NAMES)
        assert len(a.held()) == 2

    def test_nothing_is_given_up_while_every_other_live_replica_has_its_share(self, store):
        # b runs a configuration of four other accounts (a rolling change): it holds two, its
        # share; a's share is 2 of its three, yet nobody is below a share to take the third.
        world, a = world_where_a_took_everything(store)
        b = ReplicaLeases(world.clock, TIMES)
        b._monotonic = world.seconds
        others = [f"push:account:{n}" for n in ("dart", "echo", "fig", "gale")]
        with capture_logs() as logs:
            for _ in range(BOUND_TICKS + 2):
                b.tick(store, others)
                a.tick(store, NAMES)
                world.seconds.advance(TIMES.renew_every)
        assert sorted(x.name for x in a.held()) == NAMES
        assert len(b.held()) == 2
        assert not [e for e in logs if e["event"] == "lease.rebalanced"]
