"""What a person at a terminal sees while a run works: the push's bar and ShipStation's pauses.

Budget: about 10 s (two runs against the emulator with 1-second 429 pauses).
"""

from __future__ import annotations

import json

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
