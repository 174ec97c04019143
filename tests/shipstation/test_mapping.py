"""The mapping check: configured warehouses against ShipStation's, resolved to one location each."""

from __future__ import annotations

import pytest
from shipstation_seeds import small_seed

from inventory_sync.errors import MappingError
from inventory_sync.shipstation.mapping import (
    Resolved,
    Severity,
    WarehouseMapping,
    check_mapping,
    create_missing,
)
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.shipstation.models import InventoryLocation, InventoryWarehouse

WAREHOUSES = [
    InventoryWarehouse("se-1", "East DC"),
    InventoryWarehouse("se-2", "West DC"),
    InventoryWarehouse("se-3", "West DC"),
    InventoryWarehouse("se-4", "Empty"),
]
LOCATIONS = [
    InventoryLocation("se-11", "A - 1 - 1 - 1", "se-1"),
    InventoryLocation("se-21", "A - 1 - 1 - 1", "se-2"),
    InventoryLocation("se-22", "B - 1 - 1 - 1", "se-2"),
    InventoryLocation("se-31", "A - 1 - 1 - 1", "se-3"),
]


def check(*mappings: WarehouseMapping):
    return check_mapping(mappings, WAREHOUSES, LOCATIONS)


def codes(report) -> list[str]:
    return [f.code for f in report.findings]


class TestResolution:
    def test_a_warehouse_with_one_location_resolves_to_it(self):
        report = check(WarehouseMapping("east", "se-1", None))
        assert report.ok
        assert report.resolved == {"east": Resolved("se-1", "se-11")}

    def test_a_name_is_looked_up_without_case(self):
        report = check(WarehouseMapping("east", None, None, warehouse_name="east dc"))
        assert report.resolved["east"] == Resolved("se-1", "se-11")

    def test_a_configured_location_alone_implies_its_warehouse(self):
        report = check(WarehouseMapping("west", None, "se-22"))
        assert report.resolved["west"] == Resolved("se-2", "se-22")

    def test_a_configured_location_picks_one_of_several(self):
        assert check(WarehouseMapping("west", "se-2", "se-21")).resolved["west"] == Resolved(
            "se-2", "se-21"
        )


class TestFindings:
    def test_an_unknown_warehouse_id(self):
        report = check(WarehouseMapping("north", "se-9", None))
        assert codes(report) == ["unknown_warehouse"]
        assert report.findings[0].severity is Severity.ERROR
        assert report.resolved["north"] is None

    def test_a_name_matching_several_warehouses(self):
        report = check(WarehouseMapping("west", None, None, warehouse_name="West DC"))
        assert codes(report) == ["ambiguous_warehouse_name"]
        assert "se-2, se-3" in report.findings[0].message

    def test_several_locations_and_none_configured(self):
        assert codes(check(WarehouseMapping("west", "se-2", None))) == ["ambiguous_location"]

    def test_a_location_that_does_not_exist(self):
        assert codes(check(WarehouseMapping("east", "se-1", "se-99"))) == ["unknown_location"]

    def test_a_location_of_another_warehouse(self):
        report = check(WarehouseMapping("east", "se-1", "se-21"))
        assert codes(report) == ["location_in_other_warehouse"]
        assert "belongs to warehouse 'se-2'" in report.findings[0].message

    def test_a_warehouse_without_locations(self):
        assert codes(check(WarehouseMapping("empty", "se-4", None))) == ["no_location"]

    def test_two_mappings_on_one_location_warn(self):
        report = check(WarehouseMapping("a", "se-1", None), WarehouseMapping("b", None, "se-11"))
        assert report.ok
        assert [(f.mapping, f.severity) for f in report.findings] == [
            ("a", Severity.WARNING),
            ("b", Severity.WARNING),
        ]

    def test_errors_raise_a_mapping_error_with_plain_findings(self):
        report = check(WarehouseMapping("north", "se-9", None))
        with pytest.raises(MappingError) as caught:
            report.raise_for_errors()
        assert caught.value.findings == [
            "error: north: ShipStation has no inventory warehouse 'se-9'"
        ]


class TestCreateMissing:
    def test_creates_a_named_warehouse_and_its_first_location(self):
        api = MemoryInventory.from_seed(small_seed())
        configured = [WarehouseMapping("north", None, None, warehouse_name="North DC")]
        created = create_missing(api, configured)
        assert [type(c).__name__ for c in created] == ["InventoryWarehouse", "InventoryLocation"]
        assert all(
            c_id.startswith("se-")
            for c_id in (created[0].inventory_warehouse_id, created[1].inventory_location_id)
        )
        report = check_mapping(configured, api.list_warehouses(), api.list_locations())
        assert report.ok

    def test_never_invents_a_configured_id(self):
        api = MemoryInventory.from_seed(small_seed())
        assert create_missing(api, [WarehouseMapping("x", "se-777", None)]) == []

    def test_leaves_complete_mappings_alone(self, emulator, connect):
        client = connect(emulator)
        assert create_missing(client, [WarehouseMapping("east", "se-1001", None)]) == []
