"""A replica that joins late gets its share of three accounts, and nothing is sent twice.

Two `inventory-sync run` replicas on one PostgreSQL ledger, one emulator serving three accounts
whose feeds keep changing. Time budget: about 25 s on 2 busy cores (a 3 s lease, 0.5 s ticks).
"""

from __future__ import annotations

import signal

import pytest
from crash_support import deltas_applied_twice
from replica_support import ACCOUNTS, fenced_writes, late_writes, make_cluster, wait_for

LEASE_SECONDS = 3.0
RENEW_SECONDS = 0.5
NAMES = [f"push:account:{a}" for a in ACCOUNTS]
MOVED = "push:account:cask"  # the last by name: the one the first replica gives up


@pytest.fixture
def cluster(tmp_path, scratch_postgres_url):
    made = make_cluster(
        tmp_path,
        scratch_postgres_url,
        skus=12,
        latency_ms=20,
        lease=LEASE_SECONDS,
        renew=RENEW_SECONDS,
        accounts=True,
        reconcile_seconds=0.5,
    )
    try:
        yield made
    finally:
        made.close()


def _pid(holder: str) -> int:
    return int(holder.split(":")[1])


def _holders(cluster) -> dict[str, int]:
    leases = [cluster.lease(name) for name in NAMES]
    return {x.name: _pid(x.holder) for x in leases if x is not None}


def _ran_between(events: list[dict], account: str) -> bool:
    """True when the account ran before lease.rebalanced, and every run.started was finished."""
    open_runs = runs = 0
    for event in events:
        if event["event"] == "lease.rebalanced" and event["lease"] == f"push:account:{account}":
            return runs > 0 and open_runs == 0
        if event.get("account") != account:
            continue
        if event["event"] == "run.started":
            open_runs, runs = open_runs + 1, runs + 1
        elif event["event"] == "run.finished":
            open_runs -= 1
    raise AssertionError(f"no lease.rebalanced for {account}")


@pytest.mark.postgres
class TestRebalance:
    def test_a_replica_that_joins_takes_its_share_and_nothing_is_sent_twice(self, cluster):
        a = cluster.start()
        pid_a = a.process.pid
        wait_for(cluster.at_targets, 30, "the first synchronisation")  # the schema is there now
        assert _holders(cluster) == dict.fromkeys(NAMES, pid_a)
        cluster.keep_changing(every=1.0)

        b = cluster.start()
        wait_for(lambda: _holders(cluster).get(MOVED) == b.process.pid, 30, "b to take cask")
        moved = cluster.lease(MOVED)
        wait_for(
            lambda: [w for w in fenced_writes(cluster.emulator) if w[:2] == (MOVED, moved.fence)],
            20,
            "b's first write for cask",
        )
        assert _holders(cluster) == {**dict.fromkeys(NAMES[:2], pid_a), MOVED: b.process.pid}

        cluster.stop_changing()
        wait_for(cluster.at_targets, 30, "ShipStation to reach the last feeds")
        wait_for(lambda: not cluster.unsettled(), 20, "every adjustment to be settled")
        assert deltas_applied_twice(cluster.emulator) == {}
        assert late_writes(cluster.emulator, cluster.all_history()) == []
        # One move, under a new fence; a gave it up between two runs of cask's warehouse.
        assert [_pid(h.holder) for h in cluster.history(MOVED)] == [pid_a, b.process.pid]
        assert _ran_between(a.log(), "cask")
        for replica in (a, b):
            replica.process.send_signal(signal.SIGTERM)
            assert replica.process.wait(timeout=30) == 0
