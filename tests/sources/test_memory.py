"""The in-memory fake Source behaves like a source to the service."""

from __future__ import annotations

import pytest
from source_helpers import EPOCH

from inventory_sync.domain.model import Observation, Sku, SourceName, Warehouse
from inventory_sync.errors import SourceUnavailable
from inventory_sync.sources import MemorySource, commit_snapshot, snapshot_of

NAME = SourceName("mem")


def snap(**levels: int):
    return snapshot_of(
        NAME, {Warehouse("main"): {Sku(k): v for k, v in levels.items()}}, taken_at=EPOCH
    )


class TestMemorySource:
    def test_pulls_hand_out_queued_results_then_repeat_the_last(self):
        first, second = snap(A=1), snap(A=2)
        source = MemorySource(NAME, first, second)
        assert [source.pull(), source.pull(), source.pull()] == [first, second, second]
        assert source.pulls == 3

    def test_a_queued_error_is_raised_once(self):
        error = SourceUnavailable("down", source=NAME)
        source = MemorySource(NAME, error, snap(A=1))
        with pytest.raises(SourceUnavailable):
            source.pull()
        assert source.pull().observations == (Observation(Warehouse("main"), Sku("A"), 1),)

    def test_with_nothing_queued_it_is_unavailable(self):
        with pytest.raises(SourceUnavailable, match="nothing queued"):
            MemorySource(NAME).pull()

    def test_commit_is_remembered(self):
        source = MemorySource(NAME, snap(A=1))
        commit_snapshot(source, snapshot := source.pull())
        assert source.committed == [snapshot]

    def test_snapshot_ids_are_checksums_of_the_levels(self):
        assert snap(A=1, B=2).snapshot_id == snap(B=2, A=1).snapshot_id != snap(A=1).snapshot_id
