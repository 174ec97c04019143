"""Sources: pulling stock from the systems that hold the truth, one module per kind."""

from inventory_sync.ports import CommittableSource, commit_snapshot
from inventory_sync.sources.base import (
    ENTRY_POINT_GROUP,
    SourceContext,
    SourceKind,
    SourceSpec,
    UnknownSourceKind,
    known_kinds,
    load_kind,
)
from inventory_sync.sources.memory import MemorySource, snapshot_of

__all__ = [
    "ENTRY_POINT_GROUP",
    "CommittableSource",
    "MemorySource",
    "SourceContext",
    "SourceKind",
    "SourceSpec",
    "UnknownSourceKind",
    "commit_snapshot",
    "known_kinds",
    "load_kind",
    "snapshot_of",
]
