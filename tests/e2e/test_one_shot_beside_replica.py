"""A one-shot `inventory-sync reconcile` beside a real `inventory-sync run` on PostgreSQL.

The replica holds the account's lease, so the one-shot run leaves the account alone (exit 5,
naming the holder, not one request sent: the emulator tells its requests apart by their key);
a dry run needs no lease. With the replica stopped, the one-shot run takes the lease for its
duration, pushes under its fence and lets it go; a replica started while it pushes waits for
it. Budget: about 40 s.
"""

from __future__ import annotations

import json
import signal
import threading

import pytest
from replica_support import LEASE, fenced_writes, late_writes, make_cluster, wait_for

ONE_SHOT_KEY = "one-shot-key-3b7f90a1c2"
ONE_SHOT = {"INVENTORY_SYNC_SHIPSTATION__API_KEY": ONE_SHOT_KEY}


@pytest.fixture
def cluster(tmp_path, scratch_postgres_url):
    made = make_cluster(
        tmp_path,
        scratch_postgres_url,
        skus=20,
        latency_ms=40,
        lease=3.0,
        renew=0.5,
        more_keys=(ONE_SHOT_KEY,),
    )
    try:
        yield made
    finally:
        made.close()


def one_shot_requests(cluster) -> int:
    return sum(1 for r in cluster.emulator.requests if r.api_key == ONE_SHOT_KEY)


def stop(replica) -> None:
    replica.process.send_signal(signal.SIGTERM)  # a clean stop lets the lease go at once
    assert replica.process.wait(timeout=30) == 0


@pytest.mark.postgres
class TestOneShotBesideAReplica:
    def test_a_live_replica_keeps_the_account_and_a_dry_run_still_plans(self, cluster):
        replica = cluster.start()
        wait_for(cluster.at_targets, 60, "the first synchronisation")
        holder = cluster.lease().holder
        cluster.change_feeds()  # something to push, for whoever may

        done = cluster.command("reconcile", "--json", env=ONE_SHOT)
        assert done.returncode == 5, done.stderr[-3000:]
        found = json.loads(done.stdout)
        assert found["status"] == "busy"
        assert [(h["subject"], h["holder"]) for h in found["holds"]] == [
            ("account:default", holder)
        ]
        assert one_shot_requests(cluster) == 0
        busy = [json.loads(x) for x in done.stderr.splitlines() if '"account.busy"' in x]
        assert [(e["lease"], e["holder"]) for e in busy] == [(LEASE, holder)]
        history = json.loads(cluster.command("history", "--json").stdout)
        assert found["run_id"] in [r["run_id"] for r in history["runs"] if r["status"] == "busy"]

        dry = cluster.command("reconcile", "--dry-run", "--json", env=ONE_SHOT)
        assert dry.returncode == 0, dry.stderr[-3000:]
        assert one_shot_requests(cluster) > 0  # it read ShipStation, and wrote nothing:
        assert all(
            r.method == "GET" for r in cluster.emulator.requests if r.api_key == ONE_SHOT_KEY
        )
        assert [x.holder for x in cluster.history()] == [holder]
        stop(replica)

    def test_with_the_replica_gone_it_pushes_under_the_lease_and_a_new_replica_waits(self, cluster):
        first = cluster.start()
        wait_for(cluster.at_targets, 60, "the first synchronisation")
        stop(first)
        cluster.change_feeds()

        with_replica: list = []

        def start_replica_mid_push() -> None:
            # Once the one-shot holds the lease and has begun writing, a replica starts beside it.
            wait_for(lambda: one_shot_writes(cluster) >= 2, 30, "the one-shot run's first writes")
            with_replica.append(cluster.start())

        starter = threading.Thread(target=start_replica_mid_push)
        starter.start()
        done = cluster.command("reconcile", "--json", env=ONE_SHOT)
        starter.join(timeout=40)
        assert done.returncode == 0, done.stderr[-3000:]
        applied = json.loads(done.stdout)["applied"]
        assert applied > 0
        assert with_replica, "the replica was not started while the one-shot run pushed"
        ours = next(x for x in cluster.history() if "one-shot-" in x.holder)
        # Every write it made carries its fence, in ShipStation's notes, as a replica's do.
        under_ours = [w for w in fenced_writes(cluster.emulator) if w[:2] == (LEASE, ours.fence)]
        assert len(under_ours) == applied == one_shot_writes(cluster)
        assert late_writes(cluster.emulator, cluster.history()) == []
        # Let go at its end: the replica waiting beside it takes the next fence.
        wait_for(
            lambda: any(x.fence > ours.fence for x in cluster.history()), 20, "the replica's turn"
        )
        replica = with_replica[0]
        assert cluster.holder() is replica
        wait_for(cluster.at_targets, 60, "ShipStation at the feeds")
        assert late_writes(cluster.emulator, cluster.history()) == []
        stop(replica)


def one_shot_writes(cluster) -> int:
    return sum(
        1 for r in cluster.emulator.requests if r.api_key == ONE_SHOT_KEY and r.method == "POST"
    )
