"""Benchmark: how long a replica that joins late waits for its share of the accounts.

Two `inventory-sync run` replicas on one PostgreSQL database (a scratch database, dropped
after), three accounts of one warehouse each, feeds that change every second. The first replica
takes all three accounts; the second starts then. The figures are the time from the second
replica's first heartbeat (and from its process start) until it holds an account, and until its
first write for it reaches the emulator.

    python bench/replica_rebalance.py --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from replica_takeover import scratch_database

# The cluster harness is the rebalance test's own; one harness, so both measure the same thing.
TESTS = Path(__file__).parents[1] / "tests"
sys.path[:0] = [str(TESTS / "e2e"), str(TESTS)]
from replica_support import (  # noqa: E402 - found through the path set just above
    Cluster,
    fenced_writes,
    make_cluster,
    wait_for,
)

from inventory_sync.ledger.repository import open_ledger  # noqa: E402 - after the path

MOVED = "push:account:cask"  # the last account by name: the one the first replica gives up


def one_join(cluster: Cluster) -> tuple[float, float, float]:
    """(seconds from the heartbeat to the lease, from the process start, to the first write)."""
    first = cluster.start()
    wait_for(cluster.at_targets, 120, "the first synchronisation")
    cluster.keep_changing(every=1.0)
    launched = datetime.now(UTC)
    joined = cluster.start()
    pid = str(joined.process.pid)
    beat = wait_for(lambda: _started(cluster, pid), 60, "the second replica's first heartbeat")
    moved = wait_for(
        lambda: [h for h in cluster.history(MOVED) if h.holder.split(":")[1] == pid],
        300,
        "the second replica to take an account",
    )[0]
    write = wait_for(
        lambda: sorted(
            at
            for lease, n, at, _ in fenced_writes(cluster.emulator)
            if (lease, n) == (MOVED, moved.fence)
        ),
        120,
        "its first write",
    )[0]
    assert first.process.poll() is None
    return (
        (moved.acquired_at - beat).total_seconds(),
        (moved.acquired_at - launched).total_seconds(),
        (write - beat).total_seconds(),
    )


def _started(cluster: Cluster, pid: str) -> datetime | None:
    with open_ledger(cluster.ledger_url, migrate=False) as ledger:
        return next((r.started_at for r in ledger.replicas() if str(r.pid) == pid), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("INVENTORY_SYNC_TEST_POSTGRES_URL"))
    parser.add_argument("--lease", type=float, default=20.0, help="[daemon] lease_seconds")
    parser.add_argument("--renew", type=float, default=5.0, help="[daemon] lease_renew_seconds")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not args.url:
        parser.error("give --url or set INVENTORY_SYNC_TEST_POSTGRES_URL")
    for attempt in range(args.repeat):
        url, admin, name = scratch_database(args.url)
        with tempfile.TemporaryDirectory() as tmp:
            cluster = make_cluster(
                Path(tmp),
                url,
                skus=40,
                latency_ms=20,
                lease=args.lease,
                renew=args.renew,
                accounts=True,
            )
            try:
                from_beat, from_start, write = one_join(cluster)
                print(
                    f"run {attempt + 1}: lease {args.lease:g} s, renew {args.renew:g} s: "
                    f"the joining replica held an account {from_beat:.1f} s after its first "
                    f"heartbeat ({from_start:.1f} s after its process started), "
                    f"its first write {write:.1f} s after the heartbeat"
                )
            finally:
                cluster.close()
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
