"""The emulator's answers and the client's requests, checked against the official OpenAPI subset."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from inventory_sync.errors import ShipStationError
from inventory_sync.shipstation.models import Condition, GroupBy, InventoryUpdate, Money

SPEC = Path(__file__).parent / "spec" / "shipstation-v2-inventory.openapi.json"  # see its README

# Known drift, from the contract notes §0: the live API renamed limit to page_size and added
# barcode to locations; `page` is the generic V2 paging parameter the next links carry.
QUERY_ALIASES = {"page_size": "limit"}
EXTRA_QUERY = {"page": {"type": "integer", "minimum": 1}}
EXTRA_BODY_FIELDS = {
    "/v2/inventory_locations": {"barcode"},
    "/v2/inventory_locations/{inventory_location_id}": {"barcode"},
}


class RecordingTransport(httpx.HTTPTransport):
    """A real transport that keeps every exchange for inspection."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text(encoding="utf-8"))


def operation_for(spec, method: str, path: str) -> tuple[str, dict[str, Any]]:
    for template, item in spec["paths"].items():
        pattern = re.sub(r"\{[^}]+\}", "[^/]+", template)
        if re.fullmatch(pattern, path) and method.lower() in item:
            return template, item[method.lower()]
    raise AssertionError(f"{method} {path} is not in the spec")


def validate(schema: dict[str, Any], instance: Any, spec: dict[str, Any]) -> None:
    """Validate with the spec's components in reach, so #/components/... refs resolve."""
    jsonschema.validate(
        instance,
        {**schema, "components": spec["components"]},
        format_checker=jsonschema.FormatChecker(),
    )


def check_query(spec, operation: dict[str, Any], request: httpx.Request) -> None:
    declared = {
        p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"
    }
    declared |= EXTRA_QUERY
    for name, value in request.url.params.multi_items():
        schema = declared.get(QUERY_ALIASES.get(name, name)) or declared.get(name)
        assert schema is not None, f"undeclared query parameter {name!r} in {request.url}"
        validate(schema, int(value) if schema.get("type") == "integer" else value, spec)


def check_body(spec, template: str, operation: dict[str, Any], request: httpx.Request) -> None:
    if not request.content:
        assert "requestBody" not in operation or not operation["requestBody"].get("required")
        return
    body = json.loads(request.content)
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    validate(schema, body, spec)
    known = set(schema.get("properties", {})) | EXTRA_BODY_FIELDS.get(template, set())
    assert set(body) <= known, f"unknown fields {set(body) - known} sent to {template}"


def check_response(spec, operation: dict[str, Any], response: httpx.Response) -> None:
    status = response.status_code
    if status >= 400:
        validate({"$ref": "#/components/schemas/error_response_body"}, response.json(), spec)
        return
    declared = operation["responses"].get(str(status))
    assert declared is not None, f"undeclared status {status}"
    content = declared.get("content")
    if content is None:
        assert not response.content
        return
    validate(content["application/json"]["schema"], response.json(), spec)


def exercise(client) -> None:
    """Every operation, each transaction type with every field it takes, and some refusals."""
    list(client.list_levels())
    list(
        client.list_levels(inventory_warehouse_id="se-1001", sku="SKU-A", group_by=GroupBy.LOCATION)
    )
    list(client.list_levels(group_by=GroupBy.WAREHOUSE))
    full = {
        "lot": "L1",
        "usable_start_date": "2026-01-01T00:00:00Z",
        "usable_end_date": "2027-01-01T00:00:00Z",
        "effective_at": "2026-11-01T10:00:00Z",
        "reason": "count",
        "notes": "n1",
    }
    client.update_level(
        InventoryUpdate(
            "increment",
            "SKU-A",
            5,
            "se-2001",
            condition=Condition.SELLABLE,
            cost=Money(1.25, "usd"),
            **full,
        )
    )
    client.update_level(
        InventoryUpdate("decrement", "SKU-A", 1, "se-2001", condition=Condition.SELLABLE, **full)
    )
    client.update_level(
        InventoryUpdate(
            "adjust",
            "SKU-B",
            9,
            "se-2001",
            condition=Condition.SELLABLE,
            cost=Money(2, "usd"),
            **full,
        )
    )
    client.update_level(
        InventoryUpdate(
            "modify",
            "SKU-A",
            1,
            "se-2001",
            new_inventory_location_id="se-2002",
            new_cost=Money(3, "usd"),
            new_condition=Condition.QA_HOLD,
            **full,
        )
    )
    warehouse = client.create_warehouse("North DC")
    client.get_warehouse(warehouse.inventory_warehouse_id)
    client.rename_warehouse(warehouse.inventory_warehouse_id, "North")
    client.list_warehouses()
    location = client.create_location(
        "A - 1 - 1 - 1", warehouse.inventory_warehouse_id, barcode="B1"
    )
    client.get_location(location.inventory_location_id)
    client.update_location(location.inventory_location_id, name="A - 1 - 1 - 2")
    client.list_locations()
    client.delete_location(location.inventory_location_id)
    client.delete_warehouse(warehouse.inventory_warehouse_id, remove_inventory=True)
    for refused in (
        lambda: client.get_warehouse("se-404"),
        lambda: client.delete_location("se-2001"),
        lambda: client.update_level(InventoryUpdate("decrement", "SKU-C", 999, "se-2001")),
    ):
        with pytest.raises(ShipStationError):
            refused()


@pytest.mark.parametrize("param", ["page_size", "limit"])
def test_requests_and_answers_match_the_official_spec(spec, emulator, connect, param):
    transport = RecordingTransport()
    client = connect(emulator, transport=transport, page_size=2, page_size_param=param)
    exercise(client)
    assert (
        len(
            {
                (r.method, operation_for(spec, r.method, r.url.path)[0])
                for r, _ in transport.exchanges
            }
        )
        == 12
    )
    for request, response in transport.exchanges:
        template, operation = operation_for(spec, request.method, request.url.path)
        check_query(spec, operation, request)
        check_body(spec, template, operation, request)
        check_response(spec, operation, response)


def test_the_check_catches_an_unknown_body_field(spec):
    request = httpx.Request(
        "POST",
        "http://x/v2/inventory",
        json={
            "transaction_type": "adjust",
            "sku": "A",
            "quantity": 1,
            "inventory_location_id": "L",
            "quantity_change": 1,
        },
    )
    template, operation = operation_for(spec, "POST", "/v2/inventory")
    with pytest.raises(AssertionError, match="quantity_change"):
        check_body(spec, template, operation, request)


def test_the_check_catches_a_malformed_error_body(spec):
    response = httpx.Response(400, json={"request_id": "not-a-uuid", "errors": []})
    with pytest.raises(jsonschema.ValidationError):
        check_response(spec, {"responses": {}}, response)
