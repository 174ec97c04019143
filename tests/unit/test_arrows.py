"""The arrows point inward: the core (domain, ports, app, steps, service) imports no adapter.

Adapters (shipstation/, sources/, ledger/, the Targets adapter) and entrypoints (bootstrap,
commands/, daemon/, cli) depend on the core, never the other way; bootstrap wires them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from import_names import project_imports

PACKAGE = Path(__file__).resolve().parents[2] / "inventory_sync"
CORE = sorted(
    [
        PACKAGE / "ports.py",
        PACKAGE / "app.py",
        PACKAGE / "report.py",
        PACKAGE / "exits.py",
        *(PACKAGE / "domain").rglob("*.py"),
        *(PACKAGE / "steps").rglob("*.py"),
        *(PACKAGE / "service").rglob("*.py"),
    ]
)
OUTSIDE_THE_CORE = tuple(
    f"inventory_sync.{name}"
    for name in (
        "shipstation",
        "sources",
        "ledger",
        "targets",
        "bootstrap",
        "config",
        "commands",
        "daemon",
        "cli",
    )
)


def reaches_outside(name: str) -> bool:
    return any(name == banned or name.startswith(f"{banned}.") for banned in OUTSIDE_THE_CORE)


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_core_imports_no_adapter_or_entrypoint(path):
    assert [name for name in project_imports(path) if reaches_outside(name)] == []


def test_this_test_sees_an_adapter_import_when_there_is_one(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from inventory_sync.shipstation.models import InventoryLevel\n"
        "from inventory_sync import sources\n",
        encoding="utf-8",
    )
    assert [n for n in project_imports(module) if reaches_outside(n)] == [
        "inventory_sync.shipstation.models",
        "inventory_sync.shipstation.models.InventoryLevel",
        "inventory_sync.sources",
    ]
