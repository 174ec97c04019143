"""The project's one error tree; every adapter raises only these.

    InventorySyncError
    ├── ConfigError                 configuration invalid (all problems at once)      exit 2
    ├── UsageError                  the command line asked for something impossible   exit 2
    ├── SourceError                 a source could not be read at all
    │   ├── SourceUnavailable       transport or I/O failure; may recover by itself
    │   │   └── NoNewFile           an archiving inbox is empty: the last file was used
    │   ├── FeedFormatError         the feed is unusable as a whole (missing column, encoding)
    │   └── SourceMisconfigured     the source's system refused our settings (password, host key)
    ├── LedgerError                 the ledger could not be read or written
    │   ├── LockHeld                another process pushes to this warehouse
    │   └── LeaseLost               this replica's lease ran out or was taken: send nothing more
    ├── MappingError                configured warehouses/locations do not match ShipStation  exit 4
    ├── RunHeld                     a guard held the run                              exit 3
    └── ShipStationError            anything the ShipStation API said or failed to say
        ├── TransportError          no usable answer (timeout, reset, refused)        exit 4
        │   └── ConnectFailed       the request never left: safe to retry any write
        ├── OutcomeUncertain        a write may or may not have applied; never replay blindly
        ├── AuthError               401 with every key                                exit 4
        ├── PlanError               402: plan lacks API access or the Inventory add-on exit 4
        ├── RateLimited             429 after the client's own waiting gave up        exit 4
        ├── NotFound                404
        ├── RequestRejected         400/409/422: ShipStation refused this request
        ├── ServerError             5xx after retries                                 exit 4
        └── StopRequested           the service is stopping: no further request is sent

Errors carry facts as attributes (``sku=``, ``status_code=``, ``request_id=``) so the
CLI and the logs can show them without parsing messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar


class InventorySyncError(Exception):
    """Root of every error this project raises on purpose."""

    run_id: str | None = None  # the run it stopped, once the run frame has recorded it failed


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with the configuration: where, and what."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


class ConfigError(InventorySyncError):
    """The configuration is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[ConfigProblem], *, origin: str | None = None) -> None:
        self.problems = problems
        self.origin = origin
        where = f" in {origin}" if origin else ""
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid configuration{where} ({len(problems)} problem(s)):\n{lines}")


class UsageError(InventorySyncError):
    """The command line asked for something that cannot be done."""


class SourceError(InventorySyncError):
    """A source could not be read at all."""

    def __init__(self, message: str, *, source: str, origin: str | None = None) -> None:
        self.source = source
        self.origin = origin
        super().__init__(message)


class SourceUnavailable(SourceError):
    """The source's system could not be reached or read; it may come back by itself."""


class NoNewFile(SourceUnavailable):
    """An inbox whose used files are moved to ``archive_dir`` holds no file at all: between
    two uploads that is its normal state, once a file has been read from it."""

    def __init__(
        self, message: str, *, source: str, archive_dir: str, origin: str | None = None
    ) -> None:
        self.archive_dir = archive_dir
        super().__init__(message, source=source, origin=origin)


class FeedFormatError(SourceError):
    """The feed is unusable as a whole: a missing column, an undecodable file, a bad shape."""


class SourceMisconfigured(SourceError):
    """The source's system refused our settings (a wrong password, an unknown host key, a
    missing bucket). Asking again will not help; ``key`` names the option to fix."""

    def __init__(self, message: str, *, source: str, key: str, origin: str | None = None) -> None:
        self.key = key
        super().__init__(message, source=source, origin=origin)


class LedgerError(InventorySyncError):
    """The ledger could not be read or written."""


class LockHeld(LedgerError):
    """Another process holds the push lock for a warehouse."""

    def __init__(self, warehouse: str, *, holder: str | None = None) -> None:
        self.warehouse = warehouse
        self.holder = holder
        by = f" by {holder}" if holder else ""
        super().__init__(f"warehouse {warehouse!r} is being pushed to{by}")


class LeaseLost(LedgerError):
    """The replica no longer holds the lease (fencing number) its work was started under."""

    def __init__(self, lease: str, *, fence: int, reason: str) -> None:
        self.lease = lease
        self.fence = fence
        self.reason = reason
        super().__init__(f"lease {lease!r} (fence {fence}) is no longer ours: {reason}")


class MappingError(InventorySyncError):
    """The configured warehouses and locations do not match what ShipStation has."""

    def __init__(self, message: str, *, findings: list[str]) -> None:
        self.findings = findings
        super().__init__(message)


class RunHeld(InventorySyncError):
    """A guard held the run; nothing was pushed."""

    def __init__(self, message: str, *, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class SupportRecord:
    """What ShipStation support asks for when a call fails (key always redacted)."""

    action: str
    method: str
    url: str
    request_body: Any = None
    status_code: int | None = None
    response_body: Any = None
    request_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ShipStationError(InventorySyncError):
    """Anything the ShipStation API said, or failed to say."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error_code: str | None = None,
        error_type: str | None = None,
        request_id: str | None = None,
        support: SupportRecord | None = None,
    ) -> None:
        self.status_code = status_code
        self.error_code = error_code
        self.error_type = error_type
        self.request_id = request_id
        self.support = support
        super().__init__(message)

    def retyped(self, kind: type[E], message: str | None = None, **facts: Any) -> E:  # noqa: ANN401
        """The same facts (status, codes, request id, support record) as another kind of error;
        ``message`` and ``facts`` replace this one's where given."""
        known: dict[str, Any] = {
            "status_code": self.status_code,
            "error_code": self.error_code,
            "error_type": self.error_type,
            "request_id": self.request_id,
            "support": self.support,
        }
        return kind(str(self) if message is None else message, **(known | facts))


E = TypeVar("E", bound=ShipStationError)


class TransportError(ShipStationError):
    """No usable answer arrived: timeout, reset, refused connection."""


class ConnectFailed(TransportError):
    """The request never left this machine, so any write may be retried."""


class OutcomeUncertain(ShipStationError):
    """A write may or may not have been applied; settle it by reading back."""


class AuthError(ShipStationError):
    """ShipStation refused every configured key (401)."""


class PlanError(ShipStationError):
    """402: the account's plan lacks API access or the Inventory API add-on."""


class RateLimited(ShipStationError):
    """429 persisted beyond what the client was willing to wait."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        waited_seconds: float = 0.0,
        pauses: int = 0,
        **kw: Any,  # noqa: ANN401
    ) -> None:
        self.retry_after = retry_after
        self.waited_seconds = waited_seconds  # the Retry-After pauses honoured, summed
        self.pauses = pauses
        super().__init__(message, **kw)


class NotFound(ShipStationError):
    """404: the warehouse, location or SKU does not exist."""


class RequestRejected(ShipStationError):
    """400/409/422: ShipStation refused the request as it stands."""


class ServerError(ShipStationError):
    """5xx persisted beyond the client's retries."""


class StopRequested(ShipStationError):
    """The service is stopping, so no further request is sent.

    A ShipStationError so that a run it interrupts is recorded as failed, with this reason,
    and releases its warehouse locks, as for any error that stops a run.
    """
