"""The emulator's knobs; each default settles one UNCONFIRMED point of the contract notes."""

from __future__ import annotations

from dataclasses import dataclass, field

from inventory_sync.shipstation.models import Condition


@dataclass(frozen=True, slots=True)
class FaultSettings:
    """Seeded misbehaviour; every rate is a probability per request (0.0 to 1.0)."""

    latency_ms: int = 0
    error_rate: float = 0.0  # answer 503 with the error body
    error_after_commit_share: float = 0.5  # of those 5xx on writes, how many come after the change
    lost_ack_rate: float = 0.0  # writes: commit the change, then drop the connection
    drop_before_rate: float = 0.0  # any request: drop the connection before doing anything
    burst_429_rate: float = 0.0  # chance a request starts a burst of 429 answers
    burst_429_length: int = 5  # requests answered 429 in one burst
    burst_retry_after: int = 1  # Retry-After seconds sent during a burst
    # Error messages quote the request's API-Key header, as an API might echo a bad key back:
    # what the client then raises carries the key, and only the log scrubber stands between it
    # and the logs, the output and the ledger.
    echo_api_key: bool = False
    seed: int = 0


@dataclass(frozen=True, slots=True)
class EmulatorSettings:
    """How the emulator behaves; see docs/shipstation.md for the contract point each settles."""

    host: str = "127.0.0.1"
    port: int = 0
    api_keys: tuple[str, ...] = ("demo-key",)
    plan_refused_keys: tuple[str, ...] = ()
    plan_refused_status: int = 402
    plan_refused_code: str = "invalid_billing_plan"
    page_size_max: int = 500
    page_size_default: int = 25
    page_size_params: tuple[str, ...] = ("page_size", "limit")
    absent_link_as_null: bool = False  # prev/next as {"href": null} instead of {}
    delete_with_stock_status: int = 409
    omit_zero_stock: bool = False
    rate_limit_per_minute: int = 200  # 0 = unlimited
    rate_limit_headers: bool = True
    retry_after_header: bool = True
    default_condition: Condition = Condition.SELLABLE
    faults: FaultSettings = field(default_factory=FaultSettings)
