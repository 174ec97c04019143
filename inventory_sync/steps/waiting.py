"""An archiving inbox found empty: a source waiting for its next file, or one gone quiet."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from inventory_sync.app import App, ConfiguredSource
from inventory_sync.domain.gates import span
from inventory_sync.domain.model import Hold
from inventory_sync.errors import NoNewFile

log = structlog.get_logger(__name__)


def no_new_file_hold(app: App, configured: ConfiguredSource, exc: NoNewFile) -> Hold | None:
    """The hold on a source whose inbox is empty since its last file was archived.

    It waits (its warehouses are not planned from it, the run is not held) while its last
    good data is within max_age; past max_age it holds the run, as stale data would. None
    when the source was never read: an empty folder on first contact may be the wrong one.
    """
    last = app.ledger.last_good_snapshot(configured.name)
    if last is None:
        return None
    since, now = last.taken_at, app.clock.now()
    details = {"since": since.isoformat(), "archive_dir": exc.archive_dir}
    subject = f"source:{configured.name}"
    max_age = configured.gates.max_age
    if max_age is not None and now - since > max_age:
        reason = (
            f"no new file for {span(now - since)}, longer than max_age {span(max_age)}"
            f" (the last one was moved to {exc.archive_dir})"
        )
        log.error("source.held", source=configured.name, reason=reason, **details)
        return Hold(subject, reason, details)
    log.info("source.no_new_file", source=configured.name, **details)
    reason = f"no new file since {shown_time(since)} (the last one was moved to {exc.archive_dir})"
    return Hold(subject, reason, details, waiting=True)


def shown_time(at: datetime) -> str:
    """A moment as people read it in a report: 2026-12-03 14:02 UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
