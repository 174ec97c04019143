"""A real HTTP server on 127.0.0.1 for source tests: scripted answers per path, requests kept."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import urlsplit


@dataclass
class Answer:
    status: int = 200
    body: object = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


@dataclass
class Seen:
    path: str
    query: str
    headers: dict[str, str]


class LoopbackServer:
    """Answers each path from a script; the last answer for a path repeats."""

    def __init__(self) -> None:
        self.script: dict[str, list[Answer]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval only makes shutdown() return promptly at teardown.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def answer(self, path: str, *answers: Answer) -> None:
        """Script the answers for a path (with its query string, if the request has one)."""
        self.script[path] = list(answers)

    def _next(self, path: str) -> Answer:
        with self._lock:
            answers = self.script.get(path)
            if not answers:
                return Answer(404, {"error": f"nothing scripted for {path}"})
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                server.seen.append(Seen(parts.path, parts.query, dict(self.headers)))
                answer = server._next(self.path)
                data = answer.encoded()
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args) -> None:  # noqa: A002 - stdlib's signature
                pass  # keep test output clean

        return Handler

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
