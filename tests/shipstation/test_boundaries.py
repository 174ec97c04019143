"""The client is a library of its own: it imports only the error tree, the inventory values the
InventoryApi port speaks (domain/inventory.py), the backoff it shares with the sources (both
stdlib-only), and its own modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from import_names import project_imports

from inventory_sync.shipstation.settings import ClientSettings

PACKAGE = Path(__file__).resolve().parents[2] / "inventory_sync" / "shipstation"
ALLOWED = (
    "inventory_sync.errors",
    "inventory_sync.domain.inventory",
    "inventory_sync.backoff",
    "inventory_sync.shipstation",
)


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_imports_stay_inside_the_library(path):
    outside = [name for name in project_imports(path) if not name.startswith(ALLOWED)]
    assert outside == []


def test_the_user_agent_names_the_project():
    assert ClientSettings("x", ()).user_agent.startswith("inventory-sync/")
