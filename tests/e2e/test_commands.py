"""The audit and mapping commands as users run them: warehouses, history, explain, support."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from e2e_support import API_KEY, FEED

from inventory_sync.domain.model import Rejected, RunId, RunRecord, Sku, SourceName, Warehouse
from inventory_sync.ledger.repository import open_ledger
from inventory_sync.shipstation.models import InventoryUpdate


class TestWarehouses:
    def test_a_sound_mapping_is_listed_and_exits_0(self, world):
        result = world.run("warehouses", "--json")
        assert result.code == 0, result.stderr
        report = result.json()
        assert report["ok"] is True
        assert report["mapping"]["main"] == {
            "inventory_warehouse_id": "se-1",
            "inventory_location_id": "se-11",
        }

    def test_an_unknown_location_is_named_and_exits_4(self, world):
        world.config.write_text(world.config.read_text().replace('"se-11"', '"se-99"'))
        result = world.run("warehouses", "--json")
        assert result.code == 4
        codes = [f["code"] for f in result.json()["findings"]]
        assert codes
        assert "se-99" in result.stderr

    def test_reconcile_refuses_to_push_to_a_wrong_place(self, world):
        world.config.write_text(world.config.read_text().replace('"se-11"', '"se-99"'))
        result = world.run("reconcile")
        assert result.code == 4
        assert "se-99" in result.stderr
        assert world.on_hand()["RED"] == 10

    def test_create_makes_a_warehouse_named_in_the_config_and_prints_its_ids(self, world):
        text = (
            world.config.read_text()
            + '\n[[warehouses]]\nname = "north"\nshipstation_name = "North"\n'
        )
        world.config.write_text(text)
        assert world.run("warehouses").code == 4
        result = world.run("warehouses", "--create", "--json")
        assert result.code == 0, result.stderr
        created = result.json()["created"]
        assert created[0]["name"] == "North"
        north = result.json()["mapping"]["north"]
        assert north["inventory_location_id"]
        assert world.run("warehouses").code == 0

    def test_a_warehouse_given_by_name_alone_is_resolved_for_reconcile(self, world):
        text = world.config.read_text().replace(
            'inventory_warehouse_id = "se-1"\ninventory_location_id = "se-11"',
            'shipstation_name = "Main"',
        )
        world.config.write_text(text)
        result = world.run("reconcile", "--json")
        assert result.code == 0, result.stderr
        assert result.json()["adjustments"][0]["inventory_location_id"] == "se-11"


class TestAuditTrail:
    def test_history_lists_runs_and_a_runs_adjustments(self, world):
        run_id = world.run("reconcile", "--json").json()["run_id"]
        runs = world.run("history", "--json").json()["runs"]
        assert runs[0]["run_id"] == run_id
        assert runs[0]["status"] == "succeeded"
        adjustments = world.run("history", "--run", run_id, "--json").json()["adjustments"]
        assert {a["sku"] for a in adjustments} == {"RED", "GREEN"}
        assert world.run("history").code == 0

    def test_history_of_one_run_lists_the_rows_its_sources_rejected(self, world):
        world.write_feed(FEED + "BAD-1,12.5\nBAD-2,x\n")
        run_id = world.run("reconcile", "--json").json()["run_id"]
        found = world.run("history", "--run", run_id, "--json").json()
        assert [(r["sku"], r["field"], r["value"]) for r in found["rejected"]] == [
            ("BAD-1", "quantity", "12.5"),
            ("BAD-2", "quantity", "x"),
        ]
        assert found["rejected_total"] == 2
        assert (
            world.run("history", "--run", run_id, "--sku", "BAD-2", "--json").json()[
                "rejected_total"
            ]
            == 1
        )
        text = " ".join(world.run("history", "--run", run_id, "--limit", "1").stdout.split())
        assert "Rows the sources rejected: 2" in text
        assert "SKU BAD-1 field 'quantity' value '12.5'" in text
        assert "and 1 more (--limit)" in text

    def test_explain_shows_the_chain_behind_one_number(self, world):
        world.run("reconcile")
        chain = world.run("explain", "RED", "--json").json()["warehouses"][0]
        assert chain["observations"][0]["source"] == "feed"
        assert chain["observations"][0]["quantity"] == 12
        (adjustment,) = chain["adjustments"]
        assert (adjustment["rule"], adjustment["status"], adjustment["before"]) == (
            "mirror",
            "applied",
            10,
        )
        assert adjustment["adjustment_id"] in adjustment["request"]
        assert chain["agreed"] == 12
        assert chain["current"] == 12
        text = world.run("explain", "RED")
        assert text.code == 0
        assert "mirror" in text.stdout
        assert "ShipStation now: 12" in text.stdout

    def test_explain_offline_says_shipstation_was_not_asked_rather_than_no_row(self, world):
        world.run("reconcile")
        offline = world.run("explain", "RED", "--offline")
        assert "ShipStation now: not asked (--offline)" in offline.stdout
        assert "no row" not in offline.stdout
        (chain,) = world.run("explain", "RED", "--offline", "--json").json()["warehouses"]
        assert (chain["current"], chain["current_asked"]) == (None, False)

    def test_explain_lists_a_row_of_no_known_warehouse_where_its_source_feeds(self, world):
        spare = world.tmp / "spare.csv"
        spare.write_text("sku,quantity\nRED,1\n")
        world.config.write_text(
            world.config.read_text()
            + '\n[[warehouses]]\nname = "spare"\ninventory_warehouse_id = "se-2"\n'
            'inventory_location_id = "se-21"\n'
            f'\n[[sources]]\nname = "other"\ntype = "csv"\nwarehouses = ["spare"]\n'
            f'[sources.options]\npath = "{spare}"\n'
        )
        with open_ledger(world.ledger_url) as ledger:
            ledger.begin_run(RunRecord(RunId("r1"), datetime.now(UTC), "cli"))
            rows = [  # a malformed row of each source (no warehouse), and one row in main
                red_rejected("feed", "feed.csv:3", "RED,1,2"),
                red_rejected("other", "spare.csv:4", "RED,,"),
                red_rejected("other", "spare.csv:5", "x", Warehouse("main")),
            ]
            ledger.record_rejected(RunId("r1"), rows, at=datetime.now(UTC))
        chains = world.run("explain", "RED", "--offline", "--json").json()["warehouses"]
        shown = {c["warehouse"]: [(r["origin"], r["line"]) for r in c["rejected"]] for c in chains}
        assert shown == {
            "main": [("spare.csv", 5), ("feed.csv", 3)],
            "spare": [("spare.csv", 4)],
        }
        text = " ".join(world.run("explain", "RED", "-w", "spare", "--offline").stdout.split())
        assert "other: rejected in spare.csv:4 value 'RED,,' (its warehouse was not known)" in text

    def test_support_bundle_prints_what_shipstation_support_asks_for(self, world):
        world.write_feed(FEED + "PURPLE,3\n")
        run_id = world.run("reconcile", "--json").json()["run_id"]
        bundle = world.run("support-bundle", run_id)
        assert bundle.code == 0, bundle.stderr
        text = bundle.stdout
        assert "shippingapisupport@shipstation.com" in text
        assert "updateSKUStockLevels" in text
        assert "POST" in text
        assert "/v2/inventory" in text
        assert '"PURPLE"' in text
        assert "400" in text
        assert "Request ID:" in text
        assert API_KEY not in text

    def test_support_bundle_for_an_unknown_run_exits_2(self, world):
        assert world.run("support-bundle", "run-nope").code == 2


def red_rejected(source: str, where: str, value: str, warehouse=None) -> Rejected:
    origin, line = where.split(":")
    return Rejected(SourceName(source), origin, int(line), None, value, "bad row", Sku("RED"),
                    warehouse)  # fmt: skip


class TestManualAdjustments:
    def test_an_operators_change_is_pushed_and_journaled(self, world):
        result = world.run(
            "adjust", "BLUE", "-w", "main", "--remove", "2", "--reason", "damage",
            "--note", "forklift", "--json",
        )  # fmt: skip
        assert result.code == 0, result.stderr
        (change,) = result.json()["adjustments"]
        assert (change["transaction_type"], change["before"], change["after"]) == (
            "decrement",
            10,
            8,
        )
        assert change["rule"] == "manual:damage"
        assert world.on_hand()["BLUE"] == 8
        chain = world.run("explain", "BLUE", "--json").json()["warehouses"][0]
        (entry,) = chain["adjustments"]
        assert entry["basis"]["note"] == "forklift"
        assert "forklift" in entry["request"]

    def test_set_and_add_work_and_exactly_one_is_required(self, world):
        assert (
            world.run("adjust", "BLUE", "-w", "main", "--set", "30", "--reason", "count").code == 0
        )
        assert (
            world.run("adjust", "BLUE", "-w", "main", "--add", "5", "--reason", "return").code == 0
        )
        assert world.on_hand()["BLUE"] == 35
        both = world.run(
            "adjust", "BLUE", "-w", "main", "--add", "1", "--set", "1", "--reason", "count"
        )
        assert both.code == 2

    def test_a_change_to_a_warehouse_another_process_is_pushing_to_exits_5(self, world):
        ledger = open_ledger(world.ledger_url)
        try:
            now = datetime.now(UTC)
            assert ledger.acquire_lock("push:main", "other-host:1:run-x", timedelta(hours=1), now)
            result = world.run("adjust", "BLUE", "-w", "main", "--set", "3", "--reason", "count")
            (run,) = ledger.list_runs()
        finally:
            ledger.close()
        assert result.code == 5, result.stderr
        assert "being pushed to by other-host:1:run-x" in result.stderr
        assert (run.trigger, run.status.value) == ("manual:count", "failed")
        assert world.on_hand()["BLUE"] == 10

    def test_a_sale_since_the_last_run_is_recorded_as_a_movement_not_lost(self, world):
        assert world.run("reconcile").code == 0  # BLUE seen at 10
        world.emulator.state.apply_update(InventoryUpdate("decrement", "BLUE", 3, "se-11"))
        result = world.run("adjust", "BLUE", "-w", "main", "--add", "5", "--reason", "return")
        assert result.code == 0, result.stderr
        assert world.run("reconcile").code == 0
        chain = world.run("explain", "BLUE", "--json").json()["warehouses"][0]
        assert [(m["before"], m["after"]) for m in chain["movements"]] == [(10, 7)]

    def test_removing_more_than_shipstation_holds_is_refused_before_sending(self, world):
        result = world.run("adjust", "BLUE", "-w", "main", "--remove", "11", "--reason", "sale")
        assert result.code == 2
        assert "holds 10" in result.stderr
        assert world.on_hand()["BLUE"] == 10
