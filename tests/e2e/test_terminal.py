"""What a person at a terminal sees while a run works: the sources and ShipStation's levels
being read, the push's bar and ShipStation's pauses.

Budget: about 20 s (runs against the emulator with 1-second 429 pauses, and level reads of
four pages at the default request budget, 200 a minute).
"""

from __future__ import annotations

import json
import re

from config_template import config_toml
from terminal import run_on_terminal, set_faults

# Every SKU moves (past the mass-change guard: the runs use --force), so the push has ten
# requests to show.
ALL_CHANGED = "sku,quantity\n" + "".join(
    f"{sku},{20 + n}\n"
    for n, sku in enumerate(
        ["RED", "BLUE", "GREEN", "BLACK", "WHITE", "PINK", "GREY", "GOLD", "TEAL", "NAVY"]
    )
)
# Seeded so that a few requests of the run meet a short burst of 429s (each asks 1 s).
BURSTS = {"burst_429_rate": 0.1, "burst_429_length": 1, "burst_retry_after": 1, "seed": 7}


class TestOnATerminal:
    def test_the_bar_and_each_pause_show_on_stderr_while_stdout_keeps_its_json(self, world):
        world.write_feed(ALL_CHANGED)
        set_faults(world, latency_ms=50, **BURSTS)
        seen = run_on_terminal(world, "reconcile", "--json", "--force")
        assert seen.code == 0, seen.terminal[-3000:]
        assert json.loads(seen.stdout)["applied"] == 10  # stdout: the one object, nothing else
        assert "pushing 10 requests" in seen.terminal
        assert "10/10" in seen.terminal
        assert "ShipStation asked us to wait 1 s" in seen.terminal

    def test_without_a_terminal_the_log_has_push_progress_and_no_bar(self, world):
        world.write_feed(ALL_CHANGED)
        set_faults(world, **BURSTS)
        result = world.run("reconcile", "--json", "--force")
        assert result.code == 0, result.stderr
        events = result.log_events()  # every stderr line is a JSON event: no bar, no prose
        assert {"done": 10, "total": 10} in [
            {"done": e["done"], "total": e["total"]}
            for e in events
            if e["event"] == "push.progress"
        ]
        assert any(e["event"] == "shipstation.rate_limited" for e in events)


def read_in_pages_of_three(world) -> None:
    """The emulator's ten levels of main, read three a page: four pages, and ShipStation's
    answers carry total 10 and pages 4."""
    text = config_toml(
        world.tmp / "state", world.emulator.base_url, world.feed, shipstation="page_size = 3"
    )
    world.config.write_text(text, encoding="utf-8")


def in_order(text: str, *patterns: str) -> bool:
    """Every pattern is found in ``text``, each after the one before."""
    at = 0
    for pattern in patterns:
        found = re.compile(pattern).search(text, at)
        if found is None:
            return False
        at = found.end()
    return True


class TestReadsOnATerminal:
    def test_each_page_of_levels_shows_with_the_levels_read_and_shipstations_totals(self, world):
        read_in_pages_of_three(world)
        seen = run_on_terminal(world, "reconcile", "--dry-run", "--json")
        assert seen.code == 0, seen.terminal[-3000:]
        json.loads(seen.stdout)  # stdout: the one object, nothing else
        page = "reading ShipStation's levels of main, page {} of 4 .* {}/10 "
        assert in_order(
            seen.terminal,
            page.format(1, 3),
            page.format(2, 6),
            page.format(3, 9),
            page.format(4, 10),
        ), seen.terminal[-3000:]

    def test_the_source_being_read_is_named_with_where_it_reads(self, world):
        seen = run_on_terminal(world, "reconcile", "--dry-run")
        assert seen.code == 0, seen.terminal[-3000:]
        assert f"reading source feed from {world.feed}" in seen.terminal
        # Finished reads leave nothing behind: stdout holds the report as it always did.
        assert "reading" not in seen.stdout
        assert "Plan (" in seen.stdout


class TestReadsOffATerminal:
    def test_the_log_has_levels_progress_for_the_first_and_the_whole_read(self, world):
        read_in_pages_of_three(world)
        result = world.run("reconcile", "--dry-run", "--json")
        assert result.code == 0, result.stderr
        json.loads(result.stdout)  # stdout: the one object
        events = result.log_events()  # every stderr line is a JSON event: no bar, no prose
        progress = [
            {k: e[k] for k in ("warehouse", "pages", "pages_total", "levels", "levels_total")}
            | {"done": e["done"]}
            for e in events
            if e["event"] == "levels.progress"
        ]
        # Pages 2 and 3 are not logged: a line per page of 2000 would drown the log.
        assert progress == [
            {
                "warehouse": "main",
                "pages": 1,
                "pages_total": 4,
                "levels": 3,
                "levels_total": 10,
                "done": False,
            },
            {
                "warehouse": "main",
                "pages": 4,
                "pages_total": 4,
                "levels": 10,
                "levels_total": 10,
                "done": True,
            },
        ]
