"""Checks a source's options against its kind while the configuration loads."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from inventory_sync import sources
from inventory_sync.sources.file_options import LOCATION_ERROR


def check_source_options(type_name: str, options: dict[str, Any]) -> list[str]:
    """Return problems as "key: message" strings, keys relative to the source's table."""
    try:
        kind = sources.load_kind(type_name)
    except LookupError:
        known = ", ".join(sources.known_kinds()) or "none installed"
        return [f"type: unknown source kind {type_name!r} (known: {known})"]
    try:
        kind.options_model.model_validate(options)
    except ValidationError as exc:
        return [_describe(error) for error in exc.errors(include_url=False)]
    return []


def _describe(error: Any) -> str:  # noqa: ANN401
    key = ".".join(str(part) for part in error["loc"])
    message = str(error["msg"])
    if error["type"] == "value_error":
        # pydantic's "Value error, " before an option's own sentence says nothing to a person.
        message = message.removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown option (see docs/sources.md)"
    elif error["type"] in {"missing", LOCATION_ERROR}:
        pass  # a location's message never repeats the value: it may hold a password
    elif not isinstance(error.get("input"), dict | list):
        message = f"{message} (got {error.get('input')!r})"
    return f"options.{key}: {message}" if key else f"options: {message}"
