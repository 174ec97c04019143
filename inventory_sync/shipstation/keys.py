"""API keys: which one to send, failing over on 401, and warning before one expires."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import structlog

from inventory_sync.errors import AuthError

log = structlog.get_logger(__name__)

# ShipStation keys live 3, 6 or 12 months; warn two weeks, one week and one day ahead.
EXPIRY_WARNING_DAYS = (14, 7, 1)
REDACTED = "<redacted>"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One V2 API key. The value never appears in repr, str or logs."""

    value: str = field(repr=False)
    expires_on: date | None = None
    label: str = "primary"

    def __repr__(self) -> str:
        return f"ApiKey(label={self.label!r}, expires_on={self.expires_on!r}, value={REDACTED})"

    __str__ = __repr__

    def days_left(self, today: date) -> int | None:
        return None if self.expires_on is None else (self.expires_on - today).days

    def is_expired(self, today: date) -> bool:
        """A key is unusable on its expiry date itself: it may stop mid-day."""
        left = self.days_left(today)
        return left is not None and left <= 0


@dataclass(frozen=True, slots=True)
class ExpiryNotice:
    label: str
    expires_on: date
    days_left: int


class KeyRing:
    """The configured keys in order of preference; thread-safe; remembers a failover."""

    def __init__(self, keys: Sequence[ApiKey], today: Callable[[], date]) -> None:
        if not keys:
            raise AuthError("no API key configured")
        self._keys = tuple(keys)
        self._today = today
        self._lock = threading.Lock()
        self._current = 0
        self._warned: dict[int, int] = {}  # key index -> tightest threshold already logged
        self._checked_on: date | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every key value, for redaction only."""
        return tuple(key.value for key in self._keys)

    def current(self) -> ApiKey:
        """The key to send now: the preferred one unless it expired or failed. Else AuthError."""
        today = self._today()
        if today != self._checked_on:
            self.check_expiry(today)
        with self._lock:
            order = [self._current, *(i for i in range(len(self._keys)) if i != self._current)]
            for index in order:
                if not self._keys[index].is_expired(today):
                    self._current = index
                    return self._keys[index]
        raise AuthError("every configured API key has expired", status_code=None)

    def fail_over(self, failed: ApiKey, tried: set[str]) -> ApiKey | None:
        """After a 401 with ``failed``: switch to an untried usable key and keep it.

        ``tried`` holds the values already refused for this request (compared, never logged)."""
        today = self._today()
        with self._lock:
            current = self._keys[self._current]
            if current.value not in tried and current.value != failed.value:
                return current  # another thread already failed over: log the transition once
            for index, key in enumerate(self._keys):
                if key.value in tried or key.value == failed.value or key.is_expired(today):
                    continue
                self._current = index
                log.error(
                    "shipstation.key_failed_over",
                    failed_key=failed.label,
                    now_using=key.label,
                    status_code=401,
                )
                return key
        return None

    def check_expiry(self, today: date) -> list[ExpiryNotice]:
        """Log ``shipstation.key_expiring`` once per threshold crossed (14, 7, 1 days)."""
        notices = []
        with self._lock:
            self._checked_on = today
            for index, key in enumerate(self._keys):
                left = key.days_left(today)
                if key.expires_on is None or left is None or left > EXPIRY_WARNING_DAYS[0]:
                    continue
                if left <= 0:
                    self._log_expired(index, key, left)
                    continue
                threshold = min(t for t in EXPIRY_WARNING_DAYS if left <= t)
                if self._warned.get(index, EXPIRY_WARNING_DAYS[0] + 1) <= threshold:
                    continue  # already warned at this threshold: log transitions only
                self._warned[index] = threshold
                notices.append(ExpiryNotice(key.label, key.expires_on, left))
                log.warning(
                    "shipstation.key_expiring",
                    key_label=key.label,
                    expires_on=key.expires_on.isoformat(),
                    days_left=left,
                )
        return notices

    def _log_expired(self, index: int, key: ApiKey, left: int) -> None:
        if self._warned.get(index) == 0:
            return
        self._warned[index] = 0
        log.error(
            "shipstation.key_expired",
            key_label=key.label,
            expires_on=str(key.expires_on),
            days_left=left,
        )
