"""What the daemon tells the world: JSON events matching docs/monitoring.md, and systemd notify.

One scenario runs the daemon through a day in a minute (first push, a source going away and
coming back, a held run, a drift scan, key checks, retention, a bad and a good SIGHUP, SIGTERM)
with a notify socket; the tests then read what it said.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from daemon_support import SKUS, START_BOUND, catalogue, make_world, wait_for


class NotifyListener:
    """An AF_UNIX datagram socket standing in for systemd's, recording every message."""

    def __init__(self) -> None:
        # sun_path holds 108 bytes; pytest's tmp_path can be longer than that.
        self.directory = tempfile.TemporaryDirectory(prefix="notify-", dir="/tmp")
        self.path = str(Path(self.directory.name) / "s")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()
        self.directory.cleanup()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scenario")
    world = make_world(tmp, SKUS)
    expires = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    sections = {
        "shipstation": f"api_key_expires = {expires}",
        "reconcile": "max_changed_share = 0.5",
    }
    daily = 'drift_scan = "2s"\nkey_check = "2s"\nretention = "2s"'
    world.write_config(daily, **sections)
    listener = NotifyListener()
    try:
        daemon = world.start({"NOTIFY_SOCKET": listener.path, "WATCHDOG_USEC": "2000000"})
        _walk_through(world, daemon, daily, sections)
        code = daemon.stop()
        wait_for(lambda: any(m.startswith("STOPPING=1") for m in listener.messages), 5, "STOPPING")
        yield code, daemon, list(listener.messages)
    finally:
        listener.close()
        world.close()


def _walk_through(world, daemon, daily, sections) -> None:
    world.write_feed(dict.fromkeys(SKUS, 10) | {"RED": 12})
    wait_for(lambda: world.on_hand()["RED"] == 12, START_BOUND, "the first push")
    world.feed.unlink()  # the 3PL's file disappears ...
    daemon.wait_event("source.unavailable")
    world.write_feed(dict.fromkeys(SKUS, 10) | {"RED": 12})  # ... and comes back
    daemon.wait_event("source.recovered")
    world.write_feed(dict.fromkeys(SKUS, 3))  # every SKU at once: the guard holds it
    daemon.wait_event("run.held")
    daemon.wait_event("drift.detected")
    daemon.wait_event("shipstation.key_expiring")
    daemon.wait_event("ledger.pruned")
    world.write_config(daily + '\nstuck_after = "never"', **sections)
    daemon.signal(signal.SIGHUP)
    daemon.wait_event("config.reload_failed")
    world.write_config(daily, **sections)
    daemon.signal(signal.SIGHUP)
    daemon.wait_event("config.reloaded")
    daemon.wait_event("source.stale")


class TestLogLines:
    def test_the_daemon_exits_zero_after_the_scenario(self, scenario):
        code, _, _ = scenario
        assert code == 0

    def test_every_line_the_daemon_writes_is_a_json_event(self, scenario):
        _, daemon, _ = scenario
        for line in daemon.lines():
            event = json.loads(line)
            assert isinstance(event.get("event"), str), line
            assert re.fullmatch(r"[a-z_]+(\.[a-z_]+)+", event["event"]), line

    def test_every_event_emitted_is_in_the_catalogue(self, scenario):
        _, daemon, _ = scenario
        documented = catalogue()
        missing = {e["event"] for e in daemon.events()} - documented.keys()
        assert missing == set()

    def test_every_event_carries_the_fields_the_catalogue_documents(self, scenario):
        _, daemon, _ = scenario
        documented = catalogue()
        for event in daemon.events():
            level, fields = documented[event["event"]]
            assert fields - event.keys() == set(), event
            assert event["level"] in level, event

    def test_the_health_events_of_the_scenario_were_logged(self, scenario):
        _, daemon, _ = scenario
        names = {e["event"] for e in daemon.events()}
        assert {
            "daemon.started",
            "source.unavailable",
            "source.recovered",
            "source.stale",
            "run.held",
            "run.finished",
            "drift.detected",
            "shipstation.key_expiring",
            "ledger.pruned",
            "config.reload_failed",
            "config.reloaded",
            "daemon.stopped",
        } <= names

    def test_a_source_going_down_is_logged_once_and_its_return_once(self, scenario):
        _, daemon, _ = scenario
        # The feed was missing for several pulls, one a second: still one event each way.
        assert len(daemon.named("source.unavailable")) == 1
        assert len(daemon.named("source.recovered")) == 1

    def test_the_catalogue_names_the_events_the_issue_asks_for(self):
        asked = {
            "run.finished", "source.stale", "source.unavailable", "source.recovered",
            "source.held", "drift.detected", "run.held", "adjustment.failed",
            "adjustment.needs_review", "shipstation.key_expiring", "shipstation.key_failed_over",
            "scheduler.job_missed",
        }  # fmt: skip
        assert asked <= catalogue().keys()


class TestSystemdNotify:
    def test_ready_status_watchdog_and_stopping_arrive_in_that_order(self, scenario):
        _, _, messages = scenario
        firsts = [
            next(i for i, m in enumerate(messages) if m.startswith(prefix))
            for prefix in ("READY=1", "STATUS=", "WATCHDOG=1", "STOPPING=1")
        ]
        assert firsts == sorted(firsts), messages

    def test_a_reload_is_announced_and_followed_by_ready(self, scenario):
        _, _, messages = scenario
        reloads = [i for i, m in enumerate(messages) if m.startswith("RELOADING=1")]
        assert len(reloads) == 2  # the refused reload and the taken one
        assert all(messages[i + 1 :].count("READY=1") for i in reloads)

    def test_status_carries_the_last_runs_summary(self, scenario):
        _, _, messages = scenario
        assert any(m.startswith("STATUS=main: succeeded") for m in messages), messages

    def test_no_watchdog_ping_follows_stopping(self, scenario):
        _, _, messages = scenario
        stopping = messages.index("STOPPING=1")
        assert "WATCHDOG=1" not in messages[stopping:]
