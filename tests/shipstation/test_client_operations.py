"""Every inventory operation, over real loopback HTTP against the emulator."""

from __future__ import annotations

import httpx
import pytest
from shipstation_seeds import KEY, big_seed

from inventory_sync.errors import NotFound, RequestRejected
from inventory_sync.ports import InventoryApi
from inventory_sync.shipstation.client import ShipStationClient
from inventory_sync.shipstation.models import (
    Condition,
    GroupBy,
    InventoryUpdate,
    Money,
    PagesRead,
)


def levels_at(client: ShipStationClient, location: str) -> dict[str, int]:
    return {row.sku: row.on_hand for row in client.list_levels(inventory_location_id=location)}


class TestProtocol:
    def test_the_client_is_an_inventory_api(self, client):
        api: InventoryApi = client  # mypy checks the structural match; this checks it at run time
        assert callable(api.list_levels)


class TestLevels:
    def test_lists_every_seeded_level_with_available(self, client):
        rows = list(client.list_levels())
        assert len(rows) == 6
        first = rows[0]
        assert (first.sku, first.on_hand, first.allocated, first.available) == ("SKU-A", 10, 1, 9)

    def test_filters_by_warehouse_location_and_sku(self, client):
        assert {
            r.inventory_warehouse_id for r in client.list_levels(inventory_warehouse_id="se-1002")
        } == {"se-1002"}
        assert {
            r.inventory_location_id for r in client.list_levels(inventory_location_id="se-2001")
        } == {"se-2001"}
        assert [r.on_hand for r in client.list_levels(sku="SKU-B")] == [11, 11]

    def test_group_by_warehouse_reads_rows_without_a_location(self, client):
        rows = list(client.list_levels(group_by=GroupBy.WAREHOUSE))
        assert len(rows) == 6
        assert all(row.inventory_location_id is None for row in rows)

    def test_adjust_sets_the_absolute_level(self, client):
        receipt = client.update_level(InventoryUpdate("adjust", "SKU-A", 42, "se-2001"))
        assert receipt.status_code == 204
        assert receipt.request_id
        assert levels_at(client, "se-2001")["SKU-A"] == 42

    def test_increment_and_decrement_move_by_the_quantity(self, client):
        client.update_level(InventoryUpdate("increment", "SKU-B", 5, "se-2001", notes="in"))
        client.update_level(InventoryUpdate("decrement", "SKU-B", 3, "se-2001", notes="out"))
        assert levels_at(client, "se-2001")["SKU-B"] == 13

    def test_decrement_is_all_or_nothing(self, client):
        with pytest.raises(RequestRejected) as caught:
            client.update_level(InventoryUpdate("decrement", "SKU-B", 999, "se-2001"))
        assert caught.value.status_code == 400
        assert levels_at(client, "se-2001")["SKU-B"] == 11

    def test_modify_moves_units_to_another_location(self, client):
        client.update_level(
            InventoryUpdate(
                "modify",
                "SKU-C",
                2,
                "se-2001",
                condition=Condition.SELLABLE,
                new_inventory_location_id="se-2002",
                new_cost=Money(1.5, "usd"),
            )
        )
        assert levels_at(client, "se-2001")["SKU-C"] == 10
        assert levels_at(client, "se-2002")["SKU-C"] == 14

    def test_every_body_field_reaches_the_server_and_none_fields_do_not(self, emulator, client):
        update = InventoryUpdate(
            "increment",
            "SKU-NEW",
            3,
            "se-2001",
            condition=Condition.DAMAGED,
            lot="L1",
            cost=Money(2.0, "usd"),
            usable_start_date="2026-01-01T00:00:00Z",
            usable_end_date="2027-01-01T00:00:00Z",
            effective_at="2026-11-01T00:00:00Z",
            reason="receiving",
            notes="po-1",
        )
        client.update_level(update)
        [entry] = emulator.applied()
        assert entry.body == {
            "transaction_type": "increment",
            "sku": "SKU-NEW",
            "quantity": 3,
            "inventory_location_id": "se-2001",
            "condition": "damaged",
            "lot": "L1",
            "cost": {"amount": 2.0, "currency": "usd"},
            "usable_start_date": "2026-01-01T00:00:00Z",
            "usable_end_date": "2027-01-01T00:00:00Z",
            "effective_at": "2026-11-01T00:00:00Z",
            "reason": "receiving",
            "notes": "po-1",
        }


class TestPagination:
    @pytest.mark.parametrize("param", ["page_size", "limit"])
    def test_reads_1050_levels_in_pages_of_100_under_either_parameter_name(
        self, start, connect, param
    ):
        emulator = start(big_seed(1050), page_size_params=(param,))
        client = connect(emulator, page_size=100, page_size_param=param)
        rows = list(client.list_levels())
        assert [row.sku for row in rows] == [f"BULK-{n:05d}" for n in range(1050)]
        assert len([r for r in emulator.requests if r.path == "/v2/inventory"]) == 11

    def test_each_page_is_heard_with_the_levels_so_far_and_shipstations_totals(
        self, start, connect
    ):
        client = connect(start(big_seed(1050)), page_size=100)
        heard: list[PagesRead] = []
        levels = client.list_levels(on_page=heard.append)
        next(levels)
        assert heard == [PagesRead(1, 100, 11, 1050)]  # heard before its levels are yielded
        rest = list(levels)
        assert len(rest) == 1049
        assert heard == [PagesRead(n, min(n * 100, 1050), 11, 1050) for n in range(1, 12)]

    def test_a_page_size_refused_is_not_heard_as_a_page(self, start, connect):
        client = connect(start(big_seed(250), page_size_max=100))
        heard: list[PagesRead] = []
        assert len(list(client.list_levels(on_page=heard.append))) == 250
        assert heard == [PagesRead(n, min(n * 100, 250), 3, 250) for n in range(1, 4)]

    def test_a_server_that_gives_no_totals_is_heard_without_them(self, emulator, connect):
        pages = [
            {"inventory": [{"sku": "A", "on_hand": 1}], "links": {"next": {"href": "/p2"}}},
            {"inventory": [{"sku": "B", "on_hand": 2}], "links": {}},
        ]

        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=pages[1 if request.url.path == "/p2" else 0])

        client = connect(emulator, transport=httpx.MockTransport(answer))
        heard: list[PagesRead] = []
        assert [r.sku for r in client.list_levels(on_page=heard.append)] == ["A", "B"]
        assert heard == [PagesRead(1, 1), PagesRead(2, 2)]

    def test_falls_back_to_a_smaller_page_size_and_remembers_it(self, start, connect):
        emulator = start(big_seed(250), page_size_max=100)
        client = connect(emulator)
        assert len(list(client.list_levels())) == 250
        assert len(list(client.list_levels())) == 250
        statuses = [r.status for r in emulator.requests]
        assert statuses == [400, 200, 200, 200, 200, 200, 200]

    def test_null_next_links_end_the_walk_like_empty_ones(self, start, connect):
        emulator = start(big_seed(30), absent_link_as_null=True)
        client = connect(emulator, page_size=10)
        assert len(list(client.list_levels())) == 30

    def test_an_empty_listing_is_one_request(self, start, connect):
        emulator = start(big_seed(0))
        assert list(connect(emulator).list_levels()) == []
        assert len(emulator.requests) == 1


class TestWarehouses:
    def test_lists_and_gets_warehouses(self, client):
        names = {w.inventory_warehouse_id: w.name for w in client.list_warehouses()}
        assert names == {"se-1001": "East DC", "se-1002": "West DC"}
        assert client.get_warehouse("se-1002").name == "West DC"

    def test_creates_renames_and_deletes_a_warehouse(self, client):
        created = client.create_warehouse("North DC")
        assert created.inventory_warehouse_id.startswith("se-")
        client.rename_warehouse(created.inventory_warehouse_id, "North DC 2")
        assert client.get_warehouse(created.inventory_warehouse_id).name == "North DC 2"
        client.delete_warehouse(created.inventory_warehouse_id)
        with pytest.raises(NotFound):
            client.get_warehouse(created.inventory_warehouse_id)

    def test_deleting_a_stocked_warehouse_needs_remove_inventory(self, client):
        with pytest.raises(RequestRejected) as caught:
            client.delete_warehouse("se-1001")
        assert caught.value.status_code == 409
        client.delete_warehouse("se-1001", remove_inventory=True)
        assert [w.inventory_warehouse_id for w in client.list_warehouses()] == ["se-1002"]


class TestLocations:
    def test_lists_and_gets_locations(self, client):
        assert {loc.inventory_location_id for loc in client.list_locations()} == {
            "se-2001",
            "se-2002",
        }
        assert client.get_location("se-2002").inventory_warehouse_id == "se-1002"

    def test_creates_updates_and_deletes_a_location(self, client):
        created = client.create_location("B - 1 - 1 - 1", "se-1001", barcode="BC-1")
        assert (created.inventory_warehouse_id, created.barcode) == ("se-1001", "BC-1")
        client.update_location(created.inventory_location_id, name="B - 2 - 1 - 1", barcode="BC-2")
        fetched = client.get_location(created.inventory_location_id)
        assert (fetched.name, fetched.barcode) == ("B - 2 - 1 - 1", "BC-2")
        client.delete_location(created.inventory_location_id)
        with pytest.raises(NotFound):
            client.get_location(created.inventory_location_id)

    def test_deleting_a_stocked_location_with_remove_inventory_drops_its_levels(self, client):
        client.delete_location("se-2002", remove_inventory=True)
        assert {r.inventory_location_id for r in client.list_levels()} == {"se-2001"}

    def test_the_key_travels_in_the_api_key_header(self, emulator, client):
        client.list_locations()
        assert emulator.requests[-1].api_key == KEY


class TestPageSizeFallbackScope:
    def test_a_400_about_something_else_is_not_retried_with_smaller_pages(self, emulator, connect):
        seen = []

        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(request)
            body = {"request_id": "r", "errors": [{"message": "sku is not valid"}]}
            return httpx.Response(400, json=body)

        client = connect(emulator, transport=httpx.MockTransport(answer))
        with pytest.raises(RequestRejected):
            list(client.list_levels(sku="??"))
        assert len(seen) == 1
