"""An API that echoes the key back: the key reaches the error, and never the logs, the output
or the ledger.

The emulator's ``echo_api_key`` fault quotes the request's API-Key header in every error
message, so the ServerError a run stops on really carries the key; only the scrubber the key is
registered with stands between it and what the command writes. Budget: about 40 s (one good
run, then six that fail through the client's read retries).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import API_KEY, World

from inventory_sync.logs import REDACTED

pytestmark = pytest.mark.slow
# What the emulator's echo becomes once scrubbed: proof that the key did reach the pipeline.
MARKER = f"(API-Key: {REDACTED})"


def ledger_bytes(world: World) -> bytes:
    """Every file of the SQLite ledger (the database, and its journal or WAL when present)."""
    state = Path(world.ledger_url.removeprefix("sqlite:///")).parent
    return b"".join(path.read_bytes() for path in sorted(state.glob("ledger.db*")))


@pytest.fixture
def echoing(world: World) -> World:
    """One good run (so `explain` has a chain), then every answer a 503 quoting the key."""
    first = world.run("reconcile")
    assert first.code == 0, first.stderr[-2000:]
    world.emulator.faults.update(error_rate=1.0, echo_api_key=True)
    return world


class TestAnEchoedKey:
    def test_the_key_is_in_the_error_only_as_the_redaction_marker(self, echoing: World):
        done = echoing.run("--log-level", "debug", "reconcile", "--json")
        assert done.code == 4, done.stderr[-2000:]
        answer = done.json()
        assert answer["status"] == "error"
        assert MARKER in answer["error"]
        assert API_KEY not in done.stdout
        assert API_KEY not in done.stderr
        failed = [e for e in done.log_events() if e["event"] in {"run.finished", "cli.failed"}]
        assert [MARKER in e["error"] for e in failed] == [True, True]

    def test_the_console_log_and_the_message_show_only_the_marker(self, echoing: World):
        done = echoing.run("--log-level", "debug", "--log-format", "console", "reconcile")
        assert done.code == 4, done.stderr[-2000:]
        assert API_KEY not in done.stderr + done.stdout
        said = [line for line in done.stderr.splitlines() if line.startswith("inventory-sync:")]
        assert len(said) == 1
        assert MARKER in said[0]
        assert MARKER in done.stderr.replace(said[0], "")  # the log lines, not only the message

    def test_the_ledger_and_what_is_read_from_it_keep_only_the_marker(self, echoing: World):
        failed = echoing.run("reconcile", "--json")
        assert failed.code == 4, failed.stderr[-2000:]
        run_id = failed.json()["run_id"]
        stored = ledger_bytes(echoing)
        assert API_KEY.encode() not in stored
        assert MARKER.encode() in stored
        for args in (("history", "--json"), ("support-bundle", run_id)):
            shown = echoing.run(*args)
            assert shown.code == 0, shown.stderr[-2000:]
            assert API_KEY not in shown.stdout + shown.stderr, args
            assert MARKER in shown.stdout, args

    def test_explain_shows_the_failed_read_back_without_the_key(self, echoing: World):
        done = echoing.run("explain", "RED", "-w", "main", "--json")
        assert done.code == 0, done.stderr[-2000:]
        (chain,) = done.json()["warehouses"]
        assert MARKER in chain["current_error"]
        assert API_KEY not in done.stdout + done.stderr
