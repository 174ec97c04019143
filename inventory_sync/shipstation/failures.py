"""Turn a non-2xx answer into the project's error, with the facts support needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from inventory_sync.errors import (
    AuthError,
    NotFound,
    PlanError,
    RateLimited,
    RequestRejected,
    ServerError,
    ShipStationError,
    SupportRecord,
)
from inventory_sync.shipstation.support import response_body

# Header names the request id may arrive under; the error body's request_id wins.
_REQUEST_ID_HEADERS = ("x-request-id", "x-shipstation-request-id", "request-id")

PLAN_MESSAGE = (
    "ShipStation answered 402: this account's plan lacks API access, or the Inventory API "
    "add-on is not enabled (Settings > Account > Add-Ons). Retrying will not help."
)


@dataclass(frozen=True, slots=True)
class ErrorFacts:
    """What an error body (or its headers) says, read defensively."""

    request_id: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    message: str | None = None


def request_id_of(response: httpx.Response) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        if name in response.headers:
            return response.headers[name]
    return None


def read_facts(response: httpx.Response) -> ErrorFacts:
    body: Any = response_body(response)
    header_id = request_id_of(response)
    if not isinstance(body, dict):
        return ErrorFacts(request_id=header_id)
    errors = body.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return ErrorFacts(
        request_id=str(body.get("request_id") or header_id or "") or None,
        error_type=first.get("error_type"),
        error_code=first.get("error_code"),
        message=first.get("message"),
    )


def error_for(response: httpx.Response, action: str, support: SupportRecord) -> ShipStationError:
    """The error for a final, non-retried answer."""
    facts = read_facts(response)
    status = response.status_code
    detail = facts.message or response.reason_phrase
    kinds: dict[int, type[ShipStationError]] = {401: AuthError, 402: PlanError, 404: NotFound}
    kind = kinds.get(status)
    if kind is None:
        kind = ServerError if status >= 500 else RequestRejected  # noqa: PLR2004
    message = PLAN_MESSAGE if status == 402 else f"{action} failed with {status}: {detail}"  # noqa: PLR2004
    kwargs: dict[str, Any] = {
        "status_code": status,
        "error_code": facts.error_code,
        "error_type": facts.error_type,
        "request_id": facts.request_id,
        "support": support,
    }
    if status == 429:  # noqa: PLR2004
        return RateLimited(message, retry_after=None, **kwargs)
    return kind(message, **kwargs)
