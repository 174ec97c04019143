"""Helpers for source tests: a spec builder, a secrets fake, feed files with chosen mtimes."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from inventory_sync.domain.model import Completeness, QuantityBasis, SourceName, Warehouse
from inventory_sync.sources.base import SourceSpec

# Files get mtimes relative to this instant; the clock starts well after, so files are stable.
EPOCH = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def make_spec(*warehouses: str, **overrides) -> SourceSpec:
    fields = {
        "name": SourceName("feed"),
        "warehouses": tuple(Warehouse(w) for w in (warehouses or ("main",))),
        "basis": QuantityBasis.ON_HAND,
        "completeness": Completeness.COMPLETE,
    }
    fields.update(overrides)
    return SourceSpec(**fields)


class Secrets:
    """A credentials directory in a dict."""

    def __init__(self, **values: str) -> None:
        self.values = values

    def __call__(self, name: str) -> str:
        try:
            return self.values[name]
        except KeyError:
            raise FileNotFoundError(f"no credential named {name!r}") from None


def write_file(path: Path, content: str | bytes, *, mtime: datetime = EPOCH) -> Path:
    """Write a feed file and set its mtime, so stability is decided by the test's clock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode())
    else:
        path.write_bytes(content)
    stamp = mtime.timestamp()
    os.utime(path, (stamp, stamp))
    return path
