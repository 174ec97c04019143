"""The emulator itself: seed and dump, limits, headers, admin routes, stopping, the command."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from shipstation_seeds import KEY, small_seed

from inventory_sync.shipstation.emulator import EmulatorSettings, EmulatorState, start_emulator
from inventory_sync.shipstation.emulator.command import emulator_command

DEMO_SEED = Path(__file__).resolve().parents[2] / "inventory_sync" / "data" / "demo-emulator.json"


def get(emulator, path: str, key: str = KEY, **params) -> httpx.Response:
    return httpx.get(emulator.base_url + path, params=params, headers={"API-Key": key})


class TestSeedAndDump:
    def test_a_dump_loads_back_to_the_same_state(self, tmp_path):
        state = EmulatorState.from_seed(small_seed())
        state.dump(tmp_path / "dump.json")
        again = EmulatorState.load(tmp_path / "dump.json")
        assert again.to_seed() == state.to_seed()

    def test_generated_ids_look_like_se_ids_and_skip_seeded_ones(self):
        state = EmulatorState.from_seed(small_seed())
        created = state.create_warehouse("New")
        assert created.inventory_warehouse_id.startswith("se-")
        assert int(created.inventory_warehouse_id[3:]) > 2002

    def test_the_demo_seed_has_twelve_skus_at_both_locations(self):
        seed = json.loads(DEMO_SEED.read_text())
        assert len(seed["products"]) == 12
        assert len(seed["levels"]) == 24
        assert all(
            5 <= row["on_hand"] <= 120 and 0 <= row["allocated"] <= 5 for row in seed["levels"]
        )


class TestHttpBehaviour:
    def test_every_answer_has_a_request_id_and_rate_limit_headers(self, start):
        emulator = start(rate_limit_per_minute=100)
        response = get(emulator, "/v2/inventory_warehouses")
        assert response.headers["x-request-id"]
        assert response.headers["x-rate-limit-limit"] == "100"
        assert response.headers["x-rate-limit-remaining"] == "99"

    def test_over_the_limit_is_429_with_retry_after_and_the_error_body(self, start):
        emulator = start(rate_limit_per_minute=2)
        statuses = [get(emulator, "/v2/inventory_warehouses").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        response = get(emulator, "/v2/inventory_warehouses")
        assert int(response.headers["retry-after"]) > 0
        assert response.json()["errors"][0]["error_code"] == "rate_limit_exceeded"

    def test_a_refused_plan_gets_the_configured_status_and_code(self, start):
        emulator = start(plan_refused_keys=("cheap",), plan_refused_code="subscription_inactive")
        response = get(emulator, "/v2/inventory", key="cheap")
        assert response.status_code == 402
        [error] = response.json()["errors"]
        assert (error["error_type"], error["error_code"]) == (
            "account_status",
            "subscription_inactive",
        )

    def test_a_page_size_over_the_maximum_is_400_naming_the_parameter(self, emulator):
        response = get(emulator, "/v2/inventory", page_size=501)
        assert response.status_code == 400
        assert "page_size" in response.json()["errors"][0]["message"]

    def test_links_keep_filters_and_are_absolute(self, emulator):
        body = get(emulator, "/v2/inventory", sku="SKU-A", page_size=1).json()
        assert body["pages"] == 2
        assert (
            body["links"]["next"]["href"]
            == f"{emulator.base_url}/v2/inventory?sku=SKU-A&page=2&page_size=1"
        )
        assert body["links"]["prev"] == {}

    def test_zero_stock_rows_can_be_omitted(self, start):
        seed = small_seed()
        seed["levels"][0]["on_hand"] = 0
        assert get(start(seed), "/v2/inventory").json()["total"] == 6
        assert get(start(seed, omit_zero_stock=True), "/v2/inventory").json()["total"] == 5

    def test_an_echoing_emulator_quotes_the_key_in_every_error_message(self, emulator):
        emulator.faults.update(echo_api_key=True)
        refused = get(emulator, "/v2/inventory", key="a-revoked-key").json()
        assert refused["errors"][0]["message"].endswith("(API-Key: a-revoked-key)")
        emulator.faults.update(error_rate=1.0)
        failed = get(emulator, "/v2/inventory").json()
        assert failed["errors"][0]["message"].endswith(f"(API-Key: {KEY})")
        emulator.faults.update(error_rate=0.0, echo_api_key=False)
        assert "API-Key" not in get(emulator, "/v2/inventory", key="other").text

    def test_an_unknown_path_is_404_with_the_error_body(self, emulator):
        response = get(emulator, "/v2/nothing")
        assert response.status_code == 404
        assert response.json()["request_id"] == response.headers["x-request-id"]


class TestAdminRoutes:
    def test_the_admin_api_counts_requests_by_answer(self, start):
        emulator = start(rate_limit_per_minute=2)
        for _ in range(3):
            httpx.get(emulator.base_url + "/v2/inventory_warehouses", headers={"API-Key": KEY})
        httpx.get(emulator.base_url + "/v2/inventory_warehouses", headers={"API-Key": "wrong"})
        counts = httpx.get(emulator.base_url + "/_emulator/requests").json()
        assert counts == {
            "total": 4,
            "by_status": {"200": 2, "429": 1, "401": 1},
            "rate_limited": 1,
        }

    def test_faults_change_at_run_time(self, emulator):
        response = httpx.post(emulator.base_url + "/_emulator/faults", json={"error_rate": 1.0})
        assert response.json()["error_rate"] == 1.0
        assert get(emulator, "/v2/inventory").status_code == 503

    def test_unknown_fault_settings_are_refused(self, emulator):
        response = httpx.post(emulator.base_url + "/_emulator/faults", json={"chaos": 1})
        assert response.status_code == 400

    def test_state_and_applied_record_are_readable(self, emulator):
        body = {
            "transaction_type": "increment",
            "sku": "SKU-A",
            "quantity": 1,
            "inventory_location_id": "se-2001",
        }
        for _ in range(2):
            httpx.post(emulator.base_url + "/v2/inventory", json=body, headers={"API-Key": KEY})
        applied = httpx.get(emulator.base_url + "/_emulator/applied").json()
        times = applied[0].pop("at")
        assert applied == [{"method": "POST", "path": "/v2/inventory", "body": body, "count": 2}]
        assert len(times) == 2
        assert times == sorted(times)  # each application's time, in order
        state = httpx.get(emulator.base_url + "/_emulator/state").json()
        assert state["levels"][0]["on_hand"] == 12


class TestLifeCycle:
    def test_stop_joins_every_thread_even_with_idle_keep_alive_connections(self):
        before = threading.active_count()
        emulator = start_emulator(
            EmulatorSettings(api_keys=(KEY,)), EmulatorState.from_seed(small_seed())
        )
        with httpx.Client(headers={"API-Key": KEY}) as http:
            http.get(emulator.base_url + "/v2/inventory")
            emulator.stop()
        assert threading.active_count() == before

    def test_the_command_documents_its_options(self):
        result = CliRunner().invoke(emulator_command, ["--help"])
        assert result.exit_code == 0
        for option in (
            "--seed",
            "--dump",
            "--api-key",
            "--plan-refused-key",
            "--rate-limit",
            "--burst-429",
            "--echo-api-key",
        ):
            assert option in result.output

    @pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
    def test_the_command_serves_and_dumps_on_sigterm(self, tmp_path):
        code = (
            "from inventory_sync.shipstation.emulator.command import emulator_command\n"
            "emulator_command()"
        )
        dump = tmp_path / "out.json"
        args = [sys.executable, "-c", code, "--port", "0", "--dump", str(dump)]
        with subprocess.Popen(args, stdout=subprocess.PIPE, text=True) as process:
            url = process.stdout.readline().split()[-1]
            assert (
                get(type("E", (), {"base_url": url}), "/v2/inventory", key="demo-key").json()[
                    "total"
                ]
                == 24
            )
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        assert json.loads(dump.read_text())["products"][0] == "BOLT-10"
