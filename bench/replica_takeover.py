"""Benchmark: how long after a SIGKILL another replica takes the account over (default lease).

Three `inventory-sync run` replicas on one PostgreSQL database (a scratch database, dropped
after), two warehouses whose feeds change every few seconds. The lease holder is killed in the
middle of a push; the figures are the time until another replica holds the lease, and until
its first write reaches the emulator.

    python bench/replica_takeover.py --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

# The cluster harness is the failover test's own; one harness, so both measure the same thing.
TESTS = Path(__file__).parents[1] / "tests"
sys.path[:0] = [str(TESTS / "e2e"), str(TESTS)]
from replica_support import (  # noqa: E402 - found through the path set just above
    Cluster,
    fenced_writes,
    make_cluster,
    wait_for,
    wait_mid_push,
)


def scratch_database(url: str) -> tuple[str, sa.Engine, str]:
    name = f"inventory_sync_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return sa.make_url(url).set(database=name).render_as_string(hide_password=False), admin, name


def one_takeover(cluster: Cluster) -> tuple[float, float]:
    holder = cluster.holder()
    fence = cluster.lease().fence
    wait_mid_push(cluster, holder)
    holder.process.send_signal(signal.SIGKILL)
    killed_at = datetime.now(UTC)
    holder.process.wait(timeout=10)
    newer = wait_for(
        lambda: [h for h in cluster.history() if h.fence > fence], 120, "another holder"
    )
    taken = (newer[0].acquired_at - killed_at).total_seconds()
    first = wait_for(
        lambda: sorted(at for _, n, at, _ in fenced_writes(cluster.emulator) if n > fence),
        120,
        "the new holder's first write",
    )
    return taken, (first[0] - killed_at).total_seconds()


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
                Path(tmp), url, skus=40, latency_ms=60, lease=args.lease, renew=args.renew
            )
            try:
                for _ in range(3):
                    cluster.start()
                wait_for(cluster.at_targets, 120, "the first synchronisation")
                cluster.keep_changing(every=3.0)
                started = time.monotonic()
                taken, first_write = one_takeover(cluster)
                print(
                    f"run {attempt + 1}: lease {args.lease:g} s, renew {args.renew:g} s: "
                    f"lease taken over {taken:.1f} s after the SIGKILL, "
                    f"first write by the new holder after {first_write:.1f} s "
                    f"(measured in {time.monotonic() - started:.0f} s)"
                )
            finally:
                cluster.close()
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()


if __name__ == "__main__":
    main()
