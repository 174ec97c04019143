"""The support record: what ShipStation support needs about a failed call, key redacted."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx

from inventory_sync.errors import SupportRecord
from inventory_sync.shipstation.keys import REDACTED


def redact(value: Any, secrets: Iterable[str]) -> Any:  # noqa: ANN401
    """Replace every secret anywhere inside strings, lists and dicts."""
    secrets = [s for s in secrets if s]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {redact(k, secrets): redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    return value


def response_body(response: httpx.Response) -> Any:  # noqa: ANN401
    """The answer as JSON when it is JSON, else as text (None when empty)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def build_record(
    *,
    action: str,
    request: httpx.Request,
    body: Any,  # noqa: ANN401
    response: httpx.Response | None,
    request_id: str | None,
    secrets: Iterable[str],
    extra: dict[str, Any] | None = None,
) -> SupportRecord:
    secrets = tuple(secrets)
    return redact_record(
        SupportRecord(
            action=action,
            method=request.method,
            url=str(request.url),
            request_body=body,
            status_code=None if response is None else response.status_code,
            response_body=None if response is None else response_body(response),
            request_id=request_id,
            extra=extra or {},
        ),
        secrets,
    )


def redact_record(record: SupportRecord, secrets: Iterable[str]) -> SupportRecord:
    secrets = tuple(secrets)
    return SupportRecord(
        action=record.action,
        method=record.method,
        url=redact(record.url, secrets),
        request_body=redact(record.request_body, secrets),
        status_code=record.status_code,
        response_body=redact(record.response_body, secrets),
        request_id=record.request_id,
        extra=redact(record.extra, secrets),
    )


def _pretty(value: Any) -> str:  # noqa: ANN401
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, sort_keys=True)


def format_support_record(record: SupportRecord) -> str:
    """A plain-text block ready to paste into an email to ShipStation support."""
    status = "no response (connection failed or dropped)"
    if record.status_code is not None:
        status = str(record.status_code)
    lines = [
        f"API action:   {record.action}",
        f"Endpoint:     {record.method} {record.url}",
        f"Status code:  {status}",
        f"Request ID:   {record.request_id or '(none)'}",
        "",
        "Request body:",
        _pretty(record.request_body),
        "",
        "Response body:",
        _pretty(record.response_body),
    ]
    lines.extend(f"{key}: {value}" for key, value in sorted(record.extra.items()))
    return "\n".join(lines) + "\n"
