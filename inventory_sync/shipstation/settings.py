"""How a ShipStationClient is built: address, keys, pace, paging and timeouts."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from inventory_sync.shipstation.keys import ApiKey

DEFAULT_BASE_URL = "https://api.shipstation.com"


def _package_version() -> str:
    # Read from the installed distribution: the client imports nothing else of the project.
    try:
        return version("inventory-sync")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Everything a client needs; ``keys`` are tried in order (primary first)."""

    base_url: str
    keys: tuple[ApiKey, ...]
    requests_per_minute: int = 200  # ShipStation's documented default per account
    page_size: int | None = None  # None: the largest the server accepts, found by asking
    page_size_param: str = "page_size"  # the live API's name; the July-2025 spec said "limit"
    timeout_seconds: float = 30.0
    max_read_retries: int = 5
    concurrency: int = 8
    user_agent: str = f"inventory-sync/{_package_version()}"
    max_rate_limit_waits: int = 10  # 429s one request may sit out before RateLimited
    # A Retry-After longer than this stops the account's work (RateLimited) instead of
    # blocking it: ShipStation's windows are a minute long, so more means throttled hard.
    max_rate_limit_pause_seconds: float = 120.0
    retry_base_seconds: float = 0.25  # first backoff step; doubles per attempt, capped at 20 s
