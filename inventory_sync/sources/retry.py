"""Bounded retries with exponential backoff for idempotent HTTP reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from inventory_sync.backoff import backoff_seconds
from inventory_sync.errors import SourceUnavailable

MAX_DELAY_SECONDS = 60.0  # never wait longer than this between two tries, whatever a server says


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a read."""

    retries: int
    backoff_seconds: float
    sleep: Callable[[float], None]

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Backoff doubling per attempt; a 429/503's Retry-After (seconds) wins when given."""
        wait = backoff_seconds(attempt, base=self.backoff_seconds, cap=MAX_DELAY_SECONDS)
        if response is not None:
            after = response.headers.get("Retry-After", "")
            if after.strip().isdigit():
                wait = float(after)
        return min(wait, MAX_DELAY_SECONDS)


def _is_transient(status: int) -> bool:
    return status == httpx.codes.TOO_MANY_REQUESTS or status >= httpx.codes.INTERNAL_SERVER_ERROR


def get_with_retries(
    client: httpx.Client,
    url: str,
    params: dict[str, str],
    policy: RetryPolicy,
    unavailable: Callable[[str, str], SourceUnavailable],
) -> httpx.Response:
    """GET, retrying connection errors, timeouts, 429 and 5xx; other 4xx fail at once."""
    # Merge, never replace: the configured URL may carry its own query (per_page=500, ...).
    target = httpx.URL(url).copy_merge_params(params) if params else httpx.URL(url)
    problem = ""
    for attempt in range(policy.retries + 1):
        response: httpx.Response | None = None
        try:
            response = client.get(target)
        except httpx.TransportError as err:
            problem = f"{type(err).__name__}: {err}"
        else:
            if response.is_success:
                return response
            problem = f"HTTP {response.status_code} {response.reason_phrase}"
            if not _is_transient(response.status_code):
                # 401/403/404 will not heal by asking again; say so once, do not hammer.
                raise unavailable(str(response.url), f"{problem}: {response.text[:200]}")
        if attempt < policy.retries:
            policy.sleep(policy.delay(attempt, response))
    raise unavailable(str(target), f"{problem} (gave up after {policy.retries + 1} attempts)")
