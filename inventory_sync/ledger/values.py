"""Conversions shared by both ledgers: UTC instants and bounded text excerpts (stdlib only)."""

from __future__ import annotations

from datetime import UTC, datetime

from inventory_sync.errors import LedgerError

EXCERPT_LIMIT = 4096  # request/response excerpts: enough to debug, bounded so rows stay small
_MARK = "…[truncated]"


def as_utc(value: datetime) -> datetime:
    """Return an aware UTC datetime; naive input is refused because its zone is unknowable."""
    if value.tzinfo is None:
        raise LedgerError(f"naive datetime {value.isoformat()} given to the ledger; use aware UTC")
    return value.astimezone(UTC)


def excerpt(text: str | None, limit: int = EXCERPT_LIMIT) -> str | None:
    """Cut text to at most `limit` characters, marking the cut so nobody mistakes it for whole."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - len(_MARK)] + _MARK
