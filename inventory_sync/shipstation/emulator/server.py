"""The HTTP side of the emulator: auth, rate limit, faults, error bodies, headers, admin routes."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from inventory_sync.errors import ShipStationError
from inventory_sync.shipstation.emulator.faults import Fault, FaultInjector
from inventory_sync.shipstation.emulator.ratelimit import FixedWindowLimiter, Verdict
from inventory_sync.shipstation.emulator.routes import Context, Request, path_exists, route
from inventory_sync.shipstation.emulator.settings import EmulatorSettings, FaultSettings
from inventory_sync.shipstation.emulator.state import EmulatorState

ADMIN_PREFIX = "/_emulator/"  # no real API path starts with an underscore
_WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class SeenRequest:
    """One request as the emulator saw it; tests count these (e.g. no retry after a 402)."""

    method: str
    path: str
    api_key: str | None
    status: int | None  # None: the connection was dropped without an answer
    at: float = field(default_factory=time.monotonic)  # arrival, for the bench's windows


class _Dropped(Exception):
    """Close the connection without answering."""


class EmulatorServer(ThreadingHTTPServer):
    """Holds the account and the knobs; one handler thread per connection."""

    daemon_threads = False  # stop() joins every handler thread
    block_on_close = True

    def __init__(self, settings: EmulatorSettings, state: EmulatorState) -> None:
        super().__init__((settings.host, settings.port), _Handler)
        self.settings = settings
        self.state = state
        self.faults = FaultInjector(settings.faults)
        self.limiter = FixedWindowLimiter(settings.rate_limit_per_minute)
        self.seen: list[SeenRequest] = []
        self._seen_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        host, port = self.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up mid-answer (killed, timed out) is normal here, not an error."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def note(self, seen: SeenRequest) -> None:
        with self._seen_lock:
            self.seen.append(seen)

    def track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._seen_lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_connections(self) -> None:
        """Wake handler threads idling on keep-alive connections so they can be joined."""
        with self._seen_lock:
            for connection in list(self._connections):
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:  # already closed by the peer
                    continue


def request_counts(seen: list[SeenRequest]) -> dict[str, Any]:
    """What the admin route /_emulator/requests reports: API requests seen, by answer."""
    by_status: dict[str, int] = {}
    for request in seen:
        key = "dropped" if request.status is None else str(request.status)
        by_status[key] = by_status.get(key, 0) + 1
    return {"total": len(seen), "by_status": by_status, "rate_limited": by_status.get("429", 0)}


def error_body(request_id: str, error_type: str, error_code: str, message: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "errors": [
            {
                "error_source": "ShipStation",
                "error_type": error_type,
                "error_code": error_code,
                "message": message,
            }
        ],
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API behind its load balancer
    server: EmulatorServer
    timeout = 30  # an idle keep-alive connection ends after this many seconds

    def setup(self) -> None:
        super().setup()
        # Headers and body go out as two writes; without NODELAY, Nagle and delayed ACKs
        # add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, open_=True)

    def finish(self) -> None:
        self.server.track(self.connection, open_=False)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401
        """Stay quiet: tests and the demo read the emulator through its admin routes."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        self.request_id = str(uuid.uuid4())
        self.verdict: Verdict | None = None
        self.seen: SeenRequest | None = None
        self.api_key: str | None = None
        split = urlsplit(self.path)
        body = self._read_body()
        if split.path.startswith(ADMIN_PREFIX):
            self._send(*self._admin(method, split.path, body))
            return
        key = self.api_key = self.headers.get("API-Key")
        # Noted before the answer leaves, so a test reading it after the call sees it.
        self.seen = SeenRequest(method, split.path, key, None)
        try:
            self._answer(method, split.path, dict(parse_qsl(split.query)), body, key)
        except _Dropped:
            self.close_connection = True
            self.server.note(self.seen)

    def _read_body(self) -> Any:  # noqa: ANN401
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode("utf-8", "replace")

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: object, key: str | None
    ) -> int:
        settings = self.server.settings
        if key not in settings.api_keys and key not in settings.plan_refused_keys:
            return self._fail(401, "security", "unauthorized", "the API key is missing or invalid")
        if key in settings.plan_refused_keys:
            return self._fail(
                settings.plan_refused_status,
                "account_status",
                settings.plan_refused_code,
                "this account's plan does not include the Inventory API",
            )
        self.verdict = self.server.limiter.check()
        if not self.verdict.allowed:
            return self._fail_429(self.verdict.reset_seconds)
        fault = self.server.faults.draw(is_write=method in _WRITE_METHODS)
        return self._run(method, path, query, body, fault)

    def _run(self, method: str, path: str, query: dict[str, str], body: Any, fault: Fault) -> int:  # noqa: ANN401
        latency = self.server.faults.settings.latency_ms
        if latency:
            time.sleep(latency / 1000)
        if fault is Fault.DROP_BEFORE:
            raise _Dropped
        if fault is Fault.BURST_429:
            return self._fail_429(self.server.faults.settings.burst_retry_after)
        if fault is Fault.ERROR_BEFORE:
            return self._fail(503, "system", "unspecified", "the service is unavailable")
        found = route(method, path)
        if found is None:
            code = 405 if path_exists(path) else 404
            return self._fail(code, "validation", "unspecified", f"no route for {method} {path}")
        handler, ident = found
        ctx = Context(self.server.state, self.server.settings, self.server.base_url)
        request = Request(method, path, query, body, ident)
        try:
            answer = handler(ctx, request)
        except ShipStationError as exc:
            return self._fail(
                int(exc.status_code or 400), str(exc.error_type), str(exc.error_code), str(exc)
            )
        if answer.changed:
            self.server.state.record_applied(method, path, body)
        if fault is Fault.LOST_ACK and answer.changed:
            raise _Dropped
        if fault is Fault.ERROR_AFTER and answer.changed:
            return self._fail(503, "system", "unspecified", "the service is unavailable")
        self._send(answer.status, answer.body)
        return answer.status

    def _fail(self, status: int, error_type: str, error_code: str, message: str) -> int:
        if self.server.faults.settings.echo_api_key and self.api_key:
            message = f"{message} (API-Key: {self.api_key})"
        self._send(status, error_body(self.request_id, error_type, error_code, message))
        return status

    def _fail_429(self, retry_after: int) -> int:
        headers = (
            {"Retry-After": str(retry_after)} if self.server.settings.retry_after_header else {}
        )
        body = error_body(self.request_id, "system", "rate_limit_exceeded", "too many requests")
        self._send(429, body, headers)
        return 429

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:  # noqa: ANN401
        payload = b"" if body is None else json.dumps(body).encode()
        if self.seen is not None:
            self.server.note(replace(self.seen, status=status))
        self.send_response(status)
        self.send_header("x-request-id", self.request_id)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if (
            self.verdict is not None
            and self.server.settings.rate_limit_headers
            and self.verdict.limit
        ):
            self.send_header("X-Rate-Limit-Limit", str(self.verdict.limit))
            self.send_header("X-Rate-Limit-Remaining", str(self.verdict.remaining))
            self.send_header("X-Rate-Limit-Reset", str(self.verdict.reset_seconds))
        self.end_headers()
        self.wfile.write(payload)

    def _admin(self, method: str, path: str, body: Any) -> tuple[int, Any]:  # noqa: ANN401
        """State dump, applied record, and run-time fault settings (local use only)."""
        server = self.server
        reads: dict[str, Callable[[], Any]] = {
            "state": server.state.to_seed,
            "applied": lambda: [asdict(entry) for entry in server.state.applied()],
            "requests": lambda: request_counts(list(server.seen)),
            "faults": lambda: asdict(server.faults.settings),
        }
        read = reads.get(path.removeprefix(ADMIN_PREFIX))
        if method == "GET" and read is not None:
            return 200, read()
        if (method, path) == ("POST", ADMIN_PREFIX + "faults") and isinstance(body, dict):
            known = {f.name for f in fields(FaultSettings)}
            unknown = sorted(set(body) - known)
            if unknown:
                return 400, {"unknown_settings": unknown}
            return 200, asdict(server.faults.update(**body))
        return 404, {"message": f"no admin route for {method} {path}"}
