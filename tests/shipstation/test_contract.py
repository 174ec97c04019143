"""One contract, two implementations: MemoryInventory must behave like the client over HTTP."""

from __future__ import annotations

import pytest
from shipstation_seeds import small_seed

from inventory_sync.errors import NotFound, OutcomeUncertain, RequestRejected
from inventory_sync.shipstation.memory import MemoryInventory
from inventory_sync.shipstation.models import Condition, GroupBy, InventoryUpdate


@pytest.fixture(params=["memory", "http"])
def api(request, start, connect):
    if request.param == "memory":
        return MemoryInventory.from_seed(small_seed())
    return connect(start(small_seed()))


def on_hand(api, sku: str, location: str) -> int:
    [row] = api.list_levels(sku=sku, inventory_location_id=location)
    return row.on_hand


class TestInventoryContract:
    def test_lists_levels_with_filters(self, api):
        assert len(list(api.list_levels())) == 6
        assert {
            r.inventory_location_id for r in api.list_levels(inventory_warehouse_id="se-1001")
        } == {"se-2001"}
        assert [r.available for r in api.list_levels(sku="SKU-A")] == [9, 9]

    def test_each_page_is_heard_with_the_levels_so_far_and_the_totals(self, api):
        heard = []
        rows = list(api.list_levels(on_page=heard.append))
        assert (heard[-1].items, heard[-1].items_total) == (len(rows), 6)
        assert heard[-1].pages == heard[-1].pages_total == len(heard)

    def test_group_by_warehouse_has_no_location(self, api):
        assert {r.inventory_location_id for r in api.list_levels(group_by=GroupBy.WAREHOUSE)} == {
            None
        }

    def test_adjust_sets_and_a_second_adjust_is_harmless(self, api):
        api.update_level(InventoryUpdate("adjust", "SKU-A", 3, "se-2001"))
        api.update_level(InventoryUpdate("adjust", "SKU-A", 3, "se-2001"))
        assert on_hand(api, "SKU-A", "se-2001") == 3

    def test_adjust_creates_a_row_for_a_known_product(self, api):
        api.update_level(InventoryUpdate("adjust", "SKU-NEW", 4, "se-2002"))
        assert on_hand(api, "SKU-NEW", "se-2002") == 4

    def test_increment_then_decrement(self, api):
        api.update_level(InventoryUpdate("increment", "SKU-B", 4, "se-2002"))
        api.update_level(InventoryUpdate("decrement", "SKU-B", 1, "se-2002"))
        assert on_hand(api, "SKU-B", "se-2002") == 14

    def test_a_decrement_beyond_stock_is_rejected_and_changes_nothing(self, api):
        with pytest.raises(RequestRejected) as caught:
            api.update_level(InventoryUpdate("decrement", "SKU-B", 100, "se-2002"))
        assert caught.value.status_code == 400
        assert on_hand(api, "SKU-B", "se-2002") == 11

    def test_adjust_works_per_condition(self, api):
        api.update_level(
            InventoryUpdate("adjust", "SKU-C", 2, "se-2001", condition=Condition.DAMAGED)
        )
        assert on_hand(api, "SKU-C", "se-2001") == 14  # 12 sellable + 2 damaged

    def test_an_unknown_location_is_not_found(self, api):
        with pytest.raises(NotFound):
            api.update_level(InventoryUpdate("adjust", "SKU-A", 1, "se-404"))

    def test_an_unknown_sku_is_rejected(self, api):
        with pytest.raises(RequestRejected) as caught:
            api.update_level(InventoryUpdate("adjust", "NOT-A-PRODUCT", 1, "se-2001"))
        assert caught.value.status_code == 400

    def test_lists_warehouses_and_locations(self, api):
        assert [w.name for w in api.list_warehouses()] == ["East DC", "West DC"]
        assert [
            (loc.inventory_location_id, loc.inventory_warehouse_id) for loc in api.list_locations()
        ] == [
            ("se-2001", "se-1001"),
            ("se-2002", "se-1002"),
        ]

    def test_warehouse_and_location_life_cycle(self, api):
        warehouse = api.create_warehouse("North DC")
        location = api.create_location("A - 1 - 1 - 1", warehouse.inventory_warehouse_id)
        api.rename_warehouse(warehouse.inventory_warehouse_id, "North")
        api.update_location(location.inventory_location_id, barcode="B-9")
        assert api.get_warehouse(warehouse.inventory_warehouse_id).name == "North"
        assert api.get_location(location.inventory_location_id).barcode == "B-9"
        api.delete_warehouse(warehouse.inventory_warehouse_id)
        with pytest.raises(NotFound):
            api.get_location(location.inventory_location_id)

    def test_a_stocked_location_is_not_deleted_without_remove_inventory(self, api):
        with pytest.raises(RequestRejected) as caught:
            api.delete_location("se-2001")
        assert caught.value.status_code == 409
        api.delete_location("se-2001", remove_inventory=True)
        assert {r.inventory_location_id for r in api.list_levels()} == {"se-2002"}

    def test_update_many_reports_every_result(self, api):
        results = []
        api.update_many(
            [InventoryUpdate("adjust", sku, 1, "se-2002") for sku in ("SKU-A", "SKU-B", "NOPE")],
            on_result=lambda update, outcome: results.append((update.sku, type(outcome).__name__)),
        )
        assert sorted(results) == [
            ("NOPE", "RequestRejected"),
            ("SKU-A", "UpdateReceipt"),
            ("SKU-B", "UpdateReceipt"),
        ]


class TestMemoryScriptedFailures:
    def test_a_lost_answer_applies_and_then_raises(self):
        api = MemoryInventory.from_seed(small_seed())
        api.fail_next(OutcomeUncertain("lost"), after_applying=True)
        with pytest.raises(OutcomeUncertain):
            api.update_level(InventoryUpdate("increment", "SKU-A", 5, "se-2001"))
        assert on_hand(api, "SKU-A", "se-2001") == 15
        api.update_level(InventoryUpdate("increment", "SKU-A", 1, "se-2001"))
        assert on_hand(api, "SKU-A", "se-2001") == 16

    def test_a_failure_before_applying_changes_nothing(self):
        api = MemoryInventory.from_seed(small_seed())
        api.fail_next(RequestRejected("no", status_code=400))
        with pytest.raises(RequestRejected):
            api.update_level(InventoryUpdate("increment", "SKU-A", 5, "se-2001"))
        assert on_hand(api, "SKU-A", "se-2001") == 10
        assert api.sent == []
