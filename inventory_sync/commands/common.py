"""What every command shares: the context, and errors turned into messages and exit codes."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
import structlog

from inventory_sync import exits, logs
from inventory_sync.config import Settings, load_settings
from inventory_sync.errors import (
    ConfigError,
    InventorySyncError,
    LedgerError,
    MappingError,
    PlanError,
    ShipStationError,
)

P = ParamSpec("P")
R = TypeVar("R")
log = structlog.get_logger(__name__)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn the project's errors into a message on stderr and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except InventorySyncError as exc:
            _describe(exc)
            raise SystemExit(exits.for_error(exc)) from exc
        except KeyboardInterrupt as exc:
            click.echo("interrupted", err=True)
            raise SystemExit(exits.for_error(exc)) from None
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            log.exception("cli.crashed", error=str(exc))
            click.echo(f"internal error: {exc!r} (see the log for the traceback)", err=True)
            raise SystemExit(exits.for_error(exc)) from exc

    return wrapper


def _describe(exc: InventorySyncError) -> None:
    fields: dict[str, Any] = {"error": str(exc), "error_type": type(exc).__name__}
    if isinstance(exc, ShipStationError):
        fields |= {"status_code": exc.status_code, "request_id": exc.request_id}
    if isinstance(exc, ConfigError):
        # A service that will not start says why in its log too, one problem per item.
        fields |= {"problems": [str(p) for p in exc.problems]}
    if isinstance(exc, ConfigError | LedgerError | ShipStationError | MappingError):
        log.error("cli.failed", **fields)
    prefix = {ConfigError: "", PlanError: "ShipStation refused the plan: "}.get(type(exc), "")
    click.echo(f"inventory-sync: {prefix}{logs.scrubber.scrub(str(exc))}", err=True)
    if isinstance(exc, MappingError):
        for finding in exc.findings:
            click.echo(f"  - {finding}", err=True)


class Context:
    """What the group's options leave for the subcommands."""

    def __init__(self, config: Path | None, log_level: str | None, log_format: str | None) -> None:
        self.config_path = config
        self.log_level = log_level
        self.log_format = log_format
        logs.configure(level=log_level or "info", fmt=log_format or "auto")

    def settings(self, *, require_file: bool = True) -> Settings:
        settings = load_settings(self.config_path, require_file=require_file)
        logs.configure(
            level=self.log_level or settings.logging.level,
            fmt=self.log_format or settings.logging.format,
        )
        return settings


pass_context = click.make_pass_decorator(Context)


def emit_json(payload: dict[str, Any]) -> None:
    """Exactly one JSON object on stdout."""
    sys.stdout.write(json.dumps(payload, sort_keys=False, default=str) + "\n")
    sys.stdout.flush()
