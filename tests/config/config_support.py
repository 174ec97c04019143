"""Helpers the configuration tests share: write a file, collect the problems its loading names."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory_sync.config import load_settings
from inventory_sync.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inventory-sync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(tmp_path: Path, text: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    return {p.key: p.message for p in caught.value.problems}
