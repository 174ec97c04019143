"""`reconcile --plan-out` writes a plan for review; `--apply` applies exactly that plan."""

from __future__ import annotations

import json

from inventory_sync.shipstation.models import InventoryUpdate


class TestPlanOutAndApply:
    def test_a_reviewed_plan_is_applied_exactly_once(self, world, tmp_path):
        plan = tmp_path / "plan.json"
        written = world.run("reconcile", "--plan-out", str(plan), "--json")
        assert written.code == 0, written.stderr
        document = json.loads(plan.read_text())
        assert {a["sku"] for a in document["adjustments"]} == {"RED", "GREEN"}
        assert world.on_hand()["RED"] == 10  # writing a plan sends nothing

        applied = world.run("reconcile", "--apply", str(plan), "--json")
        assert applied.code == 0, applied.stderr
        assert applied.json()["applied"] == 2
        assert world.on_hand()["RED"] == 12
        ids = {a["adjustment_id"] for a in document["adjustments"]}
        assert {a["adjustment_id"] for a in applied.json()["adjustments"]} == ids

        again = world.run("reconcile", "--apply", str(plan), "--json")
        assert again.code == 0, again.stderr
        assert again.json()["planned"] == 0
        posts = [e for e in world.emulator.applied() if e.method == "POST"]
        assert all(e.count == 1 for e in posts)

    def test_a_plan_with_nothing_to_do_applies_as_nothing_to_do(self, world, tmp_path):
        world.write_feed("sku,quantity\n" + "".join(f"{s},10\n" for s in world.on_hand()))
        plan = tmp_path / "plan.json"
        assert world.run("reconcile", "--plan-out", str(plan)).code == 0
        assert json.loads(plan.read_text())["adjustments"] == []
        applied = world.run("reconcile", "--apply", str(plan), "--json")
        assert applied.code == 0, applied.stderr[-2000:]
        assert (applied.json()["planned"], applied.json()["accounts"]) == (0, [])

    def test_a_row_that_moved_since_the_plan_was_made_is_skipped_on_record(self, world, tmp_path):
        plan = tmp_path / "plan.json"
        world.run("reconcile", "--plan-out", str(plan))
        world.emulator.state.apply_update(InventoryUpdate("decrement", "RED", 3, "se-11"))  # a sale
        result = world.run("reconcile", "--apply", str(plan), "--json")
        statuses = {a["sku"]: (a["status"], a["error"]) for a in result.json()["adjustments"]}
        assert statuses["GREEN"] == ("applied", None)
        status, reason = statuses["RED"]
        assert status == "skipped"
        assert "moved from 10 to 7" in reason
        assert world.on_hand()["RED"] == 7

    def test_a_sale_before_the_plan_is_applied_is_recorded_as_a_movement_not_lost(
        self, world, tmp_path
    ):
        assert world.run("reconcile").code == 0  # RED seen at 12
        world.emulator.state.apply_update(InventoryUpdate("decrement", "RED", 2, "se-11"))
        plan = tmp_path / "plan.json"
        assert world.run("reconcile", "--plan-out", str(plan)).code == 0  # RED 10 -> 12
        assert world.run("reconcile", "--apply", str(plan)).code == 0
        assert world.on_hand()["RED"] == 12
        chain = world.run("explain", "RED", "--json").json()["warehouses"][0]
        assert [(m["before"], m["after"]) for m in chain["movements"]] == [(12, 10)]

    def test_a_plan_the_guards_would_hold_can_be_approved_and_applied(self, world, tmp_path):
        world.write_feed("sku,quantity\n" + "".join(f"{s},11\n" for s in _skus()))
        plan = tmp_path / "plan.json"
        held = world.run("reconcile", "--plan-out", str(plan), "--json")
        assert held.code == 3
        assert len(json.loads(plan.read_text())["adjustments"]) == 10
        applied = world.run("reconcile", "--apply", str(plan))
        assert applied.code == 0, applied.stderr
        assert set(world.on_hand().values()) == {11}

    def test_a_file_that_is_not_a_plan_exits_2_and_says_why(self, world, tmp_path):
        bogus = tmp_path / "plan.json"
        bogus.write_text('{"adjustments": []}')
        result = world.run("reconcile", "--apply", str(bogus))
        assert result.code == 2
        assert "not a plan" in result.stderr


def _skus() -> list[str]:
    return ["RED", "BLUE", "GREEN", "BLACK", "WHITE", "PINK", "GREY", "GOLD", "TEAL", "NAVY"]
