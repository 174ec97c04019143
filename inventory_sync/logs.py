"""The one place logging is configured: structlog events, stdlib loggers routed through them.

Logs go to stderr, so that stdout stays free for command output such as ``reconcile --json``.
JSON lines when stderr is not a terminal, readable console output when it is. Every value that
was registered as a secret is replaced by ``***`` wherever it appears.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "***"
# Third-party loggers that would otherwise drown the events: httpx logs every request at INFO.
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    "alembic": logging.WARNING,
    "apscheduler": logging.INFO,
    # Remote feed stores: paramiko logs each SSH handshake, botocore each request at DEBUG.
    "paramiko": logging.WARNING,
    # Its connection thread logs every failed handshake at ERROR, a traceback one line per
    # event; the same failure reaches the source, which reports it once (source.unavailable).
    "paramiko.transport": logging.CRITICAL,
    "botocore": logging.WARNING,
    "aiobotocore": logging.WARNING,
    "s3fs": logging.WARNING,
    "fsspec": logging.WARNING,
    "asyncio": logging.WARNING,  # s3fs's event loop: "Using selector" at each start
}


class SecretScrubber:
    """A processor that removes registered secret values from every event field."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def register(self, secret: str) -> None:
        # Very short values would scrub ordinary words; real keys are long.
        if len(secret) >= 6:  # noqa: PLR2004
            with self._lock:
                self._secrets.add(secret)

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __call__(self, _logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
        if not self._secrets:
            return event
        return {key: self._clean(value) for key, value in event.items()}

    def _clean(self, value: Any) -> Any:  # noqa: ANN401
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, dict):
            return {k: self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self._clean(v) for v in value]
        return value


scrubber = SecretScrubber()
_rendering = {"json": False}  # what the last configure chose, for messages printed once


def register_secret(secret: str) -> None:
    """Make sure ``secret`` never appears in any log line."""
    scrubber.register(secret)


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        scrubber,
    ]


class _CurrentStderr:
    """Whatever ``sys.stderr`` is at each write, so a progress bar that takes stderr over
    (rich redirects it while a bar is live) prints the log lines above itself."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Configure structlog and the stdlib root logger; safe to call more than once."""
    out: TextIO | _CurrentStderr = stream or _CurrentStderr()
    as_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    _rendering["json"] = as_json
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric)
    for name, quiet in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet, numeric))
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def renders_json() -> bool:
    """True when log lines are JSON: a message logged as an event then needs no text copy."""
    return _rendering["json"]


def bind_run(run_id: str, **fields: Any) -> None:  # noqa: ANN401
    """Bind ``run_id`` (and any other fields) to every event of this run."""
    structlog.contextvars.bind_contextvars(run_id=run_id, **fields)


def unbind_run() -> None:
    structlog.contextvars.clear_contextvars()


def level_number(name: str) -> int:
    """The stdlib number for a level name such as "info"."""
    return int(logging.getLevelNamesMapping()[name.upper()])
