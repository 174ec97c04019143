"""The one request function: budget, key, send, and every failure turned into a project error."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog

from inventory_sync.backoff import backoff_seconds
from inventory_sync.errors import (
    AuthError,
    ConnectFailed,
    OutcomeUncertain,
    RateLimited,
    ServerError,
    ShipStationError,
    SupportRecord,
    TransportError,
)
from inventory_sync.shipstation.budget import RequestBudget, retry_after_seconds
from inventory_sync.shipstation.failures import error_for, read_facts, request_id_of
from inventory_sync.shipstation.keys import ApiKey, KeyRing
from inventory_sync.shipstation.retry import BACKOFF_CAP_SECONDS, Replay, never_sent
from inventory_sync.shipstation.settings import ClientSettings
from inventory_sync.shipstation.support import build_record

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Call:
    """One logical API call; ``url`` is a path on the base URL or an absolute next-page link."""

    action: str  # the operationId, quoted to support
    method: str
    url: str
    replay: Replay
    params: dict[str, str] | None = None
    body: dict[str, Any] | None = None
    before_send: Callable[[], None] | None = None


@dataclass(slots=True)
class _Attempts:
    transient: int = 0
    rate_limited: int = 0
    waited_seconds: float = 0.0  # the Retry-After pauses honoured, summed
    refused_keys: set[str] = field(default_factory=set)


class Requester:
    """Sends calls with the account's budget and keys, retrying only what is safe to retry."""

    def __init__(
        self,
        http: httpx.Client,
        keys: KeyRing,
        budget: RequestBudget,
        settings: ClientSettings,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._http = http
        self._keys = keys
        self._budget = budget
        self._settings = settings
        self._sleep = sleep
        self._rng = rng or random.Random()

    def send(self, call: Call) -> httpx.Response:
        """Return the 2xx answer, or raise the ShipStationError that describes the failure."""
        attempts = _Attempts()
        while True:
            key = self._keys.current()
            request = self._http.build_request(
                call.method,
                call.url,
                params=call.params,
                json=call.body,
                headers={"API-Key": key.value},
            )
            self._budget.acquire()
            if call.before_send is not None:
                call.before_send()
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                self._after_transport_error(call, request, exc, attempts)
                continue
            if response.is_success:
                self._budget.observe(response.headers)
                return response
            self._after_refusal(call, request, response, key, attempts)

    def _after_transport_error(
        self, call: Call, request: httpx.Request, exc: httpx.TransportError, attempts: _Attempts
    ) -> None:
        """Retry (return) or raise, by whether the request left and whether replay is safe."""
        sent = not never_sent(exc)
        support = self._record(call, request, None, None, {"transport_error": repr(exc)})
        if sent and call.replay is Replay.IF_NOT_SENT:
            raise OutcomeUncertain(
                f"{call.action}: no answer after sending ({type(exc).__name__}); "
                "it may or may not have applied — read back before acting again",
                support=support,
            ) from exc
        if attempts.transient >= self._settings.max_read_retries:
            kind = TransportError if sent else ConnectFailed
            # Name the server: a wrong base_url is the usual cause, and the message says which.
            server = f"{request.url.scheme}://{request.url.netloc.decode()}"
            raise kind(
                f"{call.action}: {type(exc).__name__} after {attempts.transient + 1} attempt(s) "
                f"to {server} ({exc})",
                support=support,
            ) from exc
        self._back_off(call, attempts, reason=type(exc).__name__)

    def _after_refusal(
        self,
        call: Call,
        request: httpx.Request,
        response: httpx.Response,
        key: ApiKey,
        attempts: _Attempts,
    ) -> None:
        self._budget.observe(response.headers)
        status = response.status_code
        if status == 401:  # noqa: PLR2004
            attempts.refused_keys.add(key.value)
            if self._keys.fail_over(key, attempts.refused_keys) is not None:
                return
            raise self._error(call, request, response, "every configured API key was refused")
        if status == 429:  # noqa: PLR2004
            self._wait_out_429(call, request, response, attempts)
            return
        if status >= 500:  # noqa: PLR2004
            self._after_server_error(call, request, response, attempts)
            return
        raise self._error(call, request, response)

    def _wait_out_429(
        self, call: Call, request: httpx.Request, response: httpx.Response, attempts: _Attempts
    ) -> None:
        # A 429 was not applied, so any call may be sent again once the shared pause is over.
        wait = retry_after_seconds(response.headers)
        throttled = self._budget.too_long(wait)
        if throttled:
            # Hold the account's other workers too: none of them sends before the pause ends.
            self._budget.pause(wait)
            log.error("shipstation.throttled", action=call.action, retry_after=wait)
        if throttled or attempts.rate_limited >= self._settings.max_rate_limit_waits:
            error = self._error(call, request, response)
            waited = (
                f"{call.action}: still 429 after waiting {attempts.waited_seconds:.0f} s over "
                f"{attempts.rate_limited} Retry-After pause(s); ShipStation asked for "
                f"{wait:.0f} s more"
            )
            raise error.retyped(
                RateLimited,
                waited,
                retry_after=wait,
                status_code=429,
                waited_seconds=attempts.waited_seconds,
                pauses=attempts.rate_limited,
            )
        attempts.rate_limited += 1
        attempts.waited_seconds += wait
        log.warning("shipstation.rate_limited", action=call.action, retry_after=wait)
        self._budget.pause(wait)

    def _after_server_error(
        self, call: Call, request: httpx.Request, response: httpx.Response, attempts: _Attempts
    ) -> None:
        if call.replay is Replay.IF_NOT_SENT:
            raise self._error(call, request, response).retyped(
                OutcomeUncertain,
                f"{call.action}: ShipStation answered {response.status_code}; the change may "
                "or may not have applied — read back before acting again",
            )
        if attempts.transient >= self._settings.max_read_retries:
            raise self._error(call, request, response).retyped(ServerError)
        self._back_off(call, attempts, reason=str(response.status_code))

    def _back_off(self, call: Call, attempts: _Attempts, *, reason: str) -> None:
        wait = backoff_seconds(
            attempts.transient,
            base=self._settings.retry_base_seconds,
            cap=BACKOFF_CAP_SECONDS,
            rng=self._rng,
        )
        attempts.transient += 1
        log.info(
            "shipstation.request_retried",
            action=call.action,
            attempt=attempts.transient,
            reason=reason,
            wait_seconds=round(wait, 3),
        )
        self._sleep(wait)

    def _record(
        self,
        call: Call,
        request: httpx.Request,
        response: httpx.Response | None,
        request_id: str | None,
        extra: dict[str, Any] | None = None,
    ) -> SupportRecord:
        return build_record(
            action=call.action,
            request=request,
            body=call.body,
            response=response,
            request_id=request_id,
            secrets=self._keys.secrets,
            extra=extra,
        )

    def _error(
        self,
        call: Call,
        request: httpx.Request,
        response: httpx.Response,
        message: str | None = None,
    ) -> ShipStationError:
        facts = read_facts(response)
        support = self._record(call, request, response, facts.request_id or request_id_of(response))
        error = error_for(response, call.action, support)
        if message is not None and isinstance(error, AuthError):
            return error.retyped(AuthError, f"{call.action}: {message} (401)", status_code=401)
        return error
