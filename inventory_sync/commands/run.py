"""`inventory-sync run`: the long-running service (under systemd, or in a terminal)."""

from __future__ import annotations

import click

from inventory_sync import logs
from inventory_sync.commands.common import Context, handle_errors, pass_context
from inventory_sync.config import Settings
from inventory_sync.daemon.lifecycle import Daemon
from inventory_sync.notify import Notifier


@click.command()
@pass_context
@handle_errors
def run(ctx: Context) -> None:
    """Run as a service: pull each source on its interval, reconcile soon after new data.

    Also reconciles every warehouse on [daemon] reconcile_interval, scans for drift and
    checks key expiry daily, and prunes the ledger. SIGTERM or SIGINT stops it cleanly (a
    push in progress sends nothing more and records every outcome); SIGHUP reloads the
    configuration (an invalid one is logged and the old one kept). Speaks the systemd notify
    protocol when $NOTIFY_SOCKET is set. Logs are JSON events on stderr (docs/monitoring.md).
    """
    settings = ctx.settings()

    def configure_logs(new: Settings) -> None:
        logs.configure(
            level=ctx.log_level or new.logging.level, fmt=ctx.log_format or new.logging.format
        )

    daemon = Daemon(ctx.config_path, settings, Notifier.from_environment(), configure_logs)
    raise SystemExit(daemon.serve())
