"""What the client raises for each refusal, and the support record each error carries."""

from __future__ import annotations

import httpx
import pytest
from shipstation_seeds import KEY

from inventory_sync.errors import (
    AuthError,
    NotFound,
    OutcomeUncertain,
    PlanError,
    RateLimited,
    RequestRejected,
    ServerError,
)
from inventory_sync.shipstation.keys import ApiKey
from inventory_sync.shipstation.models import InventoryUpdate
from inventory_sync.shipstation.support import format_support_record


class TestStatuses:
    def test_400_is_rejected_with_the_body_facts(self, client):
        with pytest.raises(RequestRejected) as caught:
            client.update_level(InventoryUpdate("adjust", "NO-SUCH-SKU", 1, "se-2001"))
        error = caught.value
        assert (error.status_code, error.error_code, error.error_type) == (
            400,
            "invalid_field_value",
            "validation",
        )
        assert error.request_id

    def test_404_for_an_unknown_location_is_not_found(self, client):
        with pytest.raises(NotFound) as caught:
            client.update_level(InventoryUpdate("adjust", "SKU-A", 1, "se-9999"))
        assert caught.value.error_code == "invalid_identifier"

    def test_409_for_a_stocked_delete_is_rejected(self, client):
        with pytest.raises(RequestRejected) as caught:
            client.delete_location("se-2001")
        assert caught.value.status_code == 409

    def test_401_with_the_only_key_is_an_auth_error(self, emulator, connect):
        client = connect(emulator, keys=(ApiKey("wrong-key"),))
        with pytest.raises(AuthError) as caught:
            client.list_warehouses()
        assert caught.value.status_code == 401
        assert len(emulator.requests) == 1

    def test_402_stops_at_once_with_a_plan_message(self, start, connect):
        emulator = start(plan_refused_keys=("lapsed-key",))
        client = connect(emulator, keys=(ApiKey("lapsed-key"),))
        with pytest.raises(PlanError) as caught:
            client.update_level(InventoryUpdate("adjust", "SKU-A", 1, "se-2001"))
        assert "Inventory API add-on" in str(caught.value)
        assert caught.value.error_type == "account_status"
        assert len(emulator.requests) == 1

    def test_429_beyond_the_allowed_waits_is_rate_limited(self, start, connect):
        emulator = start(rate_limit_per_minute=1, rate_limit_headers=False)
        client = connect(emulator, max_rate_limit_waits=0)
        client.list_warehouses()
        with pytest.raises(RateLimited) as caught:
            client.list_warehouses()
        assert caught.value.status_code == 429
        assert caught.value.retry_after is not None
        assert caught.value.retry_after > 0

    def test_a_long_retry_after_stops_the_account_at_once_after_one_429(self, start, connect):
        emulator = start()
        emulator.faults.update(burst_429_rate=1.0, burst_429_length=1000, burst_retry_after=600)
        client = connect(emulator, max_rate_limit_pause_seconds=120.0, concurrency=4)
        with pytest.raises(RateLimited) as caught:
            client.list_warehouses()
        assert caught.value.retry_after == 600
        # The account's other requests are refused here too, without reaching the server.
        outcomes = []
        updates = [InventoryUpdate("adjust", f"SKU-{n}", 1, "se-2001") for n in range(8)]
        client.update_many(updates, on_result=lambda _u, result: outcomes.append(result))
        assert all(isinstance(result, RateLimited) for result in outcomes)
        assert len(outcomes) == 8
        assert [r.status for r in emulator.requests] == [429]  # nobody sat the 600 s out

    def test_persistent_5xx_on_a_read_is_a_server_error_after_the_retries(self, emulator, connect):
        emulator.faults.update(error_rate=1.0)
        client = connect(emulator, max_read_retries=2)
        with pytest.raises(ServerError) as caught:
            client.list_warehouses()
        assert caught.value.status_code == 503
        assert len(emulator.requests) == 3

    def test_5xx_on_an_increment_is_uncertain_and_never_replayed(self, emulator, client):
        emulator.faults.update(error_rate=1.0)
        with pytest.raises(OutcomeUncertain) as caught:
            client.update_level(InventoryUpdate("increment", "SKU-A", 1, "se-2001"))
        assert caught.value.status_code == 503
        assert len(emulator.requests) == 1


class TestSupportRecord:
    def test_the_record_names_action_endpoint_body_status_response_and_request_id(self, client):
        with pytest.raises(RequestRejected) as caught:
            client.update_level(InventoryUpdate("decrement", "SKU-A", 500, "se-2001", notes="n"))
        record = caught.value.support
        assert record is not None
        assert record.action == "updateSKUStockLevels"
        assert (record.method, record.status_code) == ("POST", 400)
        assert record.url.endswith("/v2/inventory")
        assert record.request_body["quantity"] == 500
        assert record.response_body["request_id"] == record.request_id == caught.value.request_id

    def test_the_formatted_record_is_plain_text_without_the_key(self, client):
        with pytest.raises(NotFound) as caught:
            client.get_warehouse(KEY)  # the key in the URL must still be redacted
        text = format_support_record(caught.value.support)
        assert KEY not in text
        assert "<redacted>" in text
        for label in (
            "API action:",
            "Endpoint:",
            "Status code:  404",
            "Request ID:",
            "Response body:",
        ):
            assert label in text

    def test_a_request_id_header_is_used_when_the_body_has_none(self, emulator, connect):
        def answer(request: httpx.Request) -> httpx.Response:
            return httpx.Response(418, text="teapot", headers={"x-request-id": "rid-1"})

        client = connect(emulator, transport=httpx.MockTransport(answer))
        with pytest.raises(RequestRejected) as caught:
            client.list_warehouses()
        assert caught.value.request_id == "rid-1"
        assert caught.value.support.response_body == "teapot"
