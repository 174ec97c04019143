"""A one-shot run whose source a sanity gate held exits 3 and says which source and why.

Budget: about 15 s (one scenario of six short commands against the emulator).
"""

from __future__ import annotations

from e2e_support import FEED

SHRUNK = "sku,quantity\nRED,12\nBLUE,10\n"  # 2 of the 10 rows the last good feed had


class TestAHeldSource:
    def test_exits_3_names_the_source_and_the_gate_and_is_recorded_held(self, world):
        assert world.run("reconcile").code == 0  # the last good feed: 10 rows
        world.write_feed(SHRUNK)

        result = world.run("reconcile", "--json")
        assert result.code == 3, result.stderr
        summary = result.json()
        assert summary["status"] == "held"
        (hold,) = summary["holds"]
        assert hold["subject"] == "source:feed"
        assert "only 2 rows" in hold["reason"]
        assert world.on_hand()["BLUE"] == 10  # nothing of the held feed was used

        console = world.run("reconcile")
        assert console.code == 3
        assert "held source feed: only 2 rows" in " ".join(console.stdout.split())
        assert "Nothing to change" not in console.stdout  # not compared, so not "matching"

        runs = world.run("history", "--json").json()["runs"]
        assert [r["status"] for r in runs if r["run_id"] == summary["run_id"]] == ["held"]
        status = world.run("status", "--json")
        assert status.code == 1
        assert any("held" in p for p in status.json()["problems"])

        world.write_feed(FEED)
        assert world.run("reconcile").code == 0  # the next good feed reconciles again
