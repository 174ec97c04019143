"""The configuration file the end-to-end and daemon tests write: one template, sections to vary."""

from __future__ import annotations

from pathlib import Path


def config_toml(
    state_dir: Path,
    base_url: str,
    feed: Path,
    *,
    warehouse: str = "main",
    location: str = "se-11",
    shipstation: str = "",
    reconcile: str = "",
    source: str = "",
    tail: str = "",
) -> str:
    """One warehouse (se-1 / ``location``) fed by one csv source; each argument is TOML
    placed in its section, and ``tail`` goes last (a [daemon] table, say)."""
    return f"""
state_dir = "{state_dir}"

[shipstation]
base_url = "{base_url}"
{shipstation}

[reconcile]
{reconcile}

[[warehouses]]
name = "{warehouse}"
inventory_warehouse_id = "se-1"
inventory_location_id = "{location}"

[[sources]]
name = "feed"
type = "csv"
warehouses = ["{warehouse}"]
{source}
[sources.options]
path = "{feed}"
stable_seconds = 0
{tail}
"""
