"""Small edges an operator meets: whole run ids, one copy of an error, the adjust reasons,
a feed in the wrong encoding named as such.

Budget: about 8 s (a handful of short runs against the emulator).
"""

from __future__ import annotations

import re
from pathlib import Path

from e2e_support import FEED

from inventory_sync.steps.manual import REASONS

README = Path(__file__).parents[2] / "README.md"


class TestRunIds:
    def test_history_at_80_columns_shows_every_run_id_whole_and_each_one_works(self, world):
        world.run("reconcile")
        world.write_feed(FEED + "PURPLE,3\n")  # a failed adjustment: a second run, with a note
        world.run("reconcile")
        ids = [r["run_id"] for r in world.run("history", "--json").json()["runs"]]
        assert len(ids) == 2
        table = world.run("history", env={"COLUMNS": "80"}).stdout
        assert [run_id for run_id in ids if run_id not in table] == [], table
        assert world.run("status", env={"COLUMNS": "80"}).stdout.count(ids[0]) == 1
        by_sku = world.run("history", "--sku", "PURPLE", env={"COLUMNS": "80"}).stdout
        assert ids[0] in by_sku
        assert "has no product record" in by_sku  # the error, whole, below the table
        copied = world.run("history", "--run", ids[0], "--json").json()["adjustments"]
        assert [a["sku"] for a in copied] == ["PURPLE"]


class TestReadme:
    def test_readme_lists_every_reason_adjust_accepts(self):
        text = README.read_text(encoding="utf-8")
        (row,) = [line for line in text.splitlines() if "inventory-sync adjust SKU" in line]
        assert [r for r in REASONS if f"`{r}`" not in row] == []


class TestErrorsPrintedOnce:
    def test_a_configuration_error_without_a_terminal_is_one_json_line(self, world):
        text = world.config.read_text().replace('name = "main"', 'name = "main"\ncolour = "red"')
        world.config.write_text(text)
        result = world.run("reconcile")
        assert result.code == 2
        (failed,) = result.log_events()  # one line, and JSON: no text copy beside it
        assert failed["event"] == "cli.failed"
        assert any(p.startswith("warehouses[0].colour") for p in failed["problems"])

    def test_with_console_logs_the_same_error_is_one_text_message(self, world):
        text = world.config.read_text().replace('name = "main"', 'name = "main"\ncolour = "red"')
        world.config.write_text(text)
        result = world.run("--log-format", "console", "reconcile")
        assert result.code == 2
        assert result.stderr.count("warehouses[0].colour") == 1, result.stderr
        assert result.stderr.startswith("inventory-sync: invalid configuration")
        assert "cli.failed" not in result.stderr


class TestFeedInTheWrongEncoding:
    def test_is_a_format_error_naming_the_file_not_an_unavailable_source(self, world):
        world.feed.write_bytes(b"sku,quantity\nRED,12\nCAF\xe9,3\n")  # latin-1, read as utf-8
        result = world.run("reconcile", "--json")
        events = result.log_events()
        (error,) = [e for e in events if e["event"] == "source.format_error"]
        assert error["source"] == "feed"
        assert re.search(r"not valid utf-8", error["error"])
        assert str(world.feed) in error["error"]
        assert not [e for e in events if e["event"] == "source.unavailable"]
        (hold,) = result.json()["holds"]
        assert (hold["subject"], hold["reason"].split(":")[0]) == ("source:feed", "format error")
        assert world.on_hand()["RED"] == 10  # nothing of a held feed is used
