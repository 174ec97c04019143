"""The systemd notify protocol (sd_notify) spoken over $NOTIFY_SOCKET with the standard library."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Mapping

import structlog

log = structlog.get_logger(__name__)

# A notification is a datagram of one or more KEY=VALUE lines; systemd caps it well above this,
# and a status line longer than this is a bug, not something worth sending.
_MAX_STATUS_CHARS = 1024
# Sends are local and normally instant; the bound only matters if systemd has stopped reading
# (its queue is full). Then a ping must not hang the caller forever.
_SEND_TIMEOUT_SECONDS = 2.0


class Notifier:
    """Tells systemd about this process: ready, status, watchdog pings, stopping, reloading.

    Every method is a no-op when no socket was given (not started by systemd with
    ``Type=notify``), and none of them raises: a failed send is logged once and forgotten,
    because losing a notification must never take the service down.
    """

    def __init__(self, address: str | None, *, watchdog_interval: float | None = None) -> None:
        self._address = address or None
        self._interval = watchdog_interval
        self._warned = False
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Notifier:
        """Read $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID (default: ``os.environ``)."""
        env = os.environ if environ is None else environ
        return cls(env.get("NOTIFY_SOCKET"), watchdog_interval=_watchdog_interval(env))

    @property
    def enabled(self) -> bool:
        """True when there is a socket to notify (systemd started us with ``Type=notify``)."""
        return self._address is not None

    def watchdog_interval(self) -> float | None:
        """Seconds between watchdog pings (half of WatchdogSec=), or None when not watched."""
        return self._interval

    def ready(self) -> None:
        """Start-up (or a reload) is finished; systemd reports the unit active."""
        self._send("READY=1")

    def status(self, text: str) -> None:
        """A one-line status shown by ``systemctl status``."""
        # Lines separate assignments in the protocol, so a newline would start a bogus one.
        line = " ".join(text.split())[:_MAX_STATUS_CHARS]
        self._send(f"STATUS={line}")

    def watchdog(self) -> None:
        """Ping the watchdog: still alive and making progress."""
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        """Shutdown has begun."""
        self._send("STOPPING=1")

    def reloading(self) -> None:
        """A reload has begun; send :meth:`ready` when it is done."""
        # systemd >= 253 ignores RELOADING=1 without the time it was sent, on its own clock
        # (CLOCK_MONOTONIC), so that it can tell a reload it asked for from a stale one.
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self._send(f"RELOADING=1\nMONOTONIC_USEC={usec}")

    def _send(self, message: str) -> None:
        if self._address is None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.settimeout(_SEND_TIMEOUT_SECONDS)
                sock.sendto(message.encode(), _socket_address(self._address))
        except (OSError, ValueError) as exc:
            self._warn_once(message, exc)

    def _warn_once(self, message: str, exc: Exception) -> None:
        with self._lock:
            if self._warned:
                return
            self._warned = True
        # Logged once: the watchdog pings every few seconds and would flood the journal.
        log.warning(
            "systemd.notify_failed",
            socket=self._address,
            notification=message.partition("=")[0],
            error=str(exc) or type(exc).__name__,
        )


def _socket_address(address: str) -> bytes:
    """The sockaddr for $NOTIFY_SOCKET: a file path, or ``@name`` in the abstract namespace."""
    if address.startswith("@"):
        # Linux abstract socket: a leading NUL instead of "@", and no file behind it.
        return b"\0" + address[1:].encode()
    if address.startswith("/"):
        return os.fsencode(address)
    # systemd >= 254 may also hand out "vsock:..." (for virtual machines); not spoken here.
    raise ValueError(f"unsupported NOTIFY_SOCKET address {address!r}")


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Half of $WATCHDOG_USEC in seconds, if the watchdog is meant for this process."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
        # The variables are inherited by children; $WATCHDOG_PID says whose watchdog it is.
        pid = env.get("WATCHDOG_PID")
        if pid is not None and int(pid) != os.getpid():
            return None
    except ValueError:
        return None
    # Pinging at half the limit (as sd_watchdog_enabled(3) advises) survives one late ping.
    return usec / 2_000_000 if usec > 0 else None
