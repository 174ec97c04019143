"""The systemd notify protocol, checked against real AF_UNIX datagram sockets."""

from __future__ import annotations

import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from inventory_sync.notify import Notifier

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="abstract AF_UNIX sockets exist only on Linux"
)


def _receiver(address: str | bytes) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5)  # a missing datagram fails the test instead of hanging it
    return sock


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[str, socket.socket]]:
    """A datagram socket bound to a file, as systemd's /run/systemd/notify is."""
    path = tmp_path / "notify"
    if len(os.fsencode(path)) >= 108:  # sun_path's size on Linux
        pytest.skip(f"tmp_path is too long for an AF_UNIX socket path: {path}")
    with _receiver(str(path)) as sock:
        yield str(path), sock


@pytest.fixture
def abstract_socket() -> Iterator[tuple[str, socket.socket]]:
    """A datagram socket in the abstract namespace, named in $NOTIFY_SOCKET as @name."""
    name = f"inventory-sync-test-{uuid.uuid4().hex}"
    with _receiver(b"\0" + name.encode()) as sock:
        yield f"@{name}", sock


def _received(sock: socket.socket, count: int) -> list[bytes]:
    return [sock.recv(4096) for _ in range(count)]


def _lifecycle(notifier: Notifier) -> None:
    notifier.ready()
    notifier.status("Synced 3 sources")
    notifier.watchdog()
    notifier.stopping()


LIFECYCLE = [b"READY=1", b"STATUS=Synced 3 sources", b"WATCHDOG=1", b"STOPPING=1"]


class TestSending:
    def test_a_socket_file_receives_each_notification_in_order(self, path_socket):
        address, sock = path_socket
        _lifecycle(Notifier.from_environment({"NOTIFY_SOCKET": address}))
        assert _received(sock, 4) == LIFECYCLE

    @linux_only
    def test_an_abstract_socket_named_with_at_receives_them_too(self, abstract_socket):
        address, sock = abstract_socket
        _lifecycle(Notifier.from_environment({"NOTIFY_SOCKET": address}))
        assert _received(sock, 4) == LIFECYCLE

    def test_the_process_environment_is_read_when_none_is_given(self, path_socket, monkeypatch):
        address, sock = path_socket
        monkeypatch.setenv("NOTIFY_SOCKET", address)
        Notifier.from_environment().ready()
        assert _received(sock, 1) == [b"READY=1"]

    def test_a_status_is_flattened_to_one_line(self, path_socket):
        address, sock = path_socket
        Notifier(address).status("held:\n  east\tgate min_row_fraction")
        assert _received(sock, 1) == [b"STATUS=held: east gate min_row_fraction"]

    def test_reloading_carries_the_monotonic_time_systemd_253_expects(self, path_socket):
        address, sock = path_socket
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        Notifier(address).reloading()
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        first, second = sock.recv(4096).decode().split("\n")
        assert first == "RELOADING=1"
        key, _, usec = second.partition("=")
        assert key == "MONOTONIC_USEC"
        assert before <= int(usec) <= after


class TestWithoutSystemd:
    def test_every_call_is_a_quiet_no_op_without_notify_socket(self):
        notifier = Notifier.from_environment({})
        with capture_logs() as events:
            _lifecycle(notifier)
            notifier.reloading()
        assert not notifier.enabled
        assert events == []

    def test_an_empty_notify_socket_counts_as_unset(self):
        assert not Notifier.from_environment({"NOTIFY_SOCKET": ""}).enabled


class TestFailures:
    def test_a_dead_socket_is_logged_once_and_never_raises(self, tmp_path):
        notifier = Notifier(str(tmp_path / "nobody-listens"))
        with capture_logs() as events:
            _lifecycle(notifier)
        assert [(e["event"], e["log_level"]) for e in events] == [
            ("systemd.notify_failed", "warning")
        ]
        assert events[0]["notification"] == "READY"

    def test_an_address_of_another_kind_is_logged_not_raised(self):
        with capture_logs() as events:
            Notifier("vsock:2:1234").ready()
        assert [e["event"] for e in events] == ["systemd.notify_failed"]
        assert "unsupported" in events[0]["error"]


class TestWatchdogInterval:
    @pytest.mark.parametrize(
        ("environ", "expected"),
        [
            ({"WATCHDOG_USEC": "60000000"}, 30.0),
            ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid())}, 30.0),
            ({"WATCHDOG_USEC": "1500000"}, 0.75),
            ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": str(os.getpid() + 1)}, None),
            ({"WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "not-a-pid"}, None),
            ({"WATCHDOG_USEC": "0"}, None),
            ({"WATCHDOG_USEC": "sixty"}, None),
            ({}, None),
        ],
        ids=[
            "half-of-watchdog-usec",
            "pid-is-ours",
            "fractional-seconds",
            "pid-is-another-process",
            "pid-unreadable",
            "zero-means-off",
            "usec-unreadable",
            "not-watched",
        ],
    )
    def test_is_half_of_watchdog_usec_when_the_watchdog_is_ours(self, environ, expected):
        assert Notifier.from_environment(environ).watchdog_interval() == expected
