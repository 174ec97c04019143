"""The one map from how a command ended (an error, a run's report, health) to its exit code."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from inventory_sync.domain.model import RunStatus
from inventory_sync.errors import (
    AuthError,
    ConfigError,
    InventorySyncError,
    LockHeld,
    MappingError,
    PlanError,
    RateLimited,
    RunHeld,
    ShipStationError,
    TransportError,
    UsageError,
)

if TYPE_CHECKING:
    from inventory_sync.report import RunReport

OK = 0
FAILED = 1  # some adjustments failed, a run stopped on a ledger error, or `status` is unhealthy
USAGE = 2
HELD = 3
SHIPSTATION = 4
BUSY = 5
INTERNAL = 70  # EX_SOFTWARE: a bug, with its traceback in the log
INTERRUPTED = 130  # what a shell reports for Ctrl-C
_SERVER_ERROR = 500

MEANINGS = (
    (OK, "success (or nothing to do)"),
    (
        FAILED,
        "some adjustments failed (the rest were applied), or the run stopped on a ledger error",
    ),
    (USAGE, "configuration or usage error"),
    (HELD, "held: a guard held the run, or a source (a sanity gate, or unreadable: see the holds)"),
    (
        SHIPSTATION,
        "refused: ShipStation down, rate-limited, key or plan refused, or mapping wrong",
    ),
    (BUSY, "another inventory-sync was pushing to a warehouse or held its account (skipped)"),
    (INTERNAL, "internal error (a bug; the log has the traceback)"),
)
HELP = "\b\nExit codes:\n" + "\n".join(f"{code:>3}  {meaning}" for code, meaning in MEANINGS)


# First match wins: LockHeld is a LedgerError, but a busy warehouse is no ledger failure.
_BY_ERROR: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int], ...] = (
    ((ConfigError, UsageError), USAGE),
    (RunHeld, HELD),
    (LockHeld, BUSY),
    # A rate limit that outlasted every pause is ShipStation refusing us, as a 503 is.
    ((AuthError, PlanError, TransportError, RateLimited, MappingError), SHIPSTATION),
    (InventorySyncError, FAILED),
    (KeyboardInterrupt, INTERRUPTED),
)


def for_error(exc: BaseException) -> int:
    """The exit code of a command that stopped on ``exc``."""
    if isinstance(exc, ShipStationError) and (exc.status_code or 0) >= _SERVER_ERROR:
        return SHIPSTATION
    return next((code for kinds, code in _BY_ERROR if isinstance(exc, kinds)), INTERNAL)


def for_report(report: RunReport) -> int:
    """The exit code of a run that finished with ``report``."""
    if report.status is RunStatus.HELD:
        return HELD
    if report.status in {RunStatus.PARTIAL, RunStatus.FAILED}:
        return FAILED
    return BUSY if report.busy else OK


# A run of several accounts exits with its most serious account's code, in this order.
_SEVERITY = (SHIPSTATION, FAILED, HELD, BUSY, OK)


def most_serious(codes: Iterable[int]) -> int:
    """The code of a run of several accounts, from each account's code."""
    found = set(codes)
    return next((code for code in _SEVERITY if code in found), max(found, default=OK))


def for_health(*, healthy: bool) -> int:
    """The exit code of `status`: a health check fails with 1."""
    return OK if healthy else FAILED
