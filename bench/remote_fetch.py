"""Benchmark: fetching an N-row CSV feed over SFTP (and from S3) against reading it from disk.

Each transport is timed twice: the fetch alone (FeedFiles.pick(): connect, list, read every
byte, check the file did not change), and the whole pull of the csv source (fetch, decode,
parse, validate). The difference between a remote pull and the local pull is the network part;
parse costs are bench/planner_scale.py's subject.

The SFTP server is asyncssh's, in this process on 127.0.0.1 (the one the tests use); it is
pure Python, so a real OpenSSH server fetches faster. --s3 adds moto's S3 server, also in
process. Wall-clock seconds, best of --repeat.

    python bench/remote_fetch.py                 # 1,000,000 rows, local and SFTP
    python bench/remote_fetch.py --rows 200000 --s3
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from remote_servers import S3Server, SftpServer

from inventory_sync.clock import FixedClock
from inventory_sync.domain.model import Completeness, QuantityBasis, SourceName, Warehouse
from inventory_sync.gcpause import gc_paused
from inventory_sync.sources.base import SourceContext, SourceSpec
from inventory_sync.sources.csv_file import KIND, CsvOptions
from inventory_sync.sources.feed_files import FeedFiles

SPEC = SourceSpec(
    SourceName("bench"), (Warehouse("main"),), QuantityBasis.ON_HAND, Completeness.COMPLETE
)


def write_feed(path: Path, rows: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        out.write("sku,quantity\n")
        out.writelines(f"SKU-{n:08d},{n % 500}\n" for n in range(rows))


def best(repeat: int, work: Callable[[], object]) -> float:
    """Best wall time of ``repeat`` runs, with the cycle collector paused as the service pulls."""
    times = []
    for _ in range(repeat):
        with gc_paused():
            start = time.perf_counter()
            work()
            times.append(time.perf_counter() - start)
    return min(times)


def measure(name: str, options: CsvOptions, context: SourceContext, repeat: int) -> dict:
    files = FeedFiles(options, SPEC.name, context)
    source = KIND.build(SPEC, options, context)
    fetch = best(repeat, files.pick)
    pull = best(repeat, source.pull)
    return {"transport": name, "fetch_s": fetch, "pull_s": pull}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--s3", action="store_true", help="also fetch from moto's S3 server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "sftp-root"
        feed = root / "in" / "stock.csv"
        write_feed(feed, args.rows)
        size = feed.stat().st_size
        clock = FixedClock(datetime.now(UTC) + timedelta(hours=1))
        secrets: dict[str, str] = {}
        context = SourceContext(clock=clock, read_secret=secrets.__getitem__, state_dir=Path(tmp))
        results = [measure("local", CsvOptions(path=str(feed)), context, args.repeat)]
        with SftpServer(root) as server:
            known_hosts = Path(tmp) / "known_hosts"
            known_hosts.write_text(server.known_hosts_line())
            secrets["pw"] = server.password
            sftp = {"password_secret": "pw", "known_hosts": str(known_hosts)}
            options = CsvOptions(path=server.url("in/stock.csv"), sftp=sftp)
            results.append(measure("sftp", options, context, args.repeat))
        if args.s3:
            results.append(measure_s3(feed, context, secrets, args.repeat))
    report(args.rows, size, results)


def measure_s3(feed: Path, context: SourceContext, secrets: dict[str, str], repeat: int) -> dict:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request
    with S3Server() as s3:
        s3.client().create_bucket(Bucket="bench")
        s3.put("bench", "in/stock.csv", feed.read_bytes(), datetime.now(UTC))
        secrets.update(id=s3.access_key_id, secret=s3.secret_access_key)
        options = CsvOptions(
            path="s3://bench/in/stock.csv",
            s3={
                "endpoint_url": s3.endpoint,
                "access_key_id_secret": "id",
                "secret_access_key_secret": "secret",
            },
        )
        return measure("s3", options, context, repeat)


def report(rows: int, size: int, results: list[dict]) -> None:
    local = results[0]
    print(f"{rows:,} rows, {size / 1e6:.1f} MB")
    print(f"{'transport':<10}{'fetch s':>10}{'pull s':>10}{'pull / local pull':>20}")
    for r in results:
        ratio = r["pull_s"] / local["pull_s"]
        print(f"{r['transport']:<10}{r['fetch_s']:>10.2f}{r['pull_s']:>10.2f}{ratio:>20.2f}x")


if __name__ == "__main__":
    main()
