"""`inventory-sync reconcile` as users run it: a CSV feed into the emulator over loopback HTTP."""

from __future__ import annotations

import json
import socket

import pytest
import xlsxwriter
from e2e_support import API_KEY, FEED, make_world

from inventory_sync.domain.model import AdjustmentStatus, RunId, Warehouse
from inventory_sync.ledger.repository import open_ledger


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TestFirstAndSecondRun:
    def test_a_run_pushes_the_feed_and_the_next_finds_nothing_to_do(self, world):
        first = world.run("reconcile", "--json")
        assert first.code == 0, first.stderr
        summary = first.json()
        assert summary["status"] == "succeeded"
        assert (summary["planned"], summary["applied"], summary["failed"]) == (2, 2, 0)
        assert summary["unchanged"] == 8
        changed = {a["sku"]: a for a in summary["adjustments"]}
        red = {
            k: v
            for k, v in changed["RED"].items()
            if k not in {"adjustment_id", "request_id", "sku"}
        }
        assert red | {"error": None, "rule": None} == {
            "error": None,
            "rule": None,
            "warehouse": "main",
            "inventory_location_id": "se-11",
            "transaction_type": "adjust",
            "quantity": 12,
            "before": 10,
            "after": 12,
            "status": "applied",
        }
        assert world.on_hand()["RED"] == 12
        assert world.on_hand()["GREEN"] == 7

        second = world.run("reconcile", "--json")
        assert second.code == 0, second.stderr
        assert (second.json()["planned"], second.json()["unchanged"]) == (0, 10)

    def test_the_ledger_on_disk_explains_each_change(self, world, tmp_path):
        summary = world.run("reconcile", "--json").json()
        ledger = open_ledger(world.ledger_url, migrate=False)
        try:
            journal = ledger.journal(run_id=RunId(summary["run_id"]))
            assert {e.adjustment.sku: e.status for e in journal} == {
                "RED": AdjustmentStatus.APPLIED,
                "GREEN": AdjustmentStatus.APPLIED,
            }
            red = next(e for e in journal if e.adjustment.sku == "RED")
            assert red.adjustment.adjustment_id in (red.request or "")  # the id travels in notes
            assert red.sent_at is not None
            assert red.settled_at is not None
            assert ledger.agreed_levels(Warehouse("main"))["RED"] == 12
            run = ledger.get_run(RunId(summary["run_id"]))
            assert run is not None
            assert run.status.value == "succeeded"
        finally:
            ledger.close()
        assert (tmp_path / "state" / "ledger.db").is_file()

    def test_the_emulator_saw_each_notes_id_applied_once(self, world):
        summary = world.run("reconcile", "--json").json()
        applied = [e for e in world.emulator.applied() if e.method == "POST"]
        ids = {a["adjustment_id"] for a in summary["adjustments"]}
        noted = {e.body["notes"].split()[-1]: e.count for e in applied}
        assert noted == dict.fromkeys(ids, 1)

    def test_a_dry_run_shows_the_plan_and_changes_nothing(self, world):
        result = world.run("reconcile", "--dry-run", "--json")
        assert result.code == 0, result.stderr
        assert result.json()["planned"] == 2
        assert {a["status"] for a in result.json()["adjustments"]} == {"planned"}
        assert world.on_hand()["RED"] == 10

    def test_people_get_a_table_of_what_changed(self, world):
        result = world.run("reconcile")
        assert result.code == 0, result.stderr
        assert "RED" in result.stdout
        assert "applied" in result.stdout
        assert "unchanged 8" in result.stdout

    def test_a_bad_row_is_quarantined_and_the_good_rows_still_arrive(self, world):
        world.write_feed(FEED.replace("RED,12", "RED,twelve"))
        summary = world.run("reconcile", "--json").json()
        assert summary["applied"] == 1  # GREEN still moved
        (rejected,) = summary["rejected"]
        assert rejected["line"] == 2
        assert rejected["field"] == "quantity"
        assert rejected["value"] == "twelve"
        assert world.on_hand()["RED"] == 10  # unknown is not zero

    def test_a_rejected_row_names_its_sku_in_the_json_the_event_and_the_table(self, world):
        world.write_feed(FEED.replace("RED,12", "RED,12.5"))
        result = world.run("reconcile", "--json")
        (rejected,) = result.json()["rejected"]
        assert (rejected["sku"], rejected["warehouse"]) == ("RED", "main")
        (event,) = [e for e in result.log_events() if e["event"] == "source.row_rejected"]
        assert (event["sku"], event["warehouse"], event["line"]) == ("RED", "main", 2)
        table = " ".join(world.run("reconcile").stdout.split())  # rich wraps long lines
        assert "feed.csv:2 SKU RED field 'quantity' value '12.5': quantity must" in table

    def test_the_ledger_keeps_a_rejected_rows_sku_and_warehouse_for_explain(self, world):
        assert_rejected_row_kept_and_explained(world)

    def test_an_xlsx_feed_is_reconciled_and_its_bad_row_named_by_sheet_row_and_sku(self, world):
        workbook = world.tmp / "feed.xlsx"
        book = xlsxwriter.Workbook(str(workbook))
        sheet = book.add_worksheet("Stock")
        for r, line in enumerate(FEED.replace("RED,12", "RED,12.5").splitlines()):
            sku, quantity = line.split(",")
            sheet.write_row(r, 0, [sku, quantity if r == 0 else float(quantity)])
        book.close()
        config = world.config.read_text().replace('type = "csv"', 'type = "xlsx"')
        world.config.write_text(config.replace(str(world.feed), str(workbook)))
        summary = world.run("reconcile", "--json").json()
        assert summary["applied"] == 1  # GREEN moved
        (rejected,) = summary["rejected"]
        assert rejected["origin"] == f"{workbook}[Stock]"
        assert (rejected["line"], rejected["sku"], rejected["value"]) == (2, "RED", "12.5")
        assert world.on_hand()["RED"] == 10


@pytest.mark.postgres
class TestOnPostgres:
    def test_the_same_reconcile_with_the_ledger_on_postgresql(self, tmp_path, scratch_postgres_url):
        world = make_world(tmp_path, scratch_postgres_url)
        try:
            first = world.run("reconcile", "--json")
            assert first.code == 0, first.stderr
            assert first.json()["applied"] == 2
            assert world.on_hand()["RED"] == 12
            second = world.run("reconcile", "--json")
            assert second.json()["planned"] == 0
        finally:
            world.emulator.stop()

    def test_a_rejected_rows_sku_and_warehouse_are_kept_on_postgresql(
        self, tmp_path, scratch_postgres_url
    ):
        world = make_world(tmp_path, scratch_postgres_url)
        try:
            assert_rejected_row_kept_and_explained(world)
        finally:
            world.emulator.stop()


def assert_rejected_row_kept_and_explained(world) -> None:
    """A bad row's SKU and warehouse are in the ledger, and `explain SKU` lists the row."""
    world.write_feed(FEED.replace("RED,12", "RED,12.5"))
    run_id = world.run("reconcile", "--json").json()["run_id"]
    with open_ledger(world.ledger_url, migrate=False) as ledger:
        (kept,) = ledger.rejected_for_run(RunId(run_id))
    assert (kept.sku, kept.warehouse, kept.line, kept.value) == ("RED", "main", 2, "12.5")
    chain = world.run("explain", "RED", "--offline", "--json").json()["warehouses"][0]
    (shown,) = chain["rejected"]
    assert (shown["sku"], shown["warehouse"], shown["run_id"]) == ("RED", "main", run_id)
    assert (
        world.run("explain", "BLUE", "--offline", "--json").json()["warehouses"][0]["rejected"]
        == []
    )
    text = " ".join(world.run("explain", "RED", "--offline").stdout.split())
    assert f"feed: rejected in {world.feed}:2 field 'quantity' value '12.5'" in text


class TestExitCodes:
    def test_failed_adjustments_exit_1_and_the_others_are_applied(self, world):
        world.write_feed(FEED + "PURPLE,3\n")  # ShipStation has no such product
        result = world.run("reconcile", "--json")
        assert result.code == 1
        summary = result.json()
        assert (summary["status"], summary["applied"], summary["failed"]) == ("partial", 2, 1)
        failed = next(a for a in summary["adjustments"] if a["status"] == "failed")
        assert failed["sku"] == "PURPLE"
        assert "400" in failed["error"] or "Rejected" in failed["error"]

    def test_a_configuration_error_exits_2_naming_the_key(self, world):
        text = world.config.read_text().replace('name = "main"', 'name = "main"\ncolour = "red"')
        world.config.write_text(text)
        result = world.run("reconcile")
        assert result.code == 2
        assert "warehouses[0].colour" in result.stderr
        events = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
        (failed,) = [e for e in events if e["event"] == "cli.failed"]  # the service's log says why
        assert any(p.startswith("warehouses[0].colour") for p in failed["problems"])

    def test_a_configuration_error_with_json_still_prints_one_object(self, world):
        world.config.write_text("[shipstation\n")
        result = world.run("reconcile", "--json")
        assert result.code == 2
        assert result.json()["status"] == "error"

    def test_an_unknown_warehouse_on_the_command_line_exits_2(self, world):
        result = world.run("reconcile", "--warehouse", "nowhere")
        assert result.code == 2
        assert "nowhere" in result.stderr

    def test_a_guard_holds_a_run_that_would_change_too_much_exit_3(self, world):
        world.write_feed(
            "sku,quantity\n"
            + "".join(f"{s},11\n" for s in ["RED", "BLUE", "GREEN", "BLACK", "WHITE", "PINK"])
            + "GREY,10\nGOLD,10\nTEAL,10\nNAVY,10\n"
        )
        held = world.run("reconcile", "--json")
        assert held.code == 3
        assert held.json()["status"] == "held"
        assert held.json()["held"] == 6
        assert world.on_hand()["RED"] == 10  # nothing pushed
        assert any(e["event"] == "run.held" for e in held.log_events())
        forced = world.run("reconcile", "--json", "--force")
        assert forced.code == 0
        assert world.on_hand()["RED"] == 11

    def test_shipstation_unreachable_exits_4(self, world):
        result = world.run(
            "reconcile",
            env={"INVENTORY_SYNC_SHIPSTATION__BASE_URL": f"http://127.0.0.1:{closed_port()}"},
        )
        assert result.code == 4

    def test_a_refused_key_exits_4(self, world):
        result = world.run(
            "reconcile", env={"INVENTORY_SYNC_SHIPSTATION__API_KEY": "wrong-key-123"}
        )
        assert result.code == 4
        assert "401" in result.stderr or "refused" in result.stderr.lower()

    def test_a_plan_without_the_inventory_add_on_exits_4_and_says_so(self, tmp_path):
        world = make_world(
            tmp_path,
            f"sqlite:///{tmp_path / 'ledger.db'}",
            plan_refused_keys=("no-addon-key-123",),
        )
        try:
            result = world.run(
                "reconcile", env={"INVENTORY_SYNC_SHIPSTATION__API_KEY": "no-addon-key-123"}
            )
        finally:
            world.emulator.stop()
        assert result.code == 4
        assert "add-on" in result.stderr.lower() or "plan" in result.stderr.lower()


class TestTheKeyNeverLeaks:
    def test_no_output_log_line_or_ledger_byte_contains_the_key(self, world, tmp_path):
        world.write_feed(FEED + "PURPLE,3\n")  # a failure, so a support record is stored
        runs = [
            world.run("--log-level", "debug", "reconcile", "--json"),
            world.run("--log-level", "debug", "reconcile"),
            world.run("--log-level", "debug", "reconcile", "--dry-run"),
        ]
        assert [r.code for r in runs] == [1, 1, 0]
        for result in runs:
            assert API_KEY not in result.stdout
            assert API_KEY not in result.stderr
            assert result.stderr.strip()  # there were log lines to search
        state = tmp_path / "state"
        files = [p for p in state.rglob("*") if p.is_file()]
        assert any(p.name.startswith("ledger.db") for p in files)
        for path in files:
            assert API_KEY.encode() not in path.read_bytes(), path

    def test_a_refused_key_is_not_echoed(self, world):
        wrong = "refused-key-6e1d0c9b"
        result = world.run(
            "--log-level", "debug", "reconcile", env={"INVENTORY_SYNC_SHIPSTATION__API_KEY": wrong}
        )
        assert result.code == 4
        assert wrong not in result.stdout + result.stderr
