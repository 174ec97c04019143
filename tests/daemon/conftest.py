"""Daemon fixtures: a world of the emulator, a feed and a configuration, torn down for sure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon_support import SKUS, World, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    built = make_world(tmp_path, SKUS)
    try:
        yield built
    finally:
        built.close()
