"""The Targets port over ShipStation: configured warehouses resolved once, or refused."""

from __future__ import annotations

import pytest

from inventory_sync.domain.model import LocationId, Warehouse, WarehouseTarget
from inventory_sync.errors import MappingError
from inventory_sync.shipstation.mapping import WarehouseMapping
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.targets import MappedTargets

SEED = {
    "warehouses": [{"inventory_warehouse_id": "se-1", "name": "Main"}],
    "locations": [
        {"inventory_location_id": "se-11", "name": "A", "inventory_warehouse_id": "se-1"}
    ],
}
EAST = WarehouseTarget(Warehouse("east"), LocationId("se-11"), "se-1")


class CountingDirectory:
    """MemoryInventory's warehouses and locations, counting how often they are asked for."""

    def __init__(self) -> None:
        self.inventory = MemoryInventory.from_seed(SEED)
        self.asked = 0

    def list_warehouses(self):
        self.asked += 1
        return self.inventory.list_warehouses()

    def list_locations(self):
        return self.inventory.list_locations()


def mapping(location: str | None = "se-11", warehouse_name: str | None = None) -> WarehouseMapping:
    warehouse_id = None if warehouse_name else "se-1"
    return WarehouseMapping("east", warehouse_id, location, warehouse_name)


class TestMappedTargets:
    def test_names_are_known_without_asking_shipstation(self):
        directory = CountingDirectory()
        assert MappedTargets([mapping()], directory).names == ("east",)
        assert directory.asked == 0

    def test_the_mapping_is_checked_once_and_the_answer_kept(self):
        directory = CountingDirectory()
        targets = MappedTargets([mapping()], directory)
        assert targets.resolve() == (EAST,)
        assert targets.resolve() == (EAST,)
        assert directory.asked == 1

    def test_a_warehouse_given_by_name_is_resolved_to_its_only_location(self):
        targets = MappedTargets([mapping(None, "Main")], CountingDirectory())
        assert targets.resolve() == (EAST,)

    def test_a_location_shipstation_does_not_have_is_refused_every_time(self):
        directory = CountingDirectory()
        targets = MappedTargets([mapping("se-99")], directory)
        for _ in range(2):
            with pytest.raises(MappingError):
                targets.resolve()
        assert directory.asked == 2  # a refusal is not kept: the next run checks again

    def test_with_the_check_off_configured_ids_are_used_as_they_stand(self):
        directory = CountingDirectory()
        configured = (WarehouseTarget(Warehouse("east"), LocationId("se-99"), "se-1"),)
        targets = MappedTargets([mapping("se-99")], directory, configured=configured, check=False)
        assert targets.resolve() == configured
        assert directory.asked == 0

    def test_with_the_check_off_a_missing_id_is_still_resolved(self):
        directory = CountingDirectory()
        targets = MappedTargets([mapping(None, "Main")], directory, check=False)
        assert targets.resolve() == (EAST,)
        assert directory.asked == 1
